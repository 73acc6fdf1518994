#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zebros::model {

enum class Role { kAdmin, kSales, kSupport, kReadOnly };

std::string_view RoleName(Role role);
bool ParseRole(std::string_view name, Role& role);

// Which records of an object a role sees: all of the tenant's, those owned (`owner_id`) by a
// member of one of the caller's teams, or the caller's own.
enum class RecordScope { kAll, kTeam, kOwn };

std::string_view RecordScopeName(RecordScope scope);
bool ParseRecordScope(std::string_view name, RecordScope& scope);

struct ScopeRule {
  std::string object;
  RecordScope scope = RecordScope::kAll;
};

// Who is calling. Built only by auth/ from a verified credential; every storage call is scoped
// to `tenant_id` and no request input can change it.
struct Principal {
  std::string tenant_id;
  std::string tenant_name;
  std::string subject;  // "key:<id>" for API keys, the token's sub for users
  Role role = Role::kReadOnly;
  // The tenant's small sequence number (from 1): its records' storage keys live in a range of
  // their own, so a search index can keep to one tenant by key range.
  std::int64_t tenant_number = 0;
  // The user behind the credential (a `usr_…` id); empty for API keys. Record scopes `own` and
  // `team` are decided by it.
  std::string user_id;
  // Objects whose records the caller sees only in part (see RecordScope); objects not listed are
  // seen whole. Storage applies these to every read, list, search and write.
  std::vector<ScopeRule> scopes;
  // The users whose records a `team` scope shows: the caller and everyone who shares a team.
  std::vector<std::string> team_user_ids;
  // Whether this caller sees personal data masked (decided by auth's policy from the role).
  bool mask_pii = false;
  // Where the call came from, for the audit log. Never used to decide access.
  std::string request_id;
  std::string client_ip;

  RecordScope ScopeFor(std::string_view object) const;
  // The owner ids visible under ScopeFor(object); meaningless for kAll.
  std::vector<std::string> VisibleOwners(std::string_view object) const;
};

}  // namespace zebros::model
