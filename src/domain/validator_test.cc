#include "domain/validator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/json.h"
#include "domain/builtin_schemas.h"

namespace zebros::domain {
namespace {
namespace json = boost::json;
using model::FilterNode;
using model::FilterOp;

const model::ObjectType& Type(std::string_view name) {
  for (const auto& type : BuiltinObjectTypes()) {
    if (type->name == name) return *type;
  }
  throw std::logic_error("no built-in type " + std::string(name));
}
const model::ObjectType& Contacts() { return Type("contacts"); }
const model::ObjectType& Leads() { return Type("leads"); }
const model::ObjectType& Accounts() { return Type("accounts"); }

json::object Body(std::string_view text) { return core::ParseJson(text).value().as_object(); }

// Asserts `result` failed validation with exactly the listed (field, code) pairs, in any order.
template <typename T>
void ExpectFieldErrors(const core::Result<T>& result,
                       std::vector<std::pair<std::string, std::string>> expected) {
  ASSERT_FALSE(result.ok()) << "accepted: " << core::WriteJson(json::value(result.value()));
  EXPECT_EQ(result.error().code, core::Code::kValidation);
  EXPECT_EQ(result.error().problem_code, "validation_failed");
  std::vector<std::pair<std::string, std::string>> actual;
  for (const auto& error : result.error().field_errors)
    actual.emplace_back(error.field, error.code);
  std::sort(actual.begin(), actual.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(actual, expected);
}

// A contact body with one extra member, to check a single field's value.
core::Result<json::object> CreateContactWith(std::string_view member) {
  return ValidateCreate(Contacts(), Body(R"({"first_name":"Ada",)" + std::string(member) + "}"));
}

TEST(ValidateCreateTest, AcceptsAndNormalisesAFullContact) {
  auto values = ValidateCreate(Contacts(), Body(R"({
    "first_name":"Ada","last_name":"Lovelace","email":"Ada.Lovelace@Example.COM",
    "phone":"+44 (20) 7946-0958","do_not_email":true,"date_of_birth":"1815-12-10",
    "last_contacted_at":"2026-01-31T11:30:00+02:00","lifecycle_stage":"customer",
    "tags":["vip","beta","vip","beta","new"],"account_id":"acc_01HZY8X6P0V3Q7K9M2N4R5T6W8"})"));
  ASSERT_TRUE(values.ok()) << values.error().field_errors.front().field;
  EXPECT_EQ(values->at("email"), "ada.lovelace@example.com");
  EXPECT_EQ(values->at("last_contacted_at"), "2026-01-31T09:30:00.000Z");
  EXPECT_EQ(values->at("tags"), (json::array{"vip", "beta", "new"}));
  EXPECT_EQ(values->at("do_not_email"), true);
  EXPECT_EQ(values->at("phone"), "+44 (20) 7946-0958");
  EXPECT_FALSE(values->contains("notes"));  // absent stays absent
}

TEST(ValidateCreateTest, RejectsUnknownFields) {
  ExpectFieldErrors(CreateContactWith(R"("nickname":"Ada")"), {{"nickname", "unknown_field"}});
  ExpectFieldErrors(CreateContactWith(R"("First_Name":"Ada")"), {{"First_Name", "unknown_field"}});
  ExpectFieldErrors(CreateContactWith(R"("":"x")"), {{"", "unknown_field"}});
}

TEST(ValidateCreateTest, RejectsServerOwnedFieldsOnCreateAndPatch) {
  for (const char* name :
       {"id", "tenant_id", "created_at", "updated_at", "created_by", "version", "deleted_at"}) {
    const std::string member = "\"" + std::string(name) + "\":\"x\"";
    ExpectFieldErrors(CreateContactWith(member), {{name, "read_only_field"}});
    ExpectFieldErrors(ValidatePatch(Contacts(), Body("{" + member + "}")),
                      {{name, "read_only_field"}});
    // Null does not sneak past either.
    ExpectFieldErrors(ValidatePatch(Contacts(), Body("{\"" + std::string(name) + "\":null}")),
                      {{name, "read_only_field"}});
  }
}

TEST(ValidateCreateTest, RejectsWrongTypes) {
  ExpectFieldErrors(CreateContactWith(R"("last_name":5)"), {{"last_name", "invalid_type"}});
  ExpectFieldErrors(CreateContactWith(R"("last_name":["x"])"), {{"last_name", "invalid_type"}});
  ExpectFieldErrors(CreateContactWith(R"("do_not_email":"true")"),
                    {{"do_not_email", "invalid_type"}});
  ExpectFieldErrors(CreateContactWith(R"("do_not_email":1)"), {{"do_not_email", "invalid_type"}});
  ExpectFieldErrors(CreateContactWith(R"("tags":"vip")"), {{"tags", "invalid_type"}});
  ExpectFieldErrors(CreateContactWith(R"("tags":[1])"), {{"tags", "invalid_type"}});
  ExpectFieldErrors(CreateContactWith(R"("tags":[""])"), {{"tags", "invalid_type"}});
  ExpectFieldErrors(CreateContactWith(R"("account_id":7)"), {{"account_id", "invalid_type"}});
  ExpectFieldErrors(CreateContactWith(R"("account_id":"")"), {{"account_id", "invalid_reference"}});
  auto account = [](std::string_view member) {
    return ValidateCreate(Accounts(), Body(R"({"name":"Acme",)" + std::string(member) + "}"));
  };
  ExpectFieldErrors(account(R"("employees":1.5)"), {{"employees", "invalid_type"}});
  ExpectFieldErrors(account(R"("employees":"12")"), {{"employees", "invalid_type"}});
  ExpectFieldErrors(account(R"("employees":18446744073709551615)"),
                    {{"employees", "invalid_type"}});
  ExpectFieldErrors(account(R"("annual_revenue":"12")"), {{"annual_revenue", "invalid_type"}});
  ExpectFieldErrors(account(R"("annual_revenue":true)"), {{"annual_revenue", "invalid_type"}});
  ExpectFieldErrors(account(R"("annual_revenue":1e16)"), {{"annual_revenue", "out_of_range"}});
  ExpectFieldErrors(ValidateCreate(Accounts(), Body(R"({"name":{"x":1}})")),
                    {{"name", "invalid_type"}});
}

TEST(ValidateCreateTest, RejectsValuesOutsideAnEnum) {
  ExpectFieldErrors(CreateContactWith(R"("lifecycle_stage":"champion")"),
                    {{"lifecycle_stage", "invalid_enum"}});
  ExpectFieldErrors(CreateContactWith(R"("lifecycle_stage":"Customer")"),
                    {{"lifecycle_stage", "invalid_enum"}});
  ExpectFieldErrors(CreateContactWith(R"("lifecycle_stage":"")"),
                    {{"lifecycle_stage", "invalid_enum"}});
}

TEST(ValidateCreateTest, ChecksEmailPhoneUrlDateAndDatetimeShapes) {
  for (const char* email :
       {"ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "a@b@example.com",
        ".ada@example.com", "ada.@example.com", "a..da@example.com", "ada@-example.com",
        "ada@example-.com", "ada@exa mple.com", "a da@example.com", "ada@example..com",
        "<ada>@example.com", "ada@example.com\n"}) {
    ExpectFieldErrors(CreateContactWith(R"("email":)" + core::WriteJson(json::value(email))),
                      {{"email", "invalid_email"}});
  }
  for (const char* phone : {"call me", "12", "+", "1+2345", "555 0100 ext. 9", "(555) 0100#"}) {
    ExpectFieldErrors(CreateContactWith(R"("phone":)" + core::WriteJson(json::value(phone))),
                      {{"phone", "invalid_phone"}});
  }
  EXPECT_TRUE(CreateContactWith(R"("phone":"555.0100")").ok());
  auto website = [](const char* url) {
    return ValidateCreate(
        Accounts(), Body(R"({"name":"Acme","website":)" + core::WriteJson(json::value(url)) + "}"));
  };
  for (const char* url : {"example.com", "ftp://example.com", "http://", "https://",
                          "https:///path", "javascript:alert(1)", "https://exa mple.com",
                          "HTTPS//example.com", "https://example.com/\x01"}) {
    ExpectFieldErrors(website(url), {{"website", "invalid_url"}});
  }
  EXPECT_TRUE(website("https://example.com/path?q=1#top").ok());
  EXPECT_TRUE(website("http://localhost:8080").ok());
  for (const char* date : {"2023-02-29", "2024-13-01", "1815-12-10T00:00:00Z", "10/12/1815", ""}) {
    ExpectFieldErrors(CreateContactWith(R"("date_of_birth":)" + core::WriteJson(json::value(date))),
                      {{"date_of_birth", "invalid_date"}});
  }
  EXPECT_TRUE(CreateContactWith(R"("date_of_birth":"2024-02-29")").ok());
  for (const char* datetime : {"yesterday", "2026-01-31", "2026-01-31T09:30:00",
                               "2026-01-31 09:30:00Z", "1769851800000"}) {
    ExpectFieldErrors(
        CreateContactWith(R"("last_contacted_at":)" + core::WriteJson(json::value(datetime))),
        {{"last_contacted_at", "invalid_datetime"}});
  }
  ExpectFieldErrors(CreateContactWith(R"("last_contacted_at":1769851800000)"),
                    {{"last_contacted_at", "invalid_type"}});
}

TEST(ValidateCreateTest, EnforcesMaximumLengthsInCharacters) {
  EXPECT_TRUE(CreateContactWith(R"("last_name":")" + std::string(100, 'x') + "\"").ok());
  ExpectFieldErrors(CreateContactWith(R"("last_name":")" + std::string(101, 'x') + "\""),
                    {{"last_name", "too_long"}});
  // 100 two-byte letters are 100 characters.
  std::string accented;
  for (int i = 0; i < 100; ++i) accented += "\xC3\xA9";
  EXPECT_TRUE(CreateContactWith(R"("last_name":")" + accented + "\"").ok());
  ExpectFieldErrors(CreateContactWith(R"("owner_id":")" + std::string(65, 'u') + "\""),
                    {{"owner_id", "too_long"}});
  ExpectFieldErrors(CreateContactWith(R"("title":")" + std::string(256, 't') + "\""),
                    {{"title", "too_long"}});
  ExpectFieldErrors(CreateContactWith(R"("tags":[")" + std::string(65, 'g') + "\"]"),
                    {{"tags", "too_long"}});
  json::array many_tags;
  for (int i = 0; i < 101; ++i) many_tags.emplace_back("t" + std::to_string(i));
  ExpectFieldErrors(CreateContactWith(R"("tags":)" + core::WriteJson(many_tags)),
                    {{"tags", "too_many"}});
}

TEST(ValidateCreateTest, MoneyHasAtMostTwoDecimals) {
  auto revenue = [](const char* number) {
    return ValidateCreate(Accounts(),
                          Body(R"({"name":"Acme","annual_revenue":)" + std::string(number) + "}"));
  };
  ExpectFieldErrors(revenue("12.345"), {{"annual_revenue", "invalid_money"}});
  ExpectFieldErrors(revenue("0.001"), {{"annual_revenue", "invalid_money"}});
  ASSERT_TRUE(revenue("12.5").ok());
  EXPECT_EQ(revenue("12.5")->at("annual_revenue"), 12.5);
  EXPECT_EQ(revenue("19.99")->at("annual_revenue"), 19.99);
  EXPECT_EQ(revenue("-5.25")->at("annual_revenue"), -5.25);
  // Whole amounts come back as integers, however they were written.
  EXPECT_EQ(revenue("12")->at("annual_revenue"), 12);
  EXPECT_EQ(revenue("12.00")->at("annual_revenue"), 12);
  EXPECT_EQ(revenue("1e3")->at("annual_revenue"), 1000);
}

TEST(ValidateCreateTest, MoneyThatCannotBeKeptToTheCentIsRejected) {
  // Money is "stored exactly as minor units", but a double keeps 15 significant digits: beyond
  // 9,999,999,999,999.99 an amount arrives (and would be stored) with different cents.
  auto revenue = [](const char* number) {
    return ValidateCreate(Accounts(),
                          Body(R"({"name":"Acme","annual_revenue":)" + std::string(number) + "}"));
  };
  EXPECT_EQ(revenue("9999999999999.99")->at("annual_revenue"), 9999999999999.99);
  EXPECT_EQ(revenue("-9999999999999.99")->at("annual_revenue"), -9999999999999.99);
  for (const char* number : {"90000000000000.01", "123456789012345.67", "999999999999999.99"}) {
    auto result = revenue(number);
    EXPECT_FALSE(result.ok()) << number << " stored as "
                              << core::WriteJson(result->at("annual_revenue"));
  }
}

TEST(ValidateCreateTest, PresenceRules) {
  // Contacts need a first or a last name; empty strings do not count.
  ExpectFieldErrors(ValidateCreate(Contacts(), Body(R"({"email":"ada@example.com"})")),
                    {{"first_name", "required"}});
  ExpectFieldErrors(ValidateCreate(Contacts(), Body(R"({})")), {{"first_name", "required"}});
  ExpectFieldErrors(ValidateCreate(Contacts(), Body(R"({"first_name":"","last_name":""})")),
                    {{"first_name", "required"}});
  EXPECT_TRUE(ValidateCreate(Contacts(), Body(R"({"last_name":"Lovelace"})")).ok());
  ExpectFieldErrors(ValidateCreate(Leads(), Body(R"({"first_name":"Ada"})")),
                    {{"last_name", "required"}});
  ExpectFieldErrors(ValidateCreate(Accounts(), Body(R"({"name":null})")), {{"name", "required"}});
}

TEST(ValidateCreateTest, LeadsDefaultToStatusNew) {
  auto lead = ValidateCreate(Leads(), Body(R"({"last_name":"Lovelace"})"));
  ASSERT_TRUE(lead.ok());
  EXPECT_EQ(lead->at("status"), "new");
  auto working = ValidateCreate(Leads(), Body(R"({"last_name":"Lovelace","status":"working"})"));
  ASSERT_TRUE(working.ok());
  EXPECT_EQ(working->at("status"), "working");
  ExpectFieldErrors(ValidateCreate(Leads(), Body(R"({"last_name":"L","status":"won"})")),
                    {{"status", "invalid_enum"}});
}

TEST(ValidateCreateTest, ReportsEveryProblemAtOnce) {
  ExpectFieldErrors(ValidateCreate(Contacts(), Body(R"({"first_name":"Ada","nickname":1,
                        "id":"x","email":"bad","tags":"x"})")),
                    {{"nickname", "unknown_field"},
                     {"id", "read_only_field"},
                     {"email", "invalid_email"},
                     {"tags", "invalid_type"}});
}

TEST(ValidatePatchTest, NullClearsOptionalFieldsOnly) {
  auto patch = ValidatePatch(Leads(), Body(R"({"title":null,"score":null,"company":"Acme"})"));
  ASSERT_TRUE(patch.ok());
  EXPECT_TRUE(patch->at("title").is_null());
  EXPECT_TRUE(patch->at("score").is_null());
  EXPECT_EQ(patch->at("company"), "Acme");
  EXPECT_EQ(patch->size(), 3u);  // no defaults sneak into a patch
  ExpectFieldErrors(ValidatePatch(Leads(), Body(R"({"last_name":null})")),
                    {{"last_name", "required"}});
  ExpectFieldErrors(ValidatePatch(Accounts(), Body(R"({"name":null})")), {{"name", "required"}});
  // Presence of a require-one-of group is checked after the merge, by storage.
  EXPECT_TRUE(ValidatePatch(Contacts(), Body(R"({"first_name":null})")).ok());
  ExpectFieldErrors(ValidatePatch(Contacts(), Body(R"({"email":"nope"})")),
                    {{"email", "invalid_email"}});
  auto empty = ValidatePatch(Contacts(), Body("{}"));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// Builds a query with one condition.
model::Query Where(std::string field, FilterOp op, json::value value) {
  model::Query query;
  FilterNode node;
  node.kind = FilterNode::Kind::kCondition;
  node.condition = {std::move(field), op, std::move(value)};
  query.filter = std::move(node);
  return query;
}

void ExpectInvalidFilter(const model::ObjectType& type, model::Query query, bool text_values) {
  auto status = NormalizeQuery(type, query, text_values);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, core::Code::kBadRequest);
  EXPECT_EQ(status.error().problem_code, "invalid_filter");
}

// Normalises a one-condition query and returns the condition's value.
json::value Normalized(const model::ObjectType& type, std::string field, FilterOp op,
                       json::value value, bool text_values) {
  model::Query query = Where(std::move(field), op, std::move(value));
  auto status = NormalizeQuery(type, query, text_values);
  EXPECT_TRUE(status.ok()) << status.error().public_message;
  return query.filter->condition.value;
}

TEST(NormalizeQueryTest, UnknownFieldsAreInvalidFilters) {
  ExpectInvalidFilter(Contacts(), Where("nickname", FilterOp::kEq, "x"), true);
  ExpectInvalidFilter(Contacts(), Where("tenant_id", FilterOp::kEq, "ten_x"), true);
  ExpectInvalidFilter(Contacts(), Where("deleted_at", FilterOp::kIsNull, "false"), true);
  ExpectInvalidFilter(Contacts(), Where("email\"--", FilterOp::kEq, "x"), true);
  model::Query sorted;
  sorted.sort = {{"nickname", false}};
  ExpectInvalidFilter(Contacts(), sorted, true);
}

TEST(NormalizeQueryTest, CoercesTextValuesToTheFieldType) {
  EXPECT_EQ(Normalized(Leads(), "score", FilterOp::kGte, "42", true), 42);
  EXPECT_EQ(Normalized(Leads(), "score", FilterOp::kEq, "-7", true), -7);
  EXPECT_EQ(Normalized(Leads(), "annual_revenue", FilterOp::kGt, "12.5", true), 12.5);
  EXPECT_EQ(Normalized(Contacts(), "do_not_email", FilterOp::kEq, "true", true), true);
  EXPECT_EQ(Normalized(Contacts(), "version", FilterOp::kEq, "3", true), 3);
  EXPECT_EQ(Normalized(Contacts(), "email", FilterOp::kEq, "Ada@Example.com", true),
            "ada@example.com");
  EXPECT_EQ(Normalized(Contacts(), "created_at", FilterOp::kLt, "2026-01-31T11:30:00+02:00", true),
            "2026-01-31T09:30:00.000Z");
  // Text that is not a number stays text and fails; JSON bodies get no coercion.
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kEq, "42abc"), true);
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kEq, ""), true);
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kEq, "4.2"), true);
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kEq, "42"), false);
  ExpectInvalidFilter(Contacts(), Where("do_not_email", FilterOp::kEq, "TRUE"), true);
  ExpectInvalidFilter(Leads(), Where("status", FilterOp::kEq, "won"), true);
  ExpectInvalidFilter(Leads(), Where("annual_revenue", FilterOp::kEq, "1.005"), true);
}

TEST(NormalizeQueryTest, InTakesACommaListOrAnArray) {
  EXPECT_EQ(Normalized(Leads(), "status", FilterOp::kIn, "new,working", true),
            (json::array{"new", "working"}));
  EXPECT_EQ(Normalized(Leads(), "score", FilterOp::kIn, "1,2,30", true), (json::array{1, 2, 30}));
  EXPECT_EQ(Normalized(Leads(), "score", FilterOp::kIn, json::array{1, 2}, false),
            (json::array{1, 2}));
  ExpectInvalidFilter(Leads(), Where("status", FilterOp::kIn, "new,won"), true);
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kIn, "1,,2"), true);
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kIn, json::array{}), false);
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kIn, "1,2"), false);  // not an array
  std::string many = "1";
  for (int i = 2; i <= 101; ++i) many += "," + std::to_string(i);
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kIn, json::string(many)), true);
}

TEST(NormalizeQueryTest, IsNullTakesABoolean) {
  EXPECT_EQ(Normalized(Contacts(), "email", FilterOp::kIsNull, "true", true), true);
  EXPECT_EQ(Normalized(Contacts(), "email", FilterOp::kIsNull, "false", true), false);
  EXPECT_EQ(Normalized(Contacts(), "email", FilterOp::kIsNull, false, false), false);
  ExpectInvalidFilter(Contacts(), Where("email", FilterOp::kIsNull, "yes"), true);
  ExpectInvalidFilter(Contacts(), Where("email", FilterOp::kIsNull, "true"), false);
}

TEST(NormalizeQueryTest, TextOperatorsOnlyOnText) {
  EXPECT_EQ(Normalized(Contacts(), "last_name", FilterOp::kContains, "love", true), "love");
  EXPECT_EQ(Normalized(Contacts(), "tags", FilterOp::kContains, "vip", true), "vip");
  EXPECT_EQ(Normalized(Contacts(), "email", FilterOp::kStartsWith, "ada", true), "ada");
  ExpectInvalidFilter(Leads(), Where("score", FilterOp::kContains, "4"), true);
  ExpectInvalidFilter(Contacts(), Where("do_not_email", FilterOp::kStartsWith, "t"), true);
  ExpectInvalidFilter(Accounts(), Where("annual_revenue", FilterOp::kContains, "1"), true);
  ExpectInvalidFilter(Contacts(), Where("tags", FilterOp::kStartsWith, "v"), true);
  ExpectInvalidFilter(Contacts(), Where("last_name", FilterOp::kContains, ""), true);
  ExpectInvalidFilter(Contacts(), Where("last_name", FilterOp::kContains, 5), false);
}

TEST(NormalizeQueryTest, TextOperatorsRejectedOnDateTimes) {
  // Date-times are strings in JSON but epoch milliseconds in storage, so `starts_with 2026`
  // would be compared with "1769851800000" and silently match nothing.
  ExpectInvalidFilter(Contacts(), Where("last_contacted_at", FilterOp::kStartsWith, "2026"), true);
  ExpectInvalidFilter(Contacts(), Where("created_at", FilterOp::kContains, "2026"), true);
}

TEST(NormalizeQueryTest, OrderingNeedsASortableField) {
  ExpectInvalidFilter(Contacts(), Where("notes", FilterOp::kLt, "m"), true);
  ExpectInvalidFilter(Contacts(), Where("tags", FilterOp::kGt, "m"), true);
  model::Query query;
  query.sort = {{"notes", false}};
  ExpectInvalidFilter(Contacts(), query, true);
  query.sort = {{"tags", true}};
  ExpectInvalidFilter(Contacts(), query, true);
  query.sort = {{"a", false}, {"b", false}, {"c", false}, {"d", false}, {"e", false}, {"f", false}};
  ExpectInvalidFilter(Contacts(), query, true);
  query.sort = {{"last_name", false}, {"created_at", true}, {"version", false}};
  EXPECT_TRUE(NormalizeQuery(Contacts(), query, true).ok());
}

TEST(NormalizeQueryTest, LimitBounds) {
  for (int limit : {0, -1, 501, 100000}) {
    model::Query query;
    query.limit = limit;
    auto status = NormalizeQuery(Contacts(), query, true);
    ASSERT_FALSE(status.ok()) << limit;
    EXPECT_EQ(status.error().code, core::Code::kBadRequest);
    EXPECT_EQ(status.error().problem_code, "invalid_parameter");
  }
  for (int limit : {1, 50, 500}) {
    model::Query query;
    query.limit = limit;
    EXPECT_TRUE(NormalizeQuery(Contacts(), query, true).ok()) << limit;
  }
}

TEST(NormalizeQueryTest, NormalisesEveryConditionOfATree) {
  model::Query query;
  FilterNode root;
  root.kind = FilterNode::Kind::kOr;
  FilterNode left;
  left.kind = FilterNode::Kind::kCondition;
  left.condition = {"score", FilterOp::kGt, "10"};
  FilterNode right;
  right.kind = FilterNode::Kind::kAnd;
  FilterNode inner;
  inner.kind = FilterNode::Kind::kCondition;
  inner.condition = {"email", FilterOp::kEq, "X@Y.COM"};
  right.children = {inner};
  root.children = {left, right};
  query.filter = root;
  ASSERT_TRUE(NormalizeQuery(Leads(), query, true).ok());
  EXPECT_EQ(query.filter->children[0].condition.value, 10);
  EXPECT_EQ(query.filter->children[1].children[0].condition.value, "x@y.com");
  // One bad leaf fails the whole tree.
  query.filter->children[1].children[0].condition.field = "nope";
  ExpectInvalidFilter(Leads(), query, true);
  // Nesting is bounded.
  FilterNode deep;
  deep.kind = FilterNode::Kind::kCondition;
  deep.condition = {"score", FilterOp::kEq, 1};
  for (int i = 0; i < 20; ++i) {
    FilterNode parent;
    parent.kind = FilterNode::Kind::kAnd;
    parent.children.push_back(std::move(deep));
    deep = std::move(parent);
  }
  query.filter = deep;
  ExpectInvalidFilter(Leads(), query, false);
}

}  // namespace
}  // namespace zebros::domain
