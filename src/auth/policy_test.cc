#include "auth/policy.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
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

TEST(PolicyTest, RenderedTableListsEveryRowWithItsAllowedActions) {
  const std::string table = RenderPolicyMarkdown();
  EXPECT_EQ(table.rfind("| object | admin | sales | support | read_only |\n", 0), 0u) << table;
  EXPECT_NE(table.find("| accounts | read, create, update, delete, restore, export, admin | "
                       "read, create, update, delete, restore, export | read, update | read |\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| leads | read, create, update, delete, restore, export, admin | "
                       "read, create, update, delete, restore, export | — | read |\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| schema | read, create, update, delete, restore, export, admin | — | — | "
                       "— |\n"),
            std::string::npos)
      << table;
  for (std::string_view row :
       {"accounts", "contacts", "leads", "opportunities", "activities", "tickets", "comments",
        "kb_articles", "schema", "users", "api_keys", "audit_log"}) {
    EXPECT_NE(table.find("\n| " + std::string(row) + " |"), std::string::npos) << row;
  }
  EXPECT_NE(table.find("- `read_only`: sees pii values masked"), std::string::npos) << table;
  EXPECT_NE(table.find("- `support`: sees pii values in clear."), std::string::npos) << table;
}

// docs/security.md carries the rendered policy between two markers; regenerate it with
// `zebros admin print-policy` when the policy changes.
TEST(PolicyTest, SecurityDocHoldsExactlyTheRenderedPolicy) {
  std::ifstream file(ZEBROS_SECURITY_DOC);
  ASSERT_TRUE(file.good()) << "cannot read " << ZEBROS_SECURITY_DOC;
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string doc = buffer.str();
  const std::string begin = "<!-- BEGIN zebros admin print-policy -->\n";
  const std::string end = "<!-- END zebros admin print-policy -->";
  const auto first = doc.find(begin);
  ASSERT_NE(first, std::string::npos) << "no begin marker in " << ZEBROS_SECURITY_DOC;
  const auto last = doc.find(end, first);
  ASSERT_NE(last, std::string::npos) << "no end marker in " << ZEBROS_SECURITY_DOC;
  EXPECT_EQ(doc.substr(first + begin.size(), last - first - begin.size()), RenderPolicyMarkdown())
      << "docs/security.md is out of date: replace the generated section with the output of "
         "`zebros admin print-policy`";
}

}  // namespace
}  // namespace zebros::auth
