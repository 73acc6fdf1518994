#include "auth/policy.h"

#include <algorithm>

namespace zebros::auth {
namespace {

enum class Area { kSales, kService, kAdmin, kOther };

constexpr std::string_view kSalesObjects[] = {"accounts", "contacts", "leads", "opportunities",
                                              "activities"};
constexpr std::string_view kServiceObjects[] = {"tickets", "comments", "kb_articles"};
constexpr std::string_view kAdminAreas[] = {"schema", "users", "api_keys", "audit_log"};
// Every object and area, in the order the table documents them.
constexpr std::string_view kAllObjects[] = {"accounts",   "contacts", "leads",    "opportunities",
                                            "activities", "tickets",  "comments", "kb_articles",
                                            "schema",     "users",    "api_keys", "audit_log"};
constexpr model::Role kRoles[] = {model::Role::kAdmin, model::Role::kSales, model::Role::kSupport,
                                  model::Role::kReadOnly};

Area AreaOf(std::string_view object) {
  auto in = [object](const auto& list) {
    return std::find(std::begin(list), std::end(list), object) != std::end(list);
  };
  if (in(kSalesObjects)) return Area::kSales;
  if (in(kServiceObjects)) return Area::kService;
  if (in(kAdminAreas)) return Area::kAdmin;
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

std::string RenderPolicyMarkdown() {
  std::string out = "| object |";
  std::string rule = "| --- |";
  for (model::Role role : kRoles) {
    out += " " + std::string(model::RoleName(role)) + " |";
    rule += " --- |";
  }
  out += "\n" + rule + "\n";
  for (std::string_view object : PolicyObjects()) {
    out += "| " + std::string(object) + " |";
    for (model::Role role : kRoles) {
      std::string cell;
      for (Action action : kAllActions) {
        if (!IsAllowed(role, object, action)) continue;
        cell += (cell.empty() ? "" : ", ") + std::string(ActionName(action));
      }
      out += " " + (cell.empty() ? std::string("—") : cell) + " |";
    }
    out += "\n";
  }
  out += "\nPersonal data (fields flagged `pii`):\n\n";
  for (model::Role role : kRoles) {
    out += "- `" + std::string(model::RoleName(role)) + "`: ";
    out += MasksPii(role) ? "sees pii values masked, and may not filter, sort or upsert by pii "
                            "fields; its full-text search does not match pii values.\n"
                          : "sees pii values in clear.\n";
  }
  return out;
}

}  // namespace zebros::auth
