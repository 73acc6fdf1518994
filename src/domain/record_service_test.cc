#include "domain/record_service.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>

#include "core/json.h"
#include "domain/builtin_schemas.h"

namespace zebros::domain {
namespace {
namespace json = boost::json;

class FixedClock final : public core::Clock {
 public:
  core::EpochMillis NowMillis() const override { return 1767225600000; }
};

// A store holding one contact with clear pii values: every read returns it, every write returns
// it as the result of each change (and renders a stored response when asked to).
class FakeStore final : public storage::RecordStore {
 public:
  FakeStore() {
    record.id = "con_01HZY8X6P0V3Q7K9M2N4R5T6W8";
    record.version = 1;
    record.values = {{"last_name", "Lovelace"},
                     {"email", "ada@example.com"},
                     {"phone", "+44 20 7946 0958"},
                     {"date_of_birth", "1815-12-10"}};
  }

  core::Result<model::Record> Get(const model::Principal&, const model::ObjectType&,
                                  std::string_view) override {
    return record;
  }
  core::Result<storage::Page> List(const model::Principal&, const model::ObjectType&,
                                   const model::Query& query) override {
    ++lists;
    last_query = query;
    return storage::Page{{record, record}, ""};
  }
  void Apply(const model::Principal&, std::vector<storage::Change> changes,
             std::optional<storage::Idempotency> idempotency,
             std::function<void(storage::ApplyOutcome)> done) override {
    applied = std::move(changes);
    std::vector<storage::ChangeResult> results(applied.size(), {record, true});
    if (idempotency) {
      stored_hash = idempotency->request_hash;
      stored = idempotency->render(results);
    }
    storage::ApplyOutcome outcome;
    outcome.results = std::move(results);
    done(std::move(outcome));
  }
  core::Result<std::uint64_t> WriteGeneration(const std::string&) const override {
    return std::uint64_t{0};
  }

  model::Record record;
  int lists = 0;
  model::Query last_query;
  std::vector<storage::Change> applied;
  std::string stored_hash;
  std::optional<storage::StoredResponse> stored;
};

class RecordServiceTest : public ::testing::Test {
 protected:
  RecordServiceTest() {
    clear_.tenant_id = masked_.tenant_id = "ten_1";
    clear_.role = model::Role::kAdmin;
    masked_.role = model::Role::kReadOnly;
    masked_.mask_pii = true;
  }

  static json::object Body(std::string_view text) {
    return core::ParseJson(text).value().as_object();
  }
  // Runs a write and returns its outcome (the fake store completes at once).
  template <typename Write>
  storage::ApplyOutcome Run(Write write) {
    std::optional<storage::ApplyOutcome> outcome;
    write([&outcome](storage::ApplyOutcome result) { outcome = std::move(result); });
    EXPECT_TRUE(outcome.has_value());
    return outcome ? std::move(*outcome) : storage::ApplyOutcome{};
  }
  static void ExpectMasked(const model::Record& record) {
    EXPECT_EQ(record.values.at("email"), "a***@example.com");
    EXPECT_EQ(record.values.at("phone"), "***-***-0958");
    EXPECT_EQ(record.values.at("date_of_birth"), "****-**-**");
    EXPECT_EQ(record.values.at("last_name"), "Lovelace");
  }
  static void ExpectForbidden(const core::Error& error, std::string_view field) {
    EXPECT_EQ(error.code, core::Code::kForbidden);
    EXPECT_EQ(error.problem_code, "forbidden");
    EXPECT_NE(error.public_message.find("'" + std::string(field) + "'"), std::string::npos)
        << error.public_message;
  }
  static storage::Idempotency Key() {
    return storage::Idempotency{
        "k1", "hash", [](const std::vector<storage::ChangeResult>& r) {
          return storage::StoredResponse{201, core::WriteJson(r.front().record.values), "", ""};
        }};
  }

  FixedClock clock_;
  // ListAsync's answer (with text values, on no workers: before it returns).
  core::Result<storage::Page> ListAsync(const model::Principal& principal, model::Query query) {
    std::optional<core::Result<storage::Page>> answered;
    service_.ListAsync(
        principal, *contacts_, std::move(query), true, nullptr,
        [&answered](core::Result<storage::Page> page) { answered = std::move(page); });
    EXPECT_TRUE(answered.has_value());
    if (!answered) return core::MakeError(core::Code::kInternal, "internal", "never answered");
    return std::move(*answered);
  }

  core::IdGenerator ids_{clock_};
  FakeStore store_;
  RecordService service_{store_, ids_};
  model::ObjectTypePtr contacts_ = BuiltinObjectTypes()[1];
  model::Principal clear_, masked_;
  const std::string id_ = "con_01HZY8X6P0V3Q7K9M2N4R5T6W8";
};

TEST_F(RecordServiceTest, ReadsAreMaskedOnlyForMaskingPrincipals) {
  ExpectMasked(service_.Get(masked_, *contacts_, id_).value());
  EXPECT_EQ(service_.Get(clear_, *contacts_, id_)->values, store_.record.values);
  auto page = service_.List(masked_, *contacts_, model::Query{}, false);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 2u);
  for (const auto& record : page->records) ExpectMasked(record);
  EXPECT_EQ(service_.List(clear_, *contacts_, model::Query{}, false)->records[0].values,
            store_.record.values);
  // The same through ListAsync (this store answers before it returns).
  page = ListAsync(masked_, model::Query{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->records.size(), 2u);
  for (const auto& record : page->records) ExpectMasked(record);
  EXPECT_EQ(ListAsync(clear_, model::Query{})->records[0].values, store_.record.values);
}

TEST_F(RecordServiceTest, EveryWriteOutcomeIsMaskedForMaskingPrincipals) {
  const json::object body = Body(R"({"last_name":"Lovelace"})");
  std::vector<storage::ApplyOutcome> outcomes;
  outcomes.push_back(
      Run([&](auto done) { service_.Create(masked_, contacts_, body, std::nullopt, done); }));
  outcomes.push_back(
      Run([&](auto done) { service_.Update(masked_, contacts_, id_, body, std::nullopt, done); }));
  outcomes.push_back(
      Run([&](auto done) { service_.Delete(masked_, contacts_, id_, std::nullopt, done); }));
  outcomes.push_back(Run([&](auto done) { service_.Restore(masked_, contacts_, id_, done); }));
  outcomes.push_back(Run([&](auto done) {
    service_.Batch(masked_, contacts_,
                   Body(R"({"create":[{"last_name":"A"}],"update":[{"id":")" + id_ +
                        R"(","title":"CTO"}],"upsert":{"key":"last_name","records":[)"
                        R"({"last_name":"L"}]}})"),
                   std::nullopt, done);
  }));
  for (const auto& outcome : outcomes) {
    ASSERT_TRUE(outcome.results.ok()) << outcome.results.error().public_message;
    for (const auto& result : *outcome.results) ExpectMasked(result.record);
  }
  auto clear = Run([&](auto done) { service_.Restore(clear_, contacts_, id_, done); });
  EXPECT_EQ(clear.results->front().record.values, store_.record.values);
}

TEST_F(RecordServiceTest, StoredIdempotentResponsesAreMaskedAndKeptApart) {
  const json::object body = Body(R"({"last_name":"Lovelace"})");
  Run([&](auto done) { service_.Create(masked_, contacts_, body, Key(), done); });
  ASSERT_TRUE(store_.stored.has_value());
  EXPECT_EQ(store_.stored->body.find("ada@example.com"), std::string::npos) << store_.stored->body;
  EXPECT_NE(store_.stored->body.find("a***@example.com"), std::string::npos);
  const std::string masked_hash = store_.stored_hash;
  Run([&](auto done) { service_.Create(clear_, contacts_, body, Key(), done); });
  EXPECT_NE(store_.stored->body.find("ada@example.com"), std::string::npos);
  EXPECT_EQ(store_.stored_hash, "hash");
  EXPECT_NE(masked_hash, "hash");
}

TEST_F(RecordServiceTest, MaskingPrincipalsMayNotFilterOrSortOnPii) {
  model::Query filtered;
  model::FilterNode email;
  email.kind = model::FilterNode::Kind::kCondition;
  email.condition = {"email", model::FilterOp::kContains, "ada"};
  model::FilterNode group;
  group.kind = model::FilterNode::Kind::kOr;
  group.children = {email};
  filtered.filter = group;
  auto refused = service_.List(masked_, *contacts_, filtered, true);
  ASSERT_FALSE(refused.ok());
  ExpectForbidden(refused.error(), "email");
  model::Query sorted;
  sorted.sort = {{"phone", false}};
  refused = service_.List(masked_, *contacts_, sorted, true);
  ASSERT_FALSE(refused.ok());
  ExpectForbidden(refused.error(), "phone");
  refused = ListAsync(masked_, filtered);
  ASSERT_FALSE(refused.ok());
  ExpectForbidden(refused.error(), "email");
  EXPECT_EQ(store_.lists, 0);  // refused before storage is asked
  EXPECT_TRUE(service_.List(clear_, *contacts_, filtered, true).ok());
  EXPECT_TRUE(ListAsync(clear_, filtered).ok());
  EXPECT_TRUE(service_.List(clear_, *contacts_, sorted, true).ok());
  // Text search is not refused: storage leaves pii out of what the text matches.
  model::Query text;
  text.text = "ada@example.com";
  EXPECT_TRUE(service_.List(masked_, *contacts_, text, true).ok());
}

TEST_F(RecordServiceTest, MaskingPrincipalsMayNotUpsertByAPiiKey) {
  auto outcome = Run([&](auto done) {
    service_.Batch(masked_, contacts_,
                   Body(R"({"upsert":{"key":"email","records":[{"email":"ada@example.com"}]}})"),
                   std::nullopt, done);
  });
  ASSERT_FALSE(outcome.results.ok());
  ExpectForbidden(outcome.results.error(), "email");
  EXPECT_TRUE(store_.applied.empty());
}

TEST_F(RecordServiceTest, BatchRefusesServerOwnedFieldsInEverySection) {
  for (const char* name :
       {"id", "tenant_id", "created_at", "updated_at", "created_by", "version", "deleted_at"}) {
    const std::string member = "\"" + std::string(name) + "\":\"x\"";
    const std::string text =
        R"({"create":[{"last_name":"A",)" + member + R"(}],"update":[{"id":")" + id_ + R"(",)" +
        (std::string(name) == "id" ? R"("title":"CTO")" : member) +
        R"(}],"upsert":{"key":"last_name","records":[{"last_name":"L",)" + member + "}]}}";
    auto outcome =
        Run([&](auto done) { service_.Batch(clear_, contacts_, Body(text), std::nullopt, done); });
    ASSERT_FALSE(outcome.results.ok()) << name;
    std::vector<std::pair<std::string, std::string>> errors;
    for (const auto& error : outcome.results.error().field_errors) {
      errors.emplace_back(error.field, error.code);
    }
    std::vector<std::pair<std::string, std::string>> expected = {
        {"create[0]." + std::string(name), "read_only_field"},
        {"upsert[0]." + std::string(name), "read_only_field"}};
    if (std::string(name) != "id") {
      expected.insert(expected.begin() + 1, {"update[0]." + std::string(name), "read_only_field"});
    }
    EXPECT_EQ(errors, expected) << name;
  }
  EXPECT_TRUE(store_.applied.empty());
}

}  // namespace
}  // namespace zebros::domain
