#include "storage/audit_diff.h"

#include <gtest/gtest.h>

#include "core/json.h"

namespace zebros::storage {
namespace {
namespace json = boost::json;

model::ObjectType ContactType() {
  model::ObjectType type;
  type.name = "contacts";
  type.singular = "contact";
  model::Field name;
  name.name = "last_name";
  model::Field email;
  email.name = "email";
  email.type = model::FieldType::kEmail;
  email.pii = true;
  model::Field score;
  score.name = "score";
  score.type = model::FieldType::kInteger;
  model::Field tags;
  tags.name = "tags";
  tags.type = model::FieldType::kTags;
  type.fields = {name, email, score, tags};
  return type;
}

json::object Obj(std::string_view text) { return core::ParseJson(text).value().as_object(); }

std::string Digest(const json::value& value) { return "digest(" + core::WriteJson(value) + ")"; }

TEST(AuditDiffTest, CreateListsSetFieldsWithPersonalValuesDigested) {
  const auto details = CreateDetails(ContactType(),
                                     Obj(R"({"last_name":"Lovelace","email":"ada@example.com",)"
                                         R"("score":null,"unknown":1,"tags":["a"]})"),
                                     1, Digest);
  EXPECT_EQ(core::WriteJson(details), R"x({"version":1,"fields":{"last_name":"Lovelace",)x"
                                      R"x("email":"digest(\"ada@example.com\")","tags":["a"]}})x");
}

TEST(AuditDiffTest, UpdateListsChangedFieldsOnly) {
  const auto details = UpdateDetails(
      ContactType(), Obj(R"({"last_name":"Lovelace","email":"ada@example.com","score":3})"),
      Obj(R"({"last_name":"Lovelace","email":"ada@example.org","tags":["x"]})"), 4, Digest);
  EXPECT_EQ(core::WriteJson(details),
            R"x({"version":4,"fields":{)x"
            R"x("email":{"from":"digest(\"ada@example.com\")",)x"
            R"x("to":"digest(\"ada@example.org\")"},)x"
            R"x("score":{"from":3,"to":null},"tags":{"from":null,"to":["x"]}}})x");
}

TEST(AuditDiffTest, UpdateWithoutChangesHasNoFields) {
  const auto values = Obj(R"({"last_name":"Lovelace","score":null})");
  const auto details =
      UpdateDetails(ContactType(), values, Obj(R"({"last_name":"Lovelace"})"), 2, Digest);
  EXPECT_EQ(core::WriteJson(details), R"({"version":2,"fields":{}})");
}

TEST(AuditDiffTest, StateChangesCarryNoValues) {
  EXPECT_EQ(core::WriteJson(StateDetails(7)), R"({"version":7})");
}

TEST(AuditDiffTest, PiiDigestIsKeyedAndStable) {
  const json::value value = "ada@example.com";
  const std::string digest = PiiDigest("key-one", value);
  EXPECT_EQ(digest.rfind("hmac-sha256:", 0), 0u);
  EXPECT_EQ(digest.size(), std::string("hmac-sha256:").size() + 64);
  EXPECT_EQ(digest, PiiDigest("key-one", value));
  EXPECT_NE(digest, PiiDigest("key-two", value));
  EXPECT_NE(digest, PiiDigest("key-one", json::value("ada@example.org")));
  EXPECT_EQ(digest.find("ada"), std::string::npos);
}

}  // namespace
}  // namespace zebros::storage
