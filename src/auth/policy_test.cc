#include "auth/policy.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace zebros::auth {
namespace {
using model::Role;

constexpr Action kRecordActions[] = {Action::kRead,   Action::kCreate,  Action::kUpdate,
                                     Action::kDelete, Action::kRestore, Action::kExport};
constexpr Action kAllActions[] = {Action::kRead,   Action::kCreate,  Action::kUpdate,
                                  Action::kDelete, Action::kRestore, Action::kExport,
                                  Action::kAdmin};
constexpr Role kAllRoles[] = {Role::kAdmin, Role::kSales, Role::kSupport, Role::kReadOnly};
constexpr std::string_view kRecordObjects[] = {"accounts", "contacts", "leads", "tickets"};
constexpr std::string_view kAdminAreas[] = {"schema", "users", "api_keys", "audit_log"};

// The specified table: for each role and record object, the actions it allows.
std::set<Action> Allowed(Role role, std::string_view object) {
  const std::set<Action> all(std::begin(kRecordActions), std::end(kRecordActions));
  switch (role) {
    case Role::kAdmin:
      return all;
    case Role::kSales:
      if (object == "tickets") return {Action::kRead};
      return all;
    case Role::kSupport:
      if (object == "accounts" || object == "contacts") return {Action::kRead, Action::kUpdate};
      if (object == "leads") return {};
      return all;  // tickets
    case Role::kReadOnly:
      return {Action::kRead};
  }
  return {};
}

std::string Describe(Role role, std::string_view object, Action action) {
  return std::string(model::RoleName(role)) + " " + std::string(ActionName(action)) + " " +
         std::string(object);
}

TEST(PolicyTest, RecordObjectsFollowTheTable) {
  for (Role role : kAllRoles) {
    for (std::string_view object : kRecordObjects) {
      const std::set<Action> allowed = Allowed(role, object);
      for (Action action : kRecordActions) {
        EXPECT_EQ(IsAllowed(role, object, action), allowed.count(action) == 1)
            << Describe(role, object, action);
      }
    }
  }
}

TEST(PolicyTest, OnlyAdminsAdministerAnything) {
  for (Role role : kAllRoles) {
    for (std::string_view area : kAdminAreas) {
      for (Action action : kAllActions) {
        EXPECT_EQ(IsAllowed(role, area, action), role == Role::kAdmin)
            << Describe(role, area, action);
      }
    }
    // The admin action is an admin's, whatever it is applied to.
    for (std::string_view object : kRecordObjects) {
      EXPECT_EQ(IsAllowed(role, object, Action::kAdmin), role == Role::kAdmin)
          << Describe(role, object, Action::kAdmin);
    }
  }
}

TEST(PolicyTest, SchemaAdministrationIsAdminOnly) {
  EXPECT_TRUE(IsAllowed(Role::kAdmin, "schema", Action::kAdmin));
  EXPECT_FALSE(IsAllowed(Role::kSales, "schema", Action::kAdmin));
  EXPECT_FALSE(IsAllowed(Role::kSupport, "schema", Action::kAdmin));
  EXPECT_FALSE(IsAllowed(Role::kReadOnly, "schema", Action::kAdmin));
}

TEST(PolicyTest, ObjectNamesMatchExactly) {
  // Near-misses of a name must not inherit its rights.
  for (std::string_view object : {"Accounts", "account", "accounts ", "", "schema/", "SCHEMA"}) {
    EXPECT_FALSE(IsAllowed(Role::kSupport, object, Action::kDelete)) << object;
    EXPECT_FALSE(IsAllowed(Role::kReadOnly, object, Action::kCreate)) << object;
  }
  EXPECT_FALSE(IsAllowed(Role::kSales, "Schema", Action::kAdmin));
}

TEST(PolicyTest, ActionNames) {
  EXPECT_EQ(ActionName(Action::kRead), "read");
  EXPECT_EQ(ActionName(Action::kCreate), "create");
  EXPECT_EQ(ActionName(Action::kUpdate), "update");
  EXPECT_EQ(ActionName(Action::kDelete), "delete");
  EXPECT_EQ(ActionName(Action::kRestore), "restore");
  EXPECT_EQ(ActionName(Action::kExport), "export");
  EXPECT_EQ(ActionName(Action::kAdmin), "admin");
}

}  // namespace
}  // namespace zebros::auth
