#include "auth/policy.h"

#include <algorithm>

namespace zebros::auth {
namespace {

enum class Area { kSales, kService, kAdmin, kOther };

constexpr std::string_view kSales[] = {"accounts", "contacts", "leads", "opportunities",
                                       "activities"};
constexpr std::string_view kService[] = {"tickets", "comments", "kb_articles"};
constexpr std::string_view kAdmin[] = {"schema", "users", "api_keys", "audit_log"};
constexpr std::string_view kAllObjects[] = {"accounts",   "contacts", "leads",    "opportunities",
                                            "activities", "tickets",  "comments", "kb_articles",
                                            "schema",     "users",    "api_keys", "audit_log"};

Area AreaOf(std::string_view object) {
  auto in = [object](const auto& list) {
    return std::find(std::begin(list), std::end(list), object) != std::end(list);
  };
  if (in(kSales)) return Area::kSales;
  if (in(kService)) return Area::kService;
  if (in(kAdmin)) return Area::kAdmin;
  return Area::kOther;
}

}  // namespace

std::span<const std::string_view> PolicyObjects() { return kAllObjects; }

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kRead:
      return "read";
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
    case Action::kRestore:
      return "restore";
    case Action::kExport:
      return "export";
    case Action::kAdmin:
      return "admin";
  }
  return "read";
}

bool IsAllowed(model::Role role, std::string_view object, Action action) {
  const Area area = AreaOf(object);
  if (role == model::Role::kAdmin) return true;
  if (area == Area::kAdmin || action == Action::kAdmin) return false;
  switch (role) {
    case model::Role::kSales:
      if (area == Area::kSales) return true;
      return action == Action::kRead;
    case model::Role::kSupport:
      if (area == Area::kService) return true;
      if (object == "accounts" || object == "contacts") {
        return action == Action::kRead || action == Action::kUpdate;
      }
      if (object == "leads" || object == "opportunities") return false;
      return action == Action::kRead;
    case model::Role::kReadOnly:
      return action == Action::kRead;
    case model::Role::kAdmin:
      return true;
  }
  return false;
}

bool MasksPii(model::Role role) { return role == model::Role::kReadOnly; }

}  // namespace zebros::auth
