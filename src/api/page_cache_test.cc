#include "api/page_cache.h"

#include <gtest/gtest.h>

namespace zebros::api {
namespace {

model::ObjectTypePtr Type(const std::string& name) {
  auto type = std::make_shared<model::ObjectType>();
  type->name = name;
  return type;
}

TEST(PageCacheTest, AnswersAStoredPageAtItsGenerationAndSchemaOnly) {
  PageCache cache(1 << 20);
  auto contacts = Type("contacts");
  cache.Store("k", 7, contacts, "{\"data\":[]}");
  EXPECT_EQ(cache.Find("k", 7, contacts), "{\"data\":[]}");
  EXPECT_FALSE(cache.Find("other", 7, contacts));
  // Another snapshot of the same schema (a custom field added): the page may lack the field.
  EXPECT_FALSE(cache.Find("k", 7, Type("contacts")));
  // The miss dropped it; a write moves the generation on, which is a miss as well.
  cache.Store("k", 7, contacts, "page");
  EXPECT_FALSE(cache.Find("k", 8, contacts));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(PageCacheTest, AnOlderReadNeverReplacesANewerPage) {
  PageCache cache(1 << 20);
  auto contacts = Type("contacts");
  cache.Store("k", 9, contacts, "new");
  cache.Store("k", 8, contacts, "old");
  EXPECT_EQ(cache.Find("k", 9, contacts), "new");
  cache.Store("k", 10, contacts, "newer");
  EXPECT_EQ(cache.Find("k", 10, contacts), "newer");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(PageCacheTest, EvictsTheLeastRecentlyUsedPagesPastItsBudget) {
  PageCache cache(8000);
  auto type = Type("leads");
  const std::string body(900, 'x');  // 901 bytes with its key: about 8 fit
  for (int i = 0; i < 8; ++i) cache.Store(std::to_string(i), 1, type, body);
  ASSERT_TRUE(cache.Find("0", 1, type));  // now the most recently used
  cache.Store("8", 1, type, body);
  EXPECT_LE(cache.bytes(), 8000u);
  EXPECT_TRUE(cache.Find("0", 1, type));
  EXPECT_FALSE(cache.Find("1", 1, type));  // the least recently used went first
  EXPECT_TRUE(cache.Find("8", 1, type));
}

TEST(PageCacheTest, KeepsNoPageLargerThanAnEighthOfItsBudget) {
  PageCache cache(8000);
  auto type = Type("leads");
  cache.Store("big", 1, type, std::string(1001, 'x'));
  EXPECT_FALSE(cache.Find("big", 1, type));
  EXPECT_EQ(cache.bytes(), 0u);
}

}  // namespace
}  // namespace zebros::api
