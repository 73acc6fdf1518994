#include "auth/policy.h"

#include <algorithm>

namespace zebros::auth {
namespace {

enum class Area { kSales, kService, kAdmin, kOther };

Area AreaOf(std::string_view object) {
  static constexpr std::string_view kSales[] = {"accounts", "contacts", "leads", "opportunities",
                                                "activities"};
  static constexpr std::string_view kService[] = {"tickets", "comments", "kb_articles"};
  static constexpr std::string_view kAdmin[] = {"schema", "users", "api_keys", "audit_log"};
  auto in = [object](const auto& list) {
    return std::find(std::begin(list), std::end(list), object) != std::end(list);
  };
  if (in(kSales)) return Area::kSales;
  if (in(kService)) return Area::kService;
  if (in(kAdmin)) return Area::kAdmin;
  return Area::kOther;
}

}  // namespace

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
