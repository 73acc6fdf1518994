#include "api/query_parsing.h"

#include <gtest/gtest.h>

#include <string>

#include "core/json.h"

namespace zebros::api {
namespace {
namespace json = boost::json;
using model::FilterNode;
using model::FilterOp;

void ExpectRejected(std::string_view query_string, std::string_view problem_code) {
  auto query = ParseListQuery(query_string);
  ASSERT_FALSE(query.ok()) << query_string;
  EXPECT_EQ(query.error().code, core::Code::kBadRequest) << query_string;
  EXPECT_EQ(query.error().problem_code, problem_code) << query_string;
}

// The single condition a query string produced.
model::Condition OnlyCondition(std::string_view query_string) {
  auto query = ParseListQuery(query_string);
  EXPECT_TRUE(query.ok()) << query_string << ": " << query.error().public_message;
  if (!query.ok() || !query->filter) return {};
  EXPECT_EQ(query->filter->kind, FilterNode::Kind::kAnd);
  EXPECT_EQ(query->filter->children.size(), 1u);
  if (query->filter->children.empty()) return {};
  EXPECT_EQ(query->filter->children[0].kind, FilterNode::Kind::kCondition);
  return query->filter->children[0].condition;
}

TEST(ParseListQueryTest, EmptyQueryGivesDefaults) {
  for (std::string_view text : {"", "&", "&&&"}) {
    auto query = ParseListQuery(text);
    ASSERT_TRUE(query.ok()) << text;
    EXPECT_EQ(query->limit, model::kDefaultPageSize);
    EXPECT_FALSE(query->filter.has_value());
    EXPECT_TRUE(query->sort.empty());
    EXPECT_TRUE(query->text.empty());
    EXPECT_TRUE(query->cursor.empty());
  }
}

TEST(ParseListQueryTest, FiltersWithRawOrEncodedBrackets) {
  for (std::string_view text :
       {"filter[email]=ada%40example.com", "filter%5Bemail%5D=ada%40example.com",
        "filter%5bemail%5d=ada@example.com", "filter[email%5D=ada@example.com"}) {
    auto condition = OnlyCondition(text);
    EXPECT_EQ(condition.field, "email") << text;
    EXPECT_EQ(condition.op, FilterOp::kEq) << text;
    EXPECT_EQ(condition.value, "ada@example.com") << text;
  }
  for (std::string_view text : {"filter[score][gte]=10", "filter%5Bscore%5D%5Bgte%5D=10"}) {
    auto condition = OnlyCondition(text);
    EXPECT_EQ(condition.field, "score") << text;
    EXPECT_EQ(condition.op, FilterOp::kGte) << text;
    EXPECT_EQ(condition.value, "10") << text;  // typed later, by the domain
  }
}

TEST(ParseListQueryTest, EveryOperatorByName) {
  const std::pair<const char*, FilterOp> ops[] = {
      {"eq", FilterOp::kEq},
      {"ne", FilterOp::kNe},
      {"lt", FilterOp::kLt},
      {"lte", FilterOp::kLte},
      {"gt", FilterOp::kGt},
      {"gte", FilterOp::kGte},
      {"in", FilterOp::kIn},
      {"contains", FilterOp::kContains},
      {"starts_with", FilterOp::kStartsWith},
      {"is_null", FilterOp::kIsNull},
  };
  for (const auto& [name, op] : ops) {
    EXPECT_EQ(OnlyCondition("filter[f][" + std::string(name) + "]=v").op, op) << name;
  }
  EXPECT_EQ(OnlyCondition("filter[status][in]=new,working").value, "new,working");
  ExpectRejected("filter[f][like]=v", "invalid_filter");
  ExpectRejected("filter[f][EQ]=v", "invalid_filter");
  ExpectRejected("filter[f][eq ]=v", "invalid_filter");
}

TEST(ParseListQueryTest, DecodesValuesPlusAsSpace) {
  EXPECT_EQ(OnlyCondition("filter[last_name]=van+der+Berg").value, "van der Berg");
  EXPECT_EQ(OnlyCondition("filter[last_name]=a%2Bb").value, "a+b");
  EXPECT_EQ(OnlyCondition("filter[last_name]=%C3%A9").value, "\xC3\xA9");
  EXPECT_EQ(OnlyCondition("filter[last_name]=").value, "");
  EXPECT_EQ(OnlyCondition("filter[last_name]=a=b").value, "a=b");  // only the first '=' splits
  EXPECT_EQ(OnlyCondition("filter[last_name]=%26%3D").value, "&=");
  auto query = ParseListQuery("q=ada+love%20lace&cursor=abc%2D_&limit=25");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->text, "ada love lace");
  EXPECT_EQ(query->cursor, "abc-_");
  EXPECT_EQ(query->limit, 25);
}

TEST(ParseListQueryTest, SeveralFiltersAreAndedInOrder) {
  auto query = ParseListQuery("filter[a]=1&sort=-b&filter[c][ne]=2&filter[a][lt]=3");
  ASSERT_TRUE(query.ok());
  ASSERT_TRUE(query->filter.has_value());
  ASSERT_EQ(query->filter->children.size(), 3u);
  EXPECT_EQ(query->filter->children[0].condition.field, "a");
  EXPECT_EQ(query->filter->children[1].condition.field, "c");
  EXPECT_EQ(query->filter->children[1].condition.op, FilterOp::kNe);
  EXPECT_EQ(query->filter->children[2].condition.op, FilterOp::kLt);
}

TEST(ParseListQueryTest, Sort) {
  auto query = ParseListQuery("sort=-created_at,last_name,%2Bscore");
  ASSERT_TRUE(query.ok());
  ASSERT_EQ(query->sort.size(), 3u);
  EXPECT_EQ(query->sort[0].field, "created_at");
  EXPECT_TRUE(query->sort[0].descending);
  EXPECT_EQ(query->sort[1].field, "last_name");
  EXPECT_FALSE(query->sort[1].descending);
  EXPECT_EQ(query->sort[2].field, "score");
  EXPECT_FALSE(query->sort[2].descending);
  for (std::string_view text : {"sort=-", "sort=%2B", "sort=a,,b", "sort=,a"}) {
    ExpectRejected(text, "invalid_filter");
  }
  // Only one sign is read: "--a" is field "-a" descending, which the domain rejects as unknown.
  auto doubled = ParseListQuery("sort=--a");
  ASSERT_TRUE(doubled.ok());
  EXPECT_EQ(doubled->sort[0].field, "-a");
}

TEST(ParseListQueryTest, LimitBounds) {
  EXPECT_EQ(ParseListQuery("limit=1")->limit, 1);
  EXPECT_EQ(ParseListQuery("limit=500")->limit, 500);
  for (std::string_view text : {"limit=0", "limit=501", "limit=-1", "limit=", "limit", "limit=abc",
                                "limit=10x", "limit=1.5", "limit=%2B5", "limit=+5", "limit= 5",
                                "limit=99999999999999999999", "limit=0x10"}) {
    ExpectRejected(text, "invalid_parameter");
  }
}

TEST(ParseListQueryTest, BadPercentEscapes) {
  for (std::string_view text : {"q=%", "q=%4", "q=%zz", "q=%G1", "q=a%", "q=%%41", "filter[a]=%2",
                                "%=1", "q%=1", "filter%5=1"}) {
    ExpectRejected(text, "invalid_parameter");
  }
  // A valid escape at the very end is fine.
  EXPECT_EQ(ParseListQuery("q=ab%41")->text, "abA");
}

TEST(ParseListQueryTest, UnknownParameters) {
  for (std::string_view text : {"page=2", "Limit=5", "filters[a]=1", "q[]=x", "=x", "foo"}) {
    ExpectRejected(text, "invalid_parameter");
  }
}

TEST(ParseListQueryTest, MalformedFilterKeys) {
  for (std::string_view text :
       {"filter[]=x", "filter[=x", "filter[a=x", "filter[a]x=1", "filter[a][]=1", "filter[a][eq=1",
        "filter[a]eq]=1", "filter[a][eq]x=1", "filter[a][eq][ne]=1", "filter%5B%5D=x"}) {
    ExpectRejected(text, "invalid_filter");
  }
}

TEST(ParseListQueryTest, TooManyParameters) {
  std::string text;
  for (int i = 0; i < 101; ++i) text += "filter[f" + std::to_string(i) + "]=1&";
  ExpectRejected(text, "invalid_parameter");
  text.clear();
  for (int i = 0; i < 100; ++i) text += "filter[f" + std::to_string(i) + "]=1&";
  EXPECT_TRUE(ParseListQuery(text).ok());
}

TEST(PercentDecodeTest, PlusOnlyWhenAsked) {
  EXPECT_EQ(PercentDecode("a+b%20c", true), "a b c");
  EXPECT_EQ(PercentDecode("a+b%20c", false), "a+b c");
  EXPECT_EQ(PercentDecode("%00", false), std::string(1, '\0'));
  EXPECT_FALSE(PercentDecode("%", false).has_value());
}

json::object Body(std::string_view text) {
  core::JsonLimits deep_enough;
  deep_enough.max_depth = 100;  // the parser, not the JSON reader, must refuse deep filters
  return core::ParseJson(text, deep_enough).value().as_object();
}

void ExpectSearchRejected(std::string_view body, std::string_view problem_code) {
  auto query = ParseSearchBody(Body(body));
  ASSERT_FALSE(query.ok()) << body;
  EXPECT_EQ(query.error().code, core::Code::kBadRequest) << body;
  EXPECT_EQ(query.error().problem_code, problem_code) << body;
}

TEST(ParseSearchBodyTest, ReadsANestedTree) {
  auto query = ParseSearchBody(Body(R"({
    "filter": {"and": [
      {"field": "status", "op": "in", "value": ["new", "working"]},
      {"or": [{"field": "score", "op": "gte", "value": 50},
              {"field": "email", "op": "is_null"},
              {"and": []}]},
      {"field": "company", "value": "Acme"}]},
    "q": "ada", "sort": [{"field": "score", "dir": "desc"}, {"field": "last_name"}],
    "limit": 20, "cursor": "abc"})"));
  ASSERT_TRUE(query.ok()) << query.error().public_message;
  ASSERT_TRUE(query->filter.has_value());
  const FilterNode& root = *query->filter;
  EXPECT_EQ(root.kind, FilterNode::Kind::kAnd);
  ASSERT_EQ(root.children.size(), 3u);
  EXPECT_EQ(root.children[0].condition.op, FilterOp::kIn);
  EXPECT_EQ(root.children[0].condition.value, (json::value(json::array{"new", "working"})));
  const FilterNode& either = root.children[1];
  EXPECT_EQ(either.kind, FilterNode::Kind::kOr);
  ASSERT_EQ(either.children.size(), 3u);
  EXPECT_EQ(either.children[0].condition.value, 50);  // JSON values keep their type
  EXPECT_EQ(either.children[1].condition.op, FilterOp::kIsNull);
  EXPECT_EQ(either.children[1].condition.value, true);  // is_null defaults to true
  EXPECT_EQ(either.children[2].kind, FilterNode::Kind::kAnd);
  EXPECT_TRUE(either.children[2].children.empty());
  EXPECT_EQ(root.children[2].condition.op, FilterOp::kEq);  // eq by default
  EXPECT_EQ(query->text, "ada");
  ASSERT_EQ(query->sort.size(), 2u);
  EXPECT_TRUE(query->sort[0].descending);
  EXPECT_FALSE(query->sort[1].descending);
  EXPECT_EQ(query->limit, 20);
  EXPECT_EQ(query->cursor, "abc");
}

TEST(ParseSearchBodyTest, NullsAndEmptyBodyMeanDefaults) {
  auto query = ParseSearchBody(Body(R"({"filter":null,"q":null,"sort":null,"limit":null})"));
  ASSERT_TRUE(query.ok());
  EXPECT_FALSE(query->filter.has_value());
  EXPECT_EQ(query->limit, model::kDefaultPageSize);
  EXPECT_TRUE(ParseSearchBody(json::object{}).ok());
}

TEST(ParseSearchBodyTest, RejectsBadFilterShapes) {
  for (std::string_view body : {
           R"({"filter":"status=new"})",
           R"({"filter":[]})",
           R"({"filter":1})",
           R"({"filter":{}})",  // no field
           R"({"filter":{"and":{}}})",
           R"({"filter":{"and":[1]}})",
           R"({"filter":{"and":[],"or":[]}})",
           R"({"filter":{"and":[],"field":"a"}})",
           R"({"filter":{"field":1,"value":1}})",
           R"({"filter":{"field":"a","op":"like","value":1}})",
           R"({"filter":{"field":"a","op":5,"value":1}})",
           R"({"filter":{"field":"a","op":"eq"}})",
           R"({"filter":{"field":"a","value":1,"extra":2}})",
           R"({"filter":{"or":[{"and":[{"field":"a"}]}]}})",
       }) {
    ExpectSearchRejected(body, "invalid_filter");
  }
  std::string deep = R"({"field":"a","value":1})";
  for (int i = 0; i < 20; ++i) deep = R"({"and":[)" + deep + "]}";
  ExpectSearchRejected(R"({"filter":)" + deep + "}", "invalid_filter");
}

TEST(ParseSearchBodyTest, RejectsBadTopLevelMembers) {
  for (std::string_view body :
       {R"({"q":5})", R"({"q":["a"]})", R"({"sort":"name"})", R"({"limit":0})", R"({"limit":501})",
        R"({"limit":"10"})", R"({"limit":10.5})", R"({"limit":18446744073709551615})",
        R"({"cursor":5})", R"({"page":2})", R"({"Filter":{}})"}) {
    ExpectSearchRejected(body, "invalid_parameter");
  }
  for (std::string_view body :
       {R"({"sort":["name"]})", R"({"sort":[{"dir":"asc"}]})",
        R"({"sort":[{"field":"a","dir":"up"}]})", R"({"sort":[{"field":"a","dir":1}]})",
        R"({"sort":[{"field":2}]})"}) {
    ExpectSearchRejected(body, "invalid_filter");
  }
}

}  // namespace
}  // namespace zebros::api
