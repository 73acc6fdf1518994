#include "domain/pii_mask.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <stdexcept>

#include "domain/builtin_schemas.h"

namespace zebros::domain {
namespace {
namespace json = boost::json;
using model::FieldType;
using model::FilterNode;
using model::FilterOp;

const model::ObjectType& Contacts() {
  for (const auto& type : BuiltinObjectTypes()) {
    if (type->name == "contacts") return *type;
  }
  throw std::logic_error("no contacts");
}

model::Field PiiField(FieldType type) {
  model::Field field;
  field.name = "x";
  field.type = type;
  field.pii = true;
  return field;
}

json::value Mask(FieldType type, json::value value) { return MaskValue(PiiField(type), value); }

FilterNode Cond(std::string field) {
  FilterNode node;
  node.kind = FilterNode::Kind::kCondition;
  node.condition = {std::move(field), FilterOp::kEq, "x"};
  return node;
}
FilterNode Group(FilterNode::Kind kind, std::vector<FilterNode> children) {
  FilterNode node;
  node.kind = kind;
  node.children = std::move(children);
  return node;
}

TEST(MaskValueTest, EmailsKeepTheFirstCharacterAndTheDomain) {
  EXPECT_EQ(Mask(FieldType::kEmail, "john.smith@example.com"), "j***@example.com");
  EXPECT_EQ(Mask(FieldType::kEmail, "a@b.example"), "a***@b.example");
  EXPECT_EQ(Mask(FieldType::kEmail, "\xC3\xA9lise@example.fr"), "\xC3\xA9***@example.fr");
  EXPECT_EQ(Mask(FieldType::kEmail, "no-at-sign"), "***");
}

TEST(MaskValueTest, PhonesKeepTheLastFourDigits) {
  EXPECT_EQ(Mask(FieldType::kPhone, "+1 (415) 555-1234"), "***-***-1234");
  EXPECT_EQ(Mask(FieldType::kPhone, "+44 20 7946 0958"), "***-***-0958");
  // Too short for the tail not to give most of it away.
  EXPECT_EQ(Mask(FieldType::kPhone, "112"), "***-***-****");
  EXPECT_EQ(Mask(FieldType::kPhone, "55-1234"), "***-***-****");
  EXPECT_EQ(Mask(FieldType::kPhone, "555-1234"), "***-***-1234");
}

TEST(MaskValueTest, OtherTypesGetAPlaceholderOfTheirShapeOrNull) {
  EXPECT_EQ(Mask(FieldType::kDate, "1815-12-10"), "****-**-**");
  EXPECT_EQ(Mask(FieldType::kDateTime, "2026-01-31T09:30:00.000Z"), "****-**-**T**:**:**Z");
  for (FieldType type : {FieldType::kText, FieldType::kLongText, FieldType::kUrl, FieldType::kEnum,
                         FieldType::kReference}) {
    EXPECT_EQ(Mask(type, "secret"), "***");
  }
  EXPECT_EQ(Mask(FieldType::kTags, json::array{"a", "b", "c"}), (json::array{"***"}));
  for (FieldType type :
       {FieldType::kInteger, FieldType::kNumber, FieldType::kMoney, FieldType::kBool}) {
    EXPECT_TRUE(Mask(type, 42).is_null());
  }
  EXPECT_TRUE(Mask(FieldType::kBool, true).is_null());
}

TEST(MaskValueTest, UnsetStaysUnset) {
  for (FieldType type : {FieldType::kEmail, FieldType::kPhone, FieldType::kText, FieldType::kTags,
                         FieldType::kDate}) {
    EXPECT_TRUE(Mask(type, nullptr).is_null());
  }
}

TEST(MaskRecordTest, MasksPiiFieldsBuiltInAndCustomAndNothingElse) {
  model::ObjectType type = Contacts();
  model::Field badge = PiiField(FieldType::kText);
  badge.name = "badge";
  badge.custom = true;
  type.fields.push_back(badge);
  model::Record record;
  record.id = "con_1";
  record.values = {{"first_name", "Ada"},
                   {"last_name", "Lovelace"},
                   {"email", "ada@example.com"},
                   {"phone", "+44 20 7946 0958"},
                   {"mobile", nullptr},
                   {"mailing_street", "12 St James's Square"},
                   {"mailing_city", "London"},
                   {"date_of_birth", "1815-12-10"},
                   {"badge", "B-7"}};
  MaskRecord(type, record);
  EXPECT_EQ(record.values.at("first_name"), "Ada");
  EXPECT_EQ(record.values.at("last_name"), "Lovelace");
  EXPECT_EQ(record.values.at("email"), "a***@example.com");
  EXPECT_EQ(record.values.at("phone"), "***-***-0958");
  EXPECT_TRUE(record.values.at("mobile").is_null());
  EXPECT_EQ(record.values.at("mailing_street"), "***");
  EXPECT_EQ(record.values.at("mailing_city"), "London");
  EXPECT_EQ(record.values.at("date_of_birth"), "****-**-**");
  EXPECT_EQ(record.values.at("badge"), "***");
  EXPECT_EQ(record.id, "con_1");
}

TEST(CheckQueryAvoidsPiiTest, RefusesFiltersAnywhereInTheTreeAndSortsOnPii) {
  const auto& type = Contacts();
  model::Query query;
  query.filter = Group(
      FilterNode::Kind::kAnd,
      {Cond("last_name"), Group(FilterNode::Kind::kOr,
                                {Cond("title"), Group(FilterNode::Kind::kAnd, {Cond("email")})})});
  auto status = CheckQueryAvoidsPii(type, query);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, core::Code::kForbidden);
  EXPECT_EQ(status.error().problem_code, "forbidden");
  EXPECT_NE(status.error().public_message.find("'email'"), std::string::npos);

  model::Query sorted;
  sorted.sort = {{"last_name", false}, {"date_of_birth", true}};
  status = CheckQueryAvoidsPii(type, sorted);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().public_message.find("'date_of_birth'"), std::string::npos);
}

TEST(CheckQueryAvoidsPiiTest, AllowsOtherFieldsSystemFieldsUnknownFieldsAndText) {
  const auto& type = Contacts();
  model::Query query;
  query.filter = Group(FilterNode::Kind::kOr,
                       {Cond("last_name"), Cond("created_at"), Cond("id"), Cond("nonexistent")});
  query.sort = {{"updated_at", true}, {"mailing_city", false}};
  query.text = "ada@example.com";
  EXPECT_TRUE(CheckQueryAvoidsPii(type, query).ok());
  EXPECT_TRUE(CheckQueryAvoidsPii(type, model::Query{}).ok());
}

}  // namespace
}  // namespace zebros::domain
