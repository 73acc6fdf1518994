#include "storage/sql/record_codec.h"

#include <gtest/gtest.h>

#include "storage/sql/query_compiler.h"

namespace zebros::storage::sql {
namespace {

TEST(FoldForSearch, LowerCasesAndRemovesDiacriticsLikeSqlite) {
  EXPECT_EQ(FoldForSearch("Ångström"), "angstrom");
  EXPECT_EQ(FoldForSearch("ØDEGÅRD"), "odegard");
  EXPECT_EQ(FoldForSearch("Über"), "uber");
  EXPECT_EQ(FoldForSearch("Zoë"), "zoe");
  EXPECT_EQ(FoldForSearch("Łódź"), "lodz");
  EXPECT_EQ(FoldForSearch("ŠKODA"), "skoda");
  EXPECT_EQ(FoldForSearch("Ærø"), "æro");  // no base letter: lower-cased, kept
  EXPECT_EQ(FoldForSearch("Œuvre"), "œuvre");
  EXPECT_EQ(FoldForSearch("Straße"), "straße");
  EXPECT_EQ(FoldForSearch("ΑΘΗΝΑ"), "αθηνα");
  EXPECT_EQ(FoldForSearch("МОСКВА Ёж"), "москва ёж");
  EXPECT_EQ(FoldForSearch("ACME42"), "acme42");
}

TEST(FoldForSearch, LeavesOtherScriptsAndBrokenUtf8Alone) {
  EXPECT_EQ(FoldForSearch("東京"), "東京");
  EXPECT_EQ(FoldForSearch("😀x"), "😀x");
  EXPECT_EQ(FoldForSearch(std::string_view("a\xC3", 2)), std::string("a\xC3", 2));
}

TEST(SearchTerms, SplitsLikeTheSqliteTokenizerAndFolds) {
  EXPECT_EQ(SearchTerms("Ada.Lovelace@Example.com"), "ada lovelace example com");
  EXPECT_EQ(SearchTerms("  Zoë  Ångström-Ødegård "), "zoe angstrom odegard");
  EXPECT_EQ(SearchTerms("--"), "");
}

TEST(BuildTsQuery, EveryTermRequiredTheLastAPrefixOnlyWhenStillTyped) {
  EXPECT_EQ(BuildTsQuery("Ada Lov"), "'ada' & 'lov':*");
  EXPECT_EQ(BuildTsQuery("ångström "), "'angstrom'");
  EXPECT_EQ(BuildTsQuery("x@y.com"), "'x' & 'y' & 'com':*");
  EXPECT_EQ(BuildTsQuery("'; DROP TABLE x; --"), "'drop' & 'table' & 'x'");
  EXPECT_EQ(BuildTsQuery("!!"), "");
}

}  // namespace
}  // namespace zebros::storage::sql
