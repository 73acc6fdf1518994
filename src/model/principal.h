#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zebros::model {

enum class Role { kAdmin, kSales, kSupport, kReadOnly };

std::string_view RoleName(Role role);
bool ParseRole(std::string_view name, Role& role);

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
  // Whether this caller sees personal data masked (decided by auth's policy from the role).
  bool mask_pii = false;
  // Where the call came from, for the audit log. Never used to decide access.
  std::string request_id;
  std::string client_ip;
};

}  // namespace zebros::model
