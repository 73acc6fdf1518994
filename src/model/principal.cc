#include "model/principal.h"

namespace zebros::model {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kSales:
      return "sales";
    case Role::kSupport:
      return "support";
    case Role::kReadOnly:
      return "read_only";
  }
  return "read_only";
}

bool ParseRole(std::string_view name, Role& role) {
  for (Role candidate : {Role::kAdmin, Role::kSales, Role::kSupport, Role::kReadOnly}) {
    if (RoleName(candidate) == name) {
      role = candidate;
      return true;
    }
  }
  return false;
}

std::string_view RecordScopeName(RecordScope scope) {
  switch (scope) {
    case RecordScope::kAll:
      return "all";
    case RecordScope::kTeam:
      return "team";
    case RecordScope::kOwn:
      return "own";
  }
  return "all";
}

bool ParseRecordScope(std::string_view name, RecordScope& scope) {
  for (RecordScope candidate : {RecordScope::kAll, RecordScope::kTeam, RecordScope::kOwn}) {
    if (RecordScopeName(candidate) == name) {
      scope = candidate;
      return true;
    }
  }
  return false;
}

RecordScope Principal::ScopeFor(std::string_view object) const {
  for (const auto& rule : scopes) {
    if (rule.object == object) return rule.scope;
  }
  return RecordScope::kAll;
}

std::vector<std::string> Principal::VisibleOwners(std::string_view object) const {
  // An API key has no user: under `own` or `team` it sees no records, not every record.
  std::vector<std::string> owners;
  if (user_id.empty()) return owners;
  owners.push_back(user_id);
  if (ScopeFor(object) == RecordScope::kTeam) {
    for (const auto& id : team_user_ids) {
      if (id != user_id) owners.push_back(id);
    }
  }
  return owners;
}

}  // namespace zebros::model
