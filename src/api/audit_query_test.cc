#include "api/audit_query.h"

#include <gtest/gtest.h>

namespace zebros::api {
namespace {

TEST(AuditQueryTest, ReadsEveryFilter) {
  auto query = ParseAuditQuery(
      "object=contacts&record_id=con_1&actor=key%3Aabc&action=record.update"
      "&since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00%2B01:00&cursor=abc&limit=7",
      AuditScope::kTenant);
  ASSERT_TRUE(query.ok()) << query.error().public_message;
  EXPECT_EQ(query->object, "contacts");
  EXPECT_EQ(query->record_id, "con_1");
  EXPECT_EQ(query->actor, "key:abc");
  EXPECT_EQ(query->action, "record.update");
  EXPECT_EQ(query->since, 1767225600000);
  EXPECT_EQ(query->until, 1767225600000 + 23 * 3600000LL);
  EXPECT_EQ(query->cursor, "abc");
  EXPECT_EQ(query->limit, 7);
}

TEST(AuditQueryTest, DefaultsToFiftyAndNoFilters) {
  auto query = ParseAuditQuery("", AuditScope::kTenant);
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->limit, 50);
  EXPECT_FALSE(query->since.has_value());
  EXPECT_TRUE(query->object.empty());
}

TEST(AuditQueryTest, RejectsBadParameters) {
  for (const char* bad :
       {"since=yesterday", "until=2026-13-01T00:00:00Z", "limit=0", "limit=501", "limit=x",
        "colour=red", "object=%zz", "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z"}) {
    auto query = ParseAuditQuery(bad, AuditScope::kTenant);
    ASSERT_FALSE(query.ok()) << bad;
    EXPECT_EQ(query.error().problem_code, "invalid_parameter") << bad;
  }
}

TEST(AuditQueryTest, HistoryTakesNoTargetParameters) {
  EXPECT_FALSE(ParseAuditQuery("record_id=con_1", AuditScope::kRecord).ok());
  EXPECT_FALSE(ParseAuditQuery("object=leads", AuditScope::kRecord).ok());
  EXPECT_TRUE(ParseAuditQuery("action=record.update&limit=3", AuditScope::kRecord).ok());
}

}  // namespace
}  // namespace zebros::api
