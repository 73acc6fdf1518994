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

}  // namespace zebros::model
