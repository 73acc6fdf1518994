#include "storage/sql/sql_record_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "core/json.h"
#include "core/testing/await.h"
#include "core/testing/fake_clock.h"
#include "core/testing/temp_dir.h"
#include "core/time_format.h"
#include "core/work_pool.h"
#include "domain/builtin_schemas.h"
#include "domain/validator.h"
#include "storage/sql/index_intersection.h"
#include "storage/sql/sql_directory_store.h"
#include "storage/sql/testing/hold_writer.h"
#include "storage/sqlite/database.h"

namespace zebros::storage::sql {
using sqlite::Connection;
using sqlite::Database;
namespace {
namespace json = boost::json;
using core::Code;
using model::FilterNode;
using model::FilterOp;

constexpr core::EpochMillis kStart = core::testing::FakeClock::kDefaultStart;
constexpr core::EpochMillis kHour = 3600000;

using core::testing::FakeClock;

json::object Obj(std::string_view text) { return core::ParseJson(text).value().as_object(); }

std::string Describe(const core::Error& error) {
  std::string text = error.problem_code + ": " + error.public_message + " [" + error.detail + "]";
  for (const auto& field : error.field_errors) text += " " + field.field + "/" + field.code;
  return text;
}

using core::testing::Await;

FilterNode Cond(std::string field, FilterOp op, json::value value) {
  FilterNode node;
  node.kind = FilterNode::Kind::kCondition;
  node.condition = {std::move(field), op, std::move(value)};
  return node;
}
FilterNode Group(FilterNode::Kind kind, std::vector<FilterNode> children) {
  FilterNode node;
  node.kind = kind;
  node.children = std::move(children);
  return node;
}

class SqliteRecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    Open();
    a_ = MakePrincipal("acme");
    b_ = MakePrincipal("globex");
  }
  void TearDown() override {
    if (db_) {
      EXPECT_EQ(IntegrityCheck(), "ok");
      Close();
    }
  }
  void Open(std::optional<std::chrono::milliseconds> upkeep_after = std::nullopt) {
    auto db =
        Database::Open(dir_ + "/zebros.db", domain::BuiltinObjectTypes(), clock_, upkeep_after);
    ASSERT_TRUE(db.ok()) << Describe(db.error());
    db_ = std::move(db).value();
    store_ = std::make_unique<SqlRecordStore>(*db_);
    directory_ = std::make_unique<SqlDirectoryStore>(*db_, ids_, domain::BuiltinObjectTypes());
  }
  void Close() {
    directory_.reset();
    store_.reset();
    db_.reset();
  }
  model::Principal MakePrincipal(const std::string& name) {
    auto tenant = directory_->CreateTenant(name);
    EXPECT_TRUE(tenant.ok());
    return {tenant.ok() ? tenant->id : "", name, "key:test-" + name, model::Role::kAdmin,
            tenant.ok() ? tenant->number : 0};
  }
  // The first column of the first row `sql` yields on a fresh read-only connection ("" if none).
  std::string ReadOne(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ + "/zebros.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string value;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }
  // Runs PRAGMA integrity_check and the search indexes' own check on a fresh connection.
  std::string IntegrityCheck() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ + "/zebros.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
              SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    std::string result;
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      result += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    for (const char* fts : {"fts_accounts", "fts_contacts", "fts_leads"}) {
      const std::string sql =
          std::string("INSERT INTO ") + fts + "(" + fts + ") VALUES('integrity-check')";
      if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        result += std::string(" ") + fts + ": " + sqlite3_errmsg(db);
      }
    }
    sqlite3_close(db);
    return result;
  }

  ApplyOutcome Apply(const model::Principal& principal, std::vector<Change> changes,
                     std::optional<Idempotency> idempotency = std::nullopt) {
    std::promise<ApplyOutcome> promise;
    auto future = promise.get_future();
    store_->Apply(principal, std::move(changes), std::move(idempotency),
                  [&promise](ApplyOutcome outcome) { promise.set_value(std::move(outcome)); });
    return Await(future);
  }
  Change Make(Change::Kind kind, const model::ObjectTypePtr& type, std::string id,
              json::object values = {}, std::optional<std::int64_t> version = std::nullopt) {
    Change change;
    change.kind = kind;
    change.type = type;
    change.id = id.empty() ? ids_.Next(type->id_prefix) : std::move(id);
    change.values = std::move(values);
    change.expected_version = version;
    return change;
  }
  Change Create(const model::ObjectTypePtr& type, std::string_view values) {
    return Make(Change::Kind::kCreate, type, "", Obj(values));
  }
  model::Record Put(const model::Principal& principal, const model::ObjectTypePtr& type,
                    std::string_view values) {
    auto outcome = Apply(principal, {Create(type, values)});
    EXPECT_TRUE(outcome.results.ok()) << Describe(outcome.results.error()) << " for " << values;
    return outcome.results.ok() ? outcome.results->front().record : model::Record{};
  }
  // The single change's result, or a failure naming the error.
  model::Record One(const model::Principal& principal, Change change) {
    auto outcome = Apply(principal, {std::move(change)});
    EXPECT_TRUE(outcome.results.ok()) << Describe(outcome.results.error());
    return outcome.results.ok() ? outcome.results->front().record : model::Record{};
  }
  core::Error Fails(const model::Principal& principal, std::vector<Change> changes) {
    auto outcome = Apply(principal, std::move(changes));
    EXPECT_FALSE(outcome.results.ok());
    return outcome.results.ok() ? core::Error{} : outcome.results.error();
  }
  // The values of `field` (or ids) of the records a query returns; "-" for null.
  std::vector<std::string> Column(const model::Principal& principal,
                                  const model::ObjectTypePtr& type, model::Query query,
                                  const std::string& field = "last_name") {
    auto page = store_->List(principal, *type, query);
    EXPECT_TRUE(page.ok()) << Describe(page.error());
    std::vector<std::string> out;
    if (!page.ok()) return out;
    for (const auto& record : page->records) {
      const json::value& value = field == "id" ? json::value(record.id) : record.values.at(field);
      out.push_back(value.is_null()     ? "-"
                    : value.is_string() ? std::string(value.get_string())
                                        : core::WriteJson(value));
    }
    return out;
  }
  // The ids of every page of `query` (tenant a), following next_cursor, `limit` per page.
  std::vector<std::string> PageThrough(const model::ObjectTypePtr& type, model::Query query,
                                       int limit) {
    query.limit = limit;
    std::vector<std::string> seen;
    for (int pages = 0; pages < 500; ++pages) {
      auto page = store_->List(a_, *type, query);
      EXPECT_TRUE(page.ok()) << Describe(page.error());
      if (!page.ok()) break;
      EXPECT_LE(page->records.size(), static_cast<std::size_t>(limit));
      for (const auto& record : page->records) seen.push_back(record.id);
      if (page->next_cursor.empty()) break;
      query.cursor = page->next_cursor;
    }
    return seen;
  }
  std::vector<std::string> Where(const model::ObjectTypePtr& type, FilterNode filter) {
    model::Query query;
    query.filter = std::move(filter);
    query.sort = {{"last_name", false}};
    return Column(a_, type, query);
  }
  std::vector<std::string> Search(const model::Principal& principal, std::string text) {
    model::Query query;
    query.text = std::move(text);
    query.sort = {{"last_name", false}};
    return Column(principal, contacts_, query);
  }

  FakeClock clock_;
  core::IdGenerator ids_{clock_};
  core::testing::TempDir temp_{"zebros-store-test"};
  std::string dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqlRecordStore> store_;
  std::unique_ptr<SqlDirectoryStore> directory_;
  model::Principal a_, b_;
  const model::ObjectTypePtr accounts_ = domain::BuiltinObjectTypes()[0];
  const model::ObjectTypePtr contacts_ = domain::BuiltinObjectTypes()[1];
  const model::ObjectTypePtr leads_ = domain::BuiltinObjectTypes()[2];
};

using Strings = std::vector<std::string>;

TEST_F(SqliteRecordStoreTest, CreateAndGetRoundTripEveryFieldType) {
  ASSERT_EQ(contacts_->name, "contacts");
  const json::object account_values = Obj(R"({"name":"Acme","employees":250,"type":"customer",
      "annual_revenue":1234567.89,"website":"https://acme.example/","industry":"technology",
      "tags":["b2b","eu"],"description":"line one\nline two","parent_account_id":null})");
  const auto account = One(a_, Make(Change::Kind::kCreate, accounts_, "", account_values));
  json::object values = Obj(R"({"first_name":"Ada","last_name":"Lovelace",
      "email":"ada@example.com","phone":"+44 20 7946 0958","lifecycle_stage":"customer",
      "do_not_email":true,"date_of_birth":"1815-12-10","last_contacted_at":"2026-01-31T09:30:00.123Z",
      "tags":["vip","beta"],"notes":"\u00dcn\u00efc\u00f6d\u00e9 \ud83d\ude00 '; DROP TABLE x;--"})");
  values["account_id"] = account.id;
  const auto created = One(a_, Make(Change::Kind::kCreate, contacts_, "", values));
  auto got = store_->Get(a_, *contacts_, created.id);
  ASSERT_TRUE(got.ok()) << Describe(got.error());
  EXPECT_TRUE(core::IsWellFormedId(got->id, "con"));
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->created_at, kStart);
  EXPECT_EQ(got->updated_at, kStart);
  EXPECT_EQ(got->created_by, "key:test-acme");
  EXPECT_FALSE(got->deleted_at.has_value());
  for (const auto& member : values) {
    EXPECT_EQ(got->values.at(member.key()), member.value()) << member.key();
    EXPECT_EQ(created.values.at(member.key()), member.value()) << member.key();
  }
  EXPECT_TRUE(got->values.at("mobile").is_null());
  auto acc = store_->Get(a_, *accounts_, account.id);
  ASSERT_TRUE(acc.ok());
  for (const auto& member : account_values) {
    EXPECT_EQ(acc->values.at(member.key()), member.value()) << member.key();
  }
  // Zero, false, negative money and whole money keep their JSON shape.
  const auto lead = Put(a_, leads_, R"({"last_name":"Zero","score":0,"employees":-1,
      "annual_revenue":-5.25})");
  EXPECT_EQ(lead.values.at("score"), 0);
  EXPECT_EQ(lead.values.at("annual_revenue"), -5.25);
  const auto whole = Put(a_, leads_, R"({"last_name":"Whole","annual_revenue":1000000})");
  EXPECT_TRUE(whole.values.at("annual_revenue").is_int64());
  EXPECT_EQ(whole.values.at("annual_revenue"), 1000000);
  const auto opted_in = Put(a_, contacts_, R"({"last_name":"In","do_not_email":false})");
  EXPECT_EQ(store_->Get(a_, *contacts_, opted_in.id)->values.at("do_not_email"), false);
}

TEST_F(SqliteRecordStoreTest, TenantsNeverSeeEachOthersRecords) {
  const auto mine = Put(a_, contacts_, R"({"first_name":"Ada","email":"ada@example.com"})");
  auto other = store_->Get(b_, *contacts_, mine.id);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, Code::kNotFound);
  EXPECT_TRUE(Column(b_, contacts_, {}).empty());
  EXPECT_TRUE(Search(b_, "ada").empty());
  EXPECT_EQ(
      Fails(b_, {Make(Change::Kind::kUpdate, contacts_, mine.id, Obj(R"({"title":"x"})"))}).code,
      Code::kNotFound);
  EXPECT_EQ(Fails(b_, {Make(Change::Kind::kDelete, contacts_, mine.id)}).code, Code::kNotFound);
  EXPECT_EQ(Fails(b_, {Make(Change::Kind::kRestore, contacts_, mine.id)}).code, Code::kNotFound);
  auto unchanged = store_->Get(a_, *contacts_, mine.id);
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->version, 1);
  EXPECT_TRUE(unchanged->values.at("title").is_null());
  // Uniqueness is per tenant: B may hold the same e-mail.
  Put(b_, contacts_, R"({"first_name":"Ada","email":"ada@example.com"})");
  EXPECT_EQ(Column(a_, contacts_, {}, "id"), Strings{mine.id});
}

TEST_F(SqliteRecordStoreTest, UpdateMergesBumpsVersionAndNullClears) {
  const auto created =
      Put(a_, contacts_, R"({"first_name":"Ada","title":"CTO","phone":"555 0100"})");
  clock_.Advance(kHour);
  const auto updated = One(a_, Make(Change::Kind::kUpdate, contacts_, created.id,
                                    Obj(R"({"title":null,"department":"R&D"})"), 1));
  EXPECT_EQ(updated.version, 2);
  EXPECT_EQ(updated.created_at, kStart);
  EXPECT_EQ(updated.updated_at, kStart + kHour);
  EXPECT_EQ(updated.values.at("first_name"), "Ada");
  EXPECT_EQ(updated.values.at("phone"), "555 0100");
  EXPECT_TRUE(updated.values.at("title").is_null());
  EXPECT_EQ(updated.values.at("department"), "R&D");
  EXPECT_EQ(store_->Get(a_, *contacts_, created.id)->values, updated.values);
  // Presence is checked after the merge: clearing the only name fails.
  auto error = Fails(
      a_, {Make(Change::Kind::kUpdate, contacts_, created.id, Obj(R"({"first_name":null})"))});
  EXPECT_EQ(error.code, Code::kValidation);
  EXPECT_EQ(store_->Get(a_, *contacts_, created.id)->version, 2);
}

TEST_F(SqliteRecordStoreTest, ExpectedVersionMismatchIsAPreconditionFailure) {
  const auto created = Put(a_, contacts_, R"({"first_name":"Ada"})");
  EXPECT_EQ(
      Fails(a_, {Make(Change::Kind::kUpdate, contacts_, created.id, Obj(R"({"title":"x"})"), 2)})
          .code,
      Code::kPreconditionFailed);
  EXPECT_EQ(Fails(a_, {Make(Change::Kind::kDelete, contacts_, created.id, {}, 0)}).code,
            Code::kPreconditionFailed);
  EXPECT_EQ(store_->Get(a_, *contacts_, created.id)->version, 1);
  EXPECT_EQ(One(a_, Make(Change::Kind::kDelete, contacts_, created.id, {}, 1)).version, 2);
}

TEST_F(SqliteRecordStoreTest, DeleteHidesAndRestoreBringsBack) {
  const auto created = Put(a_, contacts_, R"({"first_name":"Ada","last_name":"Lovelace"})");
  clock_.Advance(kHour);
  const auto deleted = One(a_, Make(Change::Kind::kDelete, contacts_, created.id));
  EXPECT_EQ(deleted.deleted_at, kStart + kHour);
  EXPECT_EQ(store_->Get(a_, *contacts_, created.id).error().code, Code::kNotFound);
  EXPECT_TRUE(Column(a_, contacts_, {}).empty());
  EXPECT_TRUE(Search(a_, "lovelace").empty());
  EXPECT_EQ(Fails(a_, {Make(Change::Kind::kDelete, contacts_, created.id)}).code, Code::kNotFound);
  EXPECT_EQ(
      Fails(a_, {Make(Change::Kind::kUpdate, contacts_, created.id, Obj(R"({"title":"x"})"))}).code,
      Code::kNotFound);
  const auto restored = One(a_, Make(Change::Kind::kRestore, contacts_, created.id));
  EXPECT_FALSE(restored.deleted_at.has_value());
  EXPECT_EQ(restored.version, 3);
  EXPECT_EQ(store_->Get(a_, *contacts_, created.id)->values.at("last_name"), "Lovelace");
  EXPECT_EQ(Search(a_, "lovelace"), Strings{"Lovelace"});
}

TEST_F(SqliteRecordStoreTest, UniqueEmailConflicts) {
  const auto first = Put(a_, contacts_, R"({"first_name":"Ada","email":"ada@example.com"})");
  auto error = Fails(a_, {Create(contacts_, R"({"first_name":"Eve","email":"ada@example.com"})")});
  EXPECT_EQ(error.code, Code::kConflict);
  ASSERT_EQ(error.field_errors.size(), 1u) << Describe(error);
  EXPECT_EQ(error.field_errors[0].field, "email");
  EXPECT_EQ(error.field_errors[0].code, "unique");
  const auto eve = Put(a_, contacts_, R"({"first_name":"Eve","email":"eve@example.com"})");
  error = Fails(
      a_, {Make(Change::Kind::kUpdate, contacts_, eve.id, Obj(R"({"email":"ada@example.com"})"))});
  EXPECT_EQ(error.code, Code::kConflict);
  // Keeping one's own value is no conflict.
  One(a_, Make(Change::Kind::kUpdate, contacts_, first.id,
               Obj(R"({"email":"ada@example.com","title":"x"})")));
  // Deleted records free their value; restoring one whose value was taken conflicts.
  One(a_, Make(Change::Kind::kDelete, contacts_, first.id));
  Put(a_, contacts_, R"({"first_name":"Ann","email":"ada@example.com"})");
  error = Fails(a_, {Make(Change::Kind::kRestore, contacts_, first.id)});
  EXPECT_EQ(error.code, Code::kConflict);
  ASSERT_EQ(error.field_errors.size(), 1u);
  EXPECT_EQ(error.field_errors[0].field, "email");
  EXPECT_EQ(store_->Get(a_, *contacts_, first.id).error().code, Code::kNotFound);
}

TEST_F(SqliteRecordStoreTest, ReferencesMustPointAtLiveRecordsOfTheTenant) {
  const auto others = Put(b_, accounts_, R"({"name":"Globex"})");
  const auto gone = Put(a_, accounts_, R"({"name":"Gone"})");
  One(a_, Make(Change::Kind::kDelete, accounts_, gone.id));
  for (const std::string& target : {ids_.Next("acc"), others.id, gone.id}) {
    json::object values{{"first_name", "Ada"}, {"account_id", target}};
    auto error = Fails(a_, {Make(Change::Kind::kCreate, contacts_, "", values)});
    EXPECT_EQ(error.code, Code::kValidation) << target;
    ASSERT_EQ(error.field_errors.size(), 1u);
    EXPECT_EQ(error.field_errors[0].field, "account_id");
    EXPECT_EQ(error.field_errors[0].code, "reference_not_found");
  }
}

TEST_F(SqliteRecordStoreTest, ChangeSetsAreAllOrNothing) {
  const auto kept = Put(a_, contacts_, R"({"first_name":"Kept","title":"old"})");
  std::vector<Change> changes = {
      Create(accounts_, R"({"name":"Acme"})"),
      Create(contacts_, R"({"first_name":"Ada","email":"ada@example.com"})"),
      Create(contacts_, R"({"first_name":"Eve","email":"ada@example.com"})"),
  };
  for (std::size_t i = 0; i < changes.size(); ++i)
    changes[i].label = "create[" + std::to_string(i) + "]";
  auto error = Fails(a_, changes);
  EXPECT_EQ(error.code, Code::kConflict);
  ASSERT_EQ(error.field_errors.size(), 1u);
  EXPECT_EQ(error.field_errors[0].field, "create[2].email");
  EXPECT_EQ(error.field_errors[0].index, 2);
  EXPECT_TRUE(Column(a_, accounts_, {}, "name").empty());
  EXPECT_EQ(Column(a_, contacts_, {}, "first_name"), Strings{"Kept"});
  EXPECT_TRUE(Search(a_, "ada").empty());
  // A missing target in third place undoes an update and a delete before it.
  error = Fails(a_, {Make(Change::Kind::kUpdate, contacts_, kept.id, Obj(R"({"title":"new"})")),
                     Make(Change::Kind::kDelete, contacts_, kept.id),
                     Make(Change::Kind::kUpdate, contacts_, ids_.Next("con"), Obj("{}"))});
  EXPECT_EQ(error.code, Code::kNotFound);
  auto still = store_->Get(a_, *contacts_, kept.id);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->values.at("title"), "old");
  EXPECT_EQ(still->version, 1);
}

TEST_F(SqliteRecordStoreTest, UpsertCreatesThenUpdatesByEmail) {
  auto upsert = [&](std::string_view values) {
    Change change = Make(Change::Kind::kUpsert, contacts_, "", Obj(values));
    change.upsert_key = "email";
    return Apply(a_, {change});
  };
  auto first = upsert(R"({"email":"ada@example.com","first_name":"Ada"})");
  ASSERT_TRUE(first.results.ok()) << Describe(first.results.error());
  EXPECT_TRUE(first.results->front().created);
  auto second = upsert(R"({"email":"ada@example.com","last_name":"Lovelace"})");
  ASSERT_TRUE(second.results.ok()) << Describe(second.results.error());
  const auto& record = second.results->front();
  EXPECT_FALSE(record.created);
  EXPECT_EQ(record.record.id, first.results->front().record.id);
  EXPECT_EQ(record.record.version, 2);
  EXPECT_EQ(record.record.values.at("first_name"), "Ada");
  EXPECT_EQ(record.record.values.at("last_name"), "Lovelace");
  EXPECT_EQ(Column(a_, contacts_, {}).size(), 1u);
  auto keyless = upsert(R"({"first_name":"Nobody"})");
  ASSERT_FALSE(keyless.results.ok());
  EXPECT_EQ(keyless.results.error().code, Code::kValidation);
}

TEST_F(SqliteRecordStoreTest, IdempotencyKeyReplaysTheStoredResponse) {
  int renders = 0;
  auto with_key = [&](std::string key, std::string hash) {
    return Idempotency{std::move(key), std::move(hash),
                       [&renders](const std::vector<ChangeResult>& results) {
                         ++renders;
                         return StoredResponse{201, R"({"id":")" + results[0].record.id + "\"}",
                                               "/api/v1/contacts/" + results[0].record.id, "\"1\""};
                       }};
  };
  auto first = Apply(a_, {Create(contacts_, R"({"first_name":"Ada"})")}, with_key("k1", "h1"));
  ASSERT_TRUE(first.results.ok());
  EXPECT_FALSE(first.replay.has_value());
  const std::string id = first.results->front().record.id;
  auto again = Apply(a_, {Create(contacts_, R"({"first_name":"Ada"})")}, with_key("k1", "h1"));
  ASSERT_TRUE(again.results.ok());
  ASSERT_TRUE(again.replay.has_value());
  EXPECT_EQ(again.replay->status, 201);
  EXPECT_EQ(again.replay->body, R"({"id":")" + id + "\"}");
  EXPECT_EQ(again.replay->location, "/api/v1/contacts/" + id);
  EXPECT_EQ(again.replay->etag, "\"1\"");
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(Column(a_, contacts_, {}, "id"), Strings{id});
  auto reused = Apply(a_, {Create(contacts_, R"({"first_name":"Eve"})")}, with_key("k1", "h2"));
  ASSERT_FALSE(reused.results.ok());
  EXPECT_EQ(reused.results.error().code, Code::kValidation);
  EXPECT_EQ(reused.results.error().problem_code, "idempotency_key_reused");
  // Keys are per tenant, a failed attempt stores nothing, and keys expire after a day.
  EXPECT_FALSE(
      Apply(b_, {Create(contacts_, R"({"first_name":"B"})")}, with_key("k1", "h1")).replay);
  Put(a_, contacts_, R"({"first_name":"Eve","email":"eve@example.com"})");
  EXPECT_FALSE(Apply(a_, {Create(contacts_, R"({"first_name":"E","email":"eve@example.com"})")},
                     with_key("k2", "h"))
                   .results.ok());
  EXPECT_FALSE(Apply(a_, {Create(contacts_, R"({"first_name":"F"})")}, with_key("k2", "h")).replay);
  clock_.Advance(24 * kHour + 1);
  auto late = Apply(a_, {Create(contacts_, R"({"first_name":"Ada"})")}, with_key("k1", "h1"));
  EXPECT_FALSE(late.replay.has_value());
  EXPECT_EQ(Column(a_, contacts_, {}).size(), 4u);
}

TEST_F(SqliteRecordStoreTest, FiltersEveryOperator) {
  Put(a_, leads_, R"({"last_name":"Alpha","score":10,"status":"new","company":"Acme Corp",
      "email":"a@x.com","tags":["vip","eu"],"annual_revenue":1000.5})");
  Put(a_, leads_, R"({"last_name":"Beta","score":20,"status":"working","company":"Beta_Co 100%",
      "tags":["us"],"annual_revenue":2000})");
  clock_.Advance(kHour);
  Put(a_, leads_, R"({"last_name":"Gamma","score":30,"status":"qualified"})");
  Put(a_, leads_, R"({"last_name":"delta","status":"new","company":"acme inc"})");
  auto where = [&](std::string field, FilterOp op, json::value value) {
    return Where(leads_, Cond(std::move(field), op, std::move(value)));
  };
  EXPECT_EQ(where("score", FilterOp::kEq, 20), (Strings{"Beta"}));
  EXPECT_EQ(where("score", FilterOp::kNe, 20), (Strings{"Alpha", "Gamma", "delta"}));  // null ≠ 20
  EXPECT_EQ(where("score", FilterOp::kLt, 20), (Strings{"Alpha"}));
  EXPECT_EQ(where("score", FilterOp::kLte, 20), (Strings{"Alpha", "Beta"}));
  EXPECT_EQ(where("score", FilterOp::kGt, 20), (Strings{"Gamma"}));
  EXPECT_EQ(where("score", FilterOp::kGte, 20), (Strings{"Beta", "Gamma"}));
  EXPECT_EQ(where("status", FilterOp::kIn, json::array{"new", "qualified"}),
            (Strings{"Alpha", "Gamma", "delta"}));
  EXPECT_EQ(where("company", FilterOp::kContains, "acme"), (Strings{"Alpha", "delta"}));
  EXPECT_EQ(where("company", FilterOp::kContains, "%"), (Strings{"Beta"}));  // no wildcards
  EXPECT_EQ(where("company", FilterOp::kContains, "_"), (Strings{"Beta"}));
  EXPECT_TRUE(where("company", FilterOp::kContains, "e_c").empty());  // '_' is no wildcard
  EXPECT_EQ(where("last_name", FilterOp::kStartsWith, "al"), (Strings{"Alpha"}));
  EXPECT_EQ(where("company", FilterOp::kIsNull, true), (Strings{"Gamma"}));
  EXPECT_EQ(where("company", FilterOp::kIsNull, false), (Strings{"Alpha", "Beta", "delta"}));
  EXPECT_EQ(where("email", FilterOp::kEq, nullptr), (Strings{"Beta", "Gamma", "delta"}));
  EXPECT_EQ(where("tags", FilterOp::kEq, "vip"), (Strings{"Alpha"}));
  EXPECT_EQ(where("tags", FilterOp::kContains, "us"), (Strings{"Beta"}));
  EXPECT_TRUE(where("tags", FilterOp::kContains, "v").empty());  // whole tags only
  EXPECT_EQ(where("annual_revenue", FilterOp::kGt, 1000.5), (Strings{"Beta"}));
  EXPECT_EQ(where("annual_revenue", FilterOp::kGte, 1000.5), (Strings{"Alpha", "Beta"}));
  EXPECT_EQ(
      where("created_at", FilterOp::kGte, json::string(core::FormatTimestamp(kStart + kHour))),
      (Strings{"Gamma", "delta"}));
  EXPECT_TRUE(where("last_name", FilterOp::kEq, "x' OR '1'='1").empty());
  EXPECT_EQ(Where(leads_, Group(FilterNode::Kind::kOr, {Cond("score", FilterOp::kEq, 10),
                                                        Cond("status", FilterOp::kEq, "working")})),
            (Strings{"Alpha", "Beta"}));
  EXPECT_EQ(Where(leads_,
                  Group(FilterNode::Kind::kAnd,
                        {Cond("status", FilterOp::kEq, "new"),
                         Group(FilterNode::Kind::kOr, {Cond("score", FilterOp::kGt, 5),
                                                       Cond("score", FilterOp::kIsNull, true)})})),
            (Strings{"Alpha", "delta"}));
  EXPECT_EQ(Where(leads_, Group(FilterNode::Kind::kAnd, {})).size(), 4u);
  EXPECT_TRUE(Where(leads_, Group(FilterNode::Kind::kOr, {})).empty());
  model::Query unknown;
  unknown.filter = Cond("nickname", FilterOp::kEq, "x");
  auto page = store_->List(a_, *leads_, unknown);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().problem_code, "invalid_filter");
}

TEST_F(SqliteRecordStoreTest, NotEqualOnTagsMeansWithoutTheTag) {
  // The domain accepts `ne` on a tags field, as it does `eq` ("has the tag").
  Put(a_, leads_, R"({"last_name":"Tagged","tags":["vip","eu"]})");
  Put(a_, leads_, R"({"last_name":"Other","tags":["eu"]})");
  Put(a_, leads_, R"({"last_name":"Untagged"})");
  model::Query query;
  query.filter = Cond("tags", FilterOp::kNe, "vip");
  ASSERT_TRUE(domain::NormalizeQuery(*leads_, query, true).ok());
  EXPECT_EQ(Where(leads_, *query.filter), (Strings{"Other", "Untagged"}));
}

TEST_F(SqliteRecordStoreTest, SortsTextWithNulls) {
  for (const char* name : {R"("b")", R"("a")", "null", R"("c")"}) {
    Put(a_, contacts_, std::string(R"({"first_name":"F","last_name":)") + name + "}");
  }
  model::Query query;
  query.sort = {{"last_name", false}};
  EXPECT_EQ(Column(a_, contacts_, query), (Strings{"-", "a", "b", "c"}));
  query.sort = {{"last_name", true}};
  EXPECT_EQ(Column(a_, contacts_, query), (Strings{"c", "b", "a", "-"}));
}

// One row of the reference order: the sort keys as the test knows them.
struct Row {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::int64_t> score;
  core::EpochMillis created_at;
  int index;  // insertion order = rowid order
};

TEST_F(SqliteRecordStoreTest, KeysetPaginationVisitsEveryRecordOnceInOrder) {
  static const char* kNames[] = {"Ng", "Smith", "Ødegaard", "abe", "Zhou", "Smith", "Lee"};
  std::vector<Row> contacts, leads;
  for (int batch = 0; batch * 10 < 137; ++batch) {
    std::vector<Change> contact_changes, lead_changes;
    for (int i = batch * 10; i < std::min(137, batch * 10 + 10); ++i) {
      std::optional<std::string> name;
      if (i % 7 != 3) name = kNames[(i * 5) % 7];
      json::object values{{"first_name", "F" + std::to_string(i)}};
      if (name) values["last_name"] = *name;
      contact_changes.push_back(Make(Change::Kind::kCreate, contacts_, "", values));
      contacts.push_back({contact_changes.back().id, name, {}, clock_.NowMillis(), i});
      std::optional<std::int64_t> score;
      if (i % 9 != 4) score = (i * 37) % 50;
      json::object lead{{"last_name", "L" + std::to_string(i)}};
      if (score) lead["score"] = *score;
      lead_changes.push_back(Make(Change::Kind::kCreate, leads_, "", lead));
      leads.push_back({lead_changes.back().id, {}, score, clock_.NowMillis(), i});
    }
    ASSERT_TRUE(Apply(a_, contact_changes).results.ok());
    ASSERT_TRUE(Apply(a_, lead_changes).results.ok());
    if (batch % 3 != 1) clock_.Advance(1000);  // some batches share a millisecond
  }
  ASSERT_EQ(contacts.size(), 137u);
  ASSERT_EQ(leads.size(), 137u);
  auto page_through = [&](const model::ObjectTypePtr& type, std::vector<model::SortKey> sort,
                          int limit) {
    model::Query query;
    query.sort = std::move(sort);
    return PageThrough(type, std::move(query), limit);
  };
  auto expected = [](std::vector<Row> rows, auto less) {
    std::sort(rows.begin(), rows.end(), less);
    Strings ids;
    for (const auto& row : rows) ids.push_back(row.id);
    return ids;
  };
  // NULLs sort first ascending, last descending; ties fall back to insertion order.
  auto newest_first = expected(contacts, [](const Row& x, const Row& y) {
    return std::tie(y.created_at, y.index) < std::tie(x.created_at, x.index);
  });
  auto by_name = expected(contacts, [](const Row& x, const Row& y) {
    return std::tie(x.name, x.index) < std::tie(y.name, y.index);
  });
  auto by_name_then_newest = expected(contacts, [](const Row& x, const Row& y) {
    return std::tie(x.name, y.created_at, x.index) < std::tie(y.name, x.created_at, y.index);
  });
  auto by_score_desc = expected(leads, [](const Row& x, const Row& y) {
    return std::tie(y.score, y.index) < std::tie(x.score, x.index);
  });
  EXPECT_EQ(page_through(contacts_, {}, 10), newest_first);
  EXPECT_EQ(page_through(contacts_, {{"last_name", false}}, 10), by_name);
  EXPECT_EQ(page_through(contacts_, {{"last_name", false}}, 7), by_name);
  EXPECT_EQ(page_through(contacts_, {{"last_name", false}, {"created_at", true}}, 10),
            by_name_then_newest);
  EXPECT_EQ(page_through(leads_, {{"score", true}}, 10), by_score_desc);
  EXPECT_EQ(page_through(leads_, {{"score", true}}, 137).size(), 137u);
}

// Lists filtered by equality on several indexed fields are read by intersecting the fields'
// indexes (index_intersection.h); they must return exactly what the plain scan returns, page by
// page, in both orders, with ties on created_at, deleted records and a skewed newest stretch.
TEST_F(SqliteRecordStoreTest, IndexIntersectionListsExactlyAsThePlainScan) {
  static const char* kStages[] = {"lead", "customer", "subscriber", "opportunity"};
  static const char* kCountries[] = {"DE", "FR", "US"};
  static const char* kFirst[] = {"Ann", "Bo"};
  std::vector<std::string> ids;
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<Change> changes;
    for (int i = batch * 10; i < batch * 10 + 10; ++i) {
      // The newest hundred: almost all leads in Germany (the skew that hurts a one-index scan).
      const bool skewed = batch >= 30 && i % 13 != 0;
      json::object values{{"last_name", "N" + std::to_string(i)},
                          {"first_name", kFirst[(i * 3 / 2) % 2]},
                          {"lifecycle_stage", skewed ? "lead" : kStages[(i * 7) % 4]},
                          {"mailing_country", skewed ? "DE" : kCountries[(i * 5) % 3]}};
      changes.push_back(Make(Change::Kind::kCreate, contacts_, "", values));
      ids.push_back(changes.back().id);
    }
    ASSERT_TRUE(Apply(a_, changes).results.ok());
    if (batch % 4 != 1) clock_.Advance(1000);  // some batches share a millisecond
  }
  for (int i = 5; i < 400; i += 37) {
    ASSERT_TRUE(Apply(a_, {Make(Change::Kind::kDelete, contacts_, ids[i])}).results.ok());
  }
  Put(b_, contacts_, R"({"last_name":"Other","lifecycle_stage":"lead","mailing_country":"DE"})");

  auto page_through = [&](model::Query query, int limit) {
    return PageThrough(contacts_, std::move(query), limit);
  };
  std::size_t nonempty = 0;
  for (const char* stage : kStages) {
    for (const char* country : kCountries) {
      for (int fields = 2; fields <= 3; ++fields) {
        std::vector<FilterNode> conditions{Cond("lifecycle_stage", FilterOp::kEq, stage),
                                           Cond("mailing_country", FilterOp::kEq, country)};
        if (fields == 3) conditions.push_back(Cond("first_name", FilterOp::kEq, "Ann"));
        for (const auto& sort : std::vector<std::vector<model::SortKey>>{
                 {}, {{"created_at", false}}, {{"created_at", true}}}) {
          model::Query intersected;
          intersected.filter = Group(FilterNode::Kind::kAnd, conditions);
          intersected.sort = sort;
          ASSERT_TRUE(PlanIntersection(*contacts_, a_, intersected, Dialect::kSqlite));
          // The same conditions with a (redundant) OR: read by the plain scan.
          model::Query scanned = intersected;
          auto with_or = conditions;
          with_or.push_back(Group(FilterNode::Kind::kOr, {conditions.front()}));
          scanned.filter = Group(FilterNode::Kind::kAnd, with_or);
          ASSERT_FALSE(PlanIntersection(*contacts_, a_, scanned, Dialect::kSqlite));
          const Strings expected = page_through(scanned, 500);
          if (!expected.empty()) ++nonempty;
          for (int limit : {1, 7, 50}) {
            EXPECT_EQ(page_through(intersected, limit), expected)
                << stage << " " << country << " fields " << fields << " limit " << limit
                << " sorts " << sort.size();
          }
        }
      }
    }
  }
  EXPECT_GT(nonempty, 30u);  // the combinations do match records
}

TEST_F(SqliteRecordStoreTest, ListedRecordsCarryEveryValueGetReadsAndKeepThemPastTheirPage) {
  const auto account = Put(a_, accounts_, R"({"name":"Acme"})");
  json::object values = Obj(R"({"first_name":"Ada","last_name":"Lovelace",
      "email":"ada@example.com","phone":"+44 20 7946 0958","lifecycle_stage":"customer",
      "mailing_country":"DE","do_not_email":true,"date_of_birth":"1815-12-10",
      "last_contacted_at":"2026-01-31T09:30:00.123Z","tags":["vip","beta"],
      "notes":"a note long enough not to fit inside a short string's own buffer"})");
  values["account_id"] = account.id;
  const auto created = One(a_, Make(Change::Kind::kCreate, contacts_, "", values));
  Put(a_, contacts_,
      R"({"last_name":"Other","lifecycle_stage":"customer","mailing_country":"FR"})");
  auto got = store_->Get(a_, *contacts_, created.id);
  ASSERT_TRUE(got.ok()) << Describe(got.error());

  // Both ways a page is read: the plain query and the index intersection.
  model::Query plain;
  plain.filter = Cond("email", FilterOp::kEq, "ada@example.com");
  model::Query intersected;
  intersected.filter =
      Group(FilterNode::Kind::kAnd, {Cond("lifecycle_stage", FilterOp::kEq, "customer"),
                                     Cond("mailing_country", FilterOp::kEq, "DE")});
  ASSERT_FALSE(PlanIntersection(*contacts_, a_, plain, Dialect::kSqlite));
  ASSERT_TRUE(PlanIntersection(*contacts_, a_, intersected, Dialect::kSqlite));
  for (const auto& query : {plain, intersected}) {
    std::optional<model::Record> kept;
    {
      auto page = store_->List(a_, *contacts_, query);
      ASSERT_TRUE(page.ok()) << Describe(page.error());
      ASSERT_EQ(page->records.size(), 1u);
      EXPECT_EQ(page->records.front().values, got->values);
      // In the page's arena (which frees nothing until it goes), not the default allocator.
      EXPECT_TRUE(page->records.front().values.storage().is_deallocate_trivial());
      EXPECT_FALSE(got->values.storage().is_deallocate_trivial());
      kept = page->records.front();  // a copy shares the page's arena
    }
    // The page is gone; the copy's values (strings, tags, the date-time) are still whole.
    EXPECT_EQ(kept->values, got->values);
    EXPECT_EQ(kept->values.at("notes"), values.at("notes"));
    EXPECT_EQ(kept->values.at("tags"), values.at("tags"));
    kept->values["notes"] = "changed after the page";
    EXPECT_EQ(kept->values.at("notes"), "changed after the page");
  }
}

TEST_F(SqliteRecordStoreTest, IndexIntersectionIsOnlyPlannedForItsShape) {
  auto plan = [&](std::vector<FilterNode> conditions, std::vector<model::SortKey> sort = {},
                  std::string text = "") {
    model::Query query;
    query.filter = Group(FilterNode::Kind::kAnd, std::move(conditions));
    query.sort = std::move(sort);
    query.text = std::move(text);
    return PlanIntersection(*contacts_, a_, query, Dialect::kSqlite).has_value();
  };
  const auto stage = Cond("lifecycle_stage", FilterOp::kEq, "lead");
  const auto country = Cond("mailing_country", FilterOp::kEq, "DE");
  EXPECT_TRUE(plan({stage, country}));
  EXPECT_FALSE(plan({stage}));  // one index is enough
  EXPECT_FALSE(plan({stage, Cond("lifecycle_stage", FilterOp::kEq, "customer")}));  // one field
  EXPECT_FALSE(plan({stage, Cond("mailing_country", FilterOp::kNe, "DE")}));
  EXPECT_FALSE(plan({stage, Cond("mailing_state", FilterOp::kEq, "NRW")}));  // not indexed
  EXPECT_FALSE(plan({stage, Cond("email", FilterOp::kEq, "a@b.co")}));       // unique
  EXPECT_FALSE(plan({stage, country}, {{"last_name", false}}));
  EXPECT_FALSE(plan({stage, country}, {}, "smith"));
  model::Query query;
  query.filter = Group(FilterNode::Kind::kAnd, {stage, country});
  EXPECT_FALSE(PlanIntersection(*contacts_, a_, query, Dialect::kPostgres));
  model::Principal scoped = a_;
  scoped.scopes = {{"contacts", model::RecordScope::kOwn}};
  scoped.user_id = "usr_1";
  EXPECT_FALSE(PlanIntersection(*contacts_, scoped, query, Dialect::kSqlite));
}

TEST_F(SqliteRecordStoreTest, CursorsOnlyWorkForTheQueryThatIssuedThem) {
  for (int i = 0; i < 3; ++i) Put(a_, leads_, R"({"last_name":"Smith","score":5})");
  model::Query query;
  query.sort = {{"last_name", false}};
  query.limit = 1;
  auto page = store_->List(a_, *leads_, query);
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->next_cursor.empty());
  const std::string cursor = page->next_cursor;
  auto expect_invalid = [&](model::Query q, const std::string& why) {
    auto result = store_->List(a_, *leads_, q);
    ASSERT_FALSE(result.ok()) << why;
    EXPECT_EQ(result.error().code, Code::kBadRequest) << why;
    EXPECT_EQ(result.error().problem_code, "invalid_cursor") << why;
  };
  model::Query other = query;
  other.sort = {{"score", true}};
  other.cursor = cursor;
  expect_invalid(other, "another sort");
  other.sort = query.sort;
  other.text = "smith";
  expect_invalid(other, "another text");
  json::object decoded = core::ParseJson(*core::Base64UrlDecode(cursor)).value().as_object();
  auto tampered = [&](json::object object) {
    model::Query q = query;
    q.cursor = core::Base64UrlEncode(core::WriteJson(object));
    return q;
  };
  for (const char* garbage : {"!!!", "abc", "e30", "bnVsbA", "W10"}) {  // e30 = {}, W10 = []
    model::Query q = query;
    q.cursor = garbage;
    expect_invalid(q, garbage);
  }
  json::object short_keys = decoded;
  short_keys["k"] = json::array{"Smith"};
  expect_invalid(tampered(short_keys), "missing rowid");
  json::object bool_keys = decoded;
  bool_keys["k"] = json::array{true, 1};
  expect_invalid(tampered(bool_keys), "bool key");
  json::object text_rowid = decoded;
  text_rowid["k"] = json::array{"Smith", "1 OR 1=1"};
  expect_invalid(tampered(text_rowid), "text rowid");
  // The untouched cursor still works.
  query.cursor = cursor;
  EXPECT_EQ(store_->List(a_, *leads_, query)->records.size(), 1u);
}

TEST_F(SqliteRecordStoreTest, FullTextSearch) {
  const auto john = Put(a_, contacts_, R"({"first_name":"John","last_name":"Smith"})");
  const auto jane = Put(a_, contacts_, R"({"first_name":"Jane","last_name":"Smithers"})");
  Put(a_, contacts_, R"({"first_name":"Bob","last_name":"Jones","email":"bob@example.com"})");
  Put(a_, contacts_, R"({"first_name":"José","last_name":"Álvarez"})");
  Put(b_, contacts_, R"({"first_name":"John","last_name":"Smith-B"})");
  EXPECT_EQ(Search(a_, "smi"), (Strings{"Smith", "Smithers"}));
  EXPECT_EQ(Search(a_, "SMITH"), (Strings{"Smith", "Smithers"}));
  EXPECT_EQ(Search(a_, "john smi"), (Strings{"Smith"}));
  EXPECT_EQ(Search(a_, "smith jo"), (Strings{"Smith"}));
  EXPECT_TRUE(Search(a_, "jones smith").empty());
  EXPECT_EQ(Search(a_, "bob@example"), (Strings{"Jones"}));
  EXPECT_EQ(Search(a_, "jose alv"), (Strings{"Álvarez"}));
  EXPECT_EQ(Search(b_, "smith"), (Strings{"Smith-B"}));
  for (const char* hostile : {"\"smith\" OR 1=1 --", "smith*", "NEAR(john smith)", "tenant:x",
                              "-smith", "^smith", "' OR ''='", "\"", "()"}) {
    for (const auto& name : Search(a_, hostile)) EXPECT_NE(name, "Smith-B") << hostile;
  }
  EXPECT_TRUE(Search(a_, "!!! ...").empty());
  One(a_, Make(Change::Kind::kDelete, contacts_, john.id));
  EXPECT_EQ(Search(a_, "smith"), (Strings{"Smithers"}));
  One(a_, Make(Change::Kind::kUpdate, contacts_, jane.id, Obj(R"({"last_name":"Brown"})")));
  EXPECT_TRUE(Search(a_, "smithers").empty());
  EXPECT_EQ(Search(a_, "brown"), (Strings{"Brown"}));
  // Ranked results page by offset.
  Put(a_, contacts_, R"({"first_name":"Jan","last_name":"Brownlee"})");
  model::Query query;
  query.text = "brown";
  query.limit = 1;
  auto first = store_->List(a_, *contacts_, query);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->records.size(), 1u);
  query.cursor = first->next_cursor;
  auto second = store_->List(a_, *contacts_, query);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->records.size(), 1u);
  EXPECT_TRUE(second->next_cursor.empty());
  EXPECT_NE(first->records[0].id, second->records[0].id);
}

// SQLite's reads are local work: ListAsync answers as List does, on the calling thread or on
// the workers it is given, and says the server is busy when their queue is full.
TEST_F(SqliteRecordStoreTest, ListAsyncAnswersAsListHereOrOnTheWorkers) {
  Put(a_, contacts_, R"({"first_name":"John","last_name":"Smith"})");
  Put(a_, contacts_, R"({"first_name":"Jane","last_name":"Smithers"})");
  Put(a_, contacts_, R"({"first_name":"Bob","last_name":"Jones"})");
  model::Query search;
  search.text = "smith";
  search.limit = 1;
  auto listed = store_->List(a_, *contacts_, search);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->records.size(), 1u);
  ASSERT_FALSE(listed->next_cursor.empty());

  // What a ListAsync's callback saw, and on which thread.
  struct Answered {
    std::optional<core::Result<Page>> page;
    std::thread::id thread;
  };
  auto list_async = [&](core::WorkPool* workers) {
    auto promise = std::make_shared<std::promise<Answered>>();
    auto future = promise->get_future();
    store_->ListAsync(a_, *contacts_, search, workers, [promise](core::Result<Page> page) {
      promise->set_value({std::move(page), std::this_thread::get_id()});
    });
    return future;
  };
  auto here = list_async(nullptr);
  ASSERT_EQ(here.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  Answered answered = here.get();
  ASSERT_TRUE(answered.page->ok()) << Describe(answered.page->error());
  EXPECT_EQ(answered.thread, std::this_thread::get_id());
  EXPECT_EQ((*answered.page)->records.at(0).id, listed->records[0].id);
  EXPECT_EQ((*answered.page)->next_cursor, listed->next_cursor);

  core::WorkPool workers(1, 4);
  auto on_worker = list_async(&workers);
  answered = Await(on_worker);
  ASSERT_TRUE(answered.page->ok()) << Describe(answered.page->error());
  EXPECT_NE(answered.thread, std::this_thread::get_id());
  EXPECT_EQ((*answered.page)->records.at(0).id, listed->records[0].id);
  EXPECT_EQ((*answered.page)->next_cursor, listed->next_cursor);

  core::WorkPool full(0, 0);  // refuses every work
  auto refused = list_async(&full);
  ASSERT_EQ(refused.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  answered = refused.get();
  ASSERT_FALSE(answered.page->ok());
  EXPECT_EQ(answered.page->error().code, Code::kUnavailable);
  EXPECT_EQ(answered.page->error().problem_code, "unavailable");

  // A query that cannot compile fails before any thread is asked.
  search.cursor = "not-a-cursor";
  auto invalid = list_async(&full);
  ASSERT_EQ(invalid.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  answered = invalid.get();
  ASSERT_FALSE(answered.page->ok());
  EXPECT_EQ(answered.page->error().problem_code, "invalid_cursor");
}

// The writer keeps a group's search index writes for its end (Session::RunOrDefer); those of a
// piece that failed must go with it, and the others' must all arrive.
TEST_F(SqliteRecordStoreTest, AGroupIndexesItsPiecesThatCommitAndOnlyThose) {
  const auto renamed = Put(a_, contacts_, R"({"first_name":"Old","last_name":"Quill"})");
  auto release = sql::testing::HoldTheWriter(*db_);
  std::vector<std::future<ApplyOutcome>> outcomes;
  auto submit = [&](std::vector<Change> changes) {
    auto promise = std::make_shared<std::promise<ApplyOutcome>>();
    outcomes.push_back(promise->get_future());
    store_->Apply(a_, std::move(changes), std::nullopt,
                  [promise](ApplyOutcome outcome) { promise->set_value(std::move(outcome)); });
  };
  // All queue behind the held work, so they commit as one group.
  submit({Create(contacts_, R"({"first_name":"Alpha","last_name":"Zed"})")});
  submit({Create(contacts_, R"({"first_name":"Beta","last_name":"Zed"})"),
          Make(Change::Kind::kUpdate, contacts_, "con_missing", Obj(R"({"title":"x"})"))});
  submit({Make(Change::Kind::kUpdate, contacts_, renamed.id, Obj(R"({"last_name":"Zed"})"))});
  submit({Create(contacts_, R"({"first_name":"Gamma","last_name":"Zed"})"),
          Make(Change::Kind::kDelete, contacts_, renamed.id)});
  submit({Create(contacts_, R"({"first_name":"Delta","last_name":"Zed"})")});
  release.set_value();
  std::vector<bool> ok;
  for (auto& outcome : outcomes) ok.push_back(Await(outcome).results.ok());
  EXPECT_EQ(ok, (std::vector<bool>{true, false, true, true, true}));
  model::Query query;
  query.text = "zed";
  query.sort = {{"first_name", false}};
  EXPECT_EQ(Column(a_, contacts_, query, "first_name"), (Strings{"Alpha", "Delta", "Gamma"}));
  query.text = "quill";
  EXPECT_TRUE(Column(a_, contacts_, query).empty());
}

TEST_F(SqliteRecordStoreTest, TextSearchMatchesPiiOnlyForThoseWhoSeeIt) {
  model::Field secret;
  secret.name = "nickname";
  secret.custom = true;
  secret.searchable = true;
  secret.pii = true;
  auto extended = std::make_shared<model::ObjectType>(*contacts_);
  extended->fields.push_back(secret);
  Put(a_, extended,
      R"({"last_name":"Plain","email":"zed.quux@example.com","phone":"+1 555 0199 7788",)"
      R"("nickname":"Xyzzy"})");
  model::Principal masked = a_;
  masked.mask_pii = true;
  for (const char* text : {"quux", "zed.quux@example.com", "7788", "xyzzy"}) {
    EXPECT_EQ(Search(a_, text), Strings{"Plain"}) << text;
    EXPECT_TRUE(Search(masked, text).empty()) << text;
  }
  EXPECT_EQ(Search(masked, "plain"), Strings{"Plain"});
  // Ranked (no sort) as well.
  model::Query ranked;
  ranked.text = "quux";
  EXPECT_EQ(Column(a_, extended, ranked), Strings{"Plain"});
  EXPECT_TRUE(Column(masked, extended, ranked).empty());
}

TEST_F(SqliteRecordStoreTest, SearchIndexOfTheOldLayoutIsRebuiltOnOpen) {
  model::Field region;
  region.name = "region";
  region.custom = true;
  region.searchable = true;
  std::promise<core::Status> added;
  auto added_future = added.get_future();
  directory_->AddCustomField(a_, "contacts", region,
                             [&added](core::Status status) { added.set_value(status); });
  ASSERT_TRUE(Await(added_future).ok());
  auto extended = std::make_shared<model::ObjectType>(*contacts_);
  extended->fields.push_back(region);
  const auto account = Put(a_, accounts_, R"({"name":"Initech"})");
  Put(a_, extended,
      R"({"last_name":"Kept","email":"kept.mail@example.com","region":"Narnia",)"
      R"("account_id":")" +
          account.id + R"("})");
  const auto gone = Put(a_, contacts_, R"({"last_name":"Gone"})");
  One(a_, Make(Change::Kind::kDelete, contacts_, gone.id));
  Put(b_, contacts_, R"({"last_name":"Other"})");
  Close();
  {
    // Lay fts_contacts out as before the pii column, holding stale text.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/zebros.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db,
                     "DROP TABLE fts_contacts;"
                     "CREATE VIRTUAL TABLE fts_contacts USING fts5(body, related,"
                     " tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');"
                     "INSERT INTO fts_contacts (rowid, body, related) VALUES (1, 'stale', '')",
                     nullptr, nullptr, nullptr),
        SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  Open();
  model::Principal masked = a_;
  masked.mask_pii = true;
  EXPECT_EQ(Search(a_, "kept.mail"), Strings{"Kept"});
  EXPECT_TRUE(Search(masked, "kept.mail").empty());
  EXPECT_EQ(Search(masked, "initech"), Strings{"Kept"});  // related: the account's name
  EXPECT_EQ(Search(masked, "narnia"), Strings{"Kept"});   // the tenant's custom field
  EXPECT_TRUE(Search(a_, "gone").empty());                // deleted records stay out
  EXPECT_TRUE(Search(a_, "stale").empty());
  EXPECT_TRUE(Search(a_, "other").empty());
  EXPECT_EQ(Search(b_, "other"), Strings{"Other"});
  // Opening again leaves the new layout alone.
  Close();
  Open();
  EXPECT_EQ(Search(a_, "kept"), Strings{"Kept"});
}

// An index made with other options (only 2- and 3-character prefix indexes, as before) keeps its
// text across the change of layout, and every prefix length finds the same records.
TEST_F(SqliteRecordStoreTest, SearchIndexWithOlderOptionsIsRelaidOnOpen) {
  Put(a_, contacts_, R"({"first_name":"John","last_name":"Smith"})");
  Put(a_, contacts_, R"({"first_name":"Jane","last_name":"Smithers"})");
  Put(a_, contacts_, R"({"first_name":"Sam","last_name":"Jones","email":"sam@example.com"})");
  Put(a_, contacts_, R"({"first_name":"Wil","last_name":"Williamson"})");
  Put(b_, contacts_, R"({"first_name":"John","last_name":"Smith-B"})");
  Close();
  const std::string path = dir_ + "/zebros.db";
  const auto table_sql = [this] {
    return ReadOne("SELECT sql FROM sqlite_master WHERE name = 'fts_contacts'");
  };
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE VIRTUAL TABLE old_fts USING fts5(body, related, pii,"
                           " tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');"
                           "INSERT INTO old_fts (rowid, body, related, pii)"
                           " SELECT rowid, body, related, pii FROM fts_contacts;"
                           "DROP TABLE fts_contacts;"
                           "ALTER TABLE old_fts RENAME TO fts_contacts",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  ASSERT_NE(table_sql().find("prefix = '2 3'"), std::string::npos);
  Open();
  EXPECT_NE(table_sql().find("prefix = '1 2 3 4 5 6 7 8'"), std::string::npos) << table_sql();
  EXPECT_EQ(Search(a_, "john"), Strings{"Smith"});
  EXPECT_EQ(Search(a_, "sam@example"), Strings{"Jones"});
  // "s" begins Sam (and the e-mail's "sam") too: every record of the tenant, none of b's.
  EXPECT_EQ(Search(a_, "s"), (Strings{"Jones", "Smith", "Smithers"}));
  for (const char* prefix : {"sm", "smi", "smit", "smith"}) {
    EXPECT_EQ(Search(a_, prefix), (Strings{"Smith", "Smithers"})) << prefix;
  }
  for (const char* prefix : {"smithe", "smither", "smithers"}) {
    EXPECT_EQ(Search(a_, prefix), Strings{"Smithers"}) << prefix;
  }
  // Longer than any prefix index: the terms it begins are merged as before.
  EXPECT_EQ(Search(a_, "williamso"), Strings{"Williamson"});
  EXPECT_EQ(Search(a_, "john s"), Strings{"Smith"});
  EXPECT_EQ(Search(b_, "s"), Strings{"Smith-B"});
  // Opening again leaves the new layout and its text alone.
  Close();
  Open();
  EXPECT_EQ(Search(a_, "jane smi"), Strings{"Smithers"});
}

// Every write group leaves a segment in the search index; a server's writer merges them while
// it is idle, and searches find the same records.
TEST_F(SqliteRecordStoreTest, AnIdleWriterMergesTheSearchIndexSegments) {
  for (int i = 0; i < 40; ++i) {
    Put(a_, contacts_, R"({"first_name":"Merle","last_name":"Segment)" + std::to_string(i) + "\"}");
  }
  const auto segments = [this] {
    return std::stoi(ReadOne("SELECT count(DISTINCT segid) FROM fts_contacts_idx"));
  };
  const int before = segments();
  ASSERT_GT(before, 2);  // FTS5 itself merges only when four gather on a level
  Close();
  Open(std::chrono::milliseconds(20));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int after = segments();
  while (after > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = segments();
  }
  EXPECT_EQ(after, 1) << "from " << before;
  EXPECT_EQ(Search(a_, "merle").size(), 40u);
  EXPECT_EQ(Search(a_, "segment3 "), Strings{"Segment3"});  // a whole term
  // New writes after the merges are found as well.
  Put(a_, contacts_, R"({"first_name":"Merle","last_name":"Latecomer"})");
  EXPECT_EQ(Search(a_, "merle").size(), 41u);
}

TEST_F(SqliteRecordStoreTest, CustomFields) {
  auto add = [&](const model::Principal& principal, const std::string& object,
                 const model::Field& field) {
    std::promise<core::Status> promise;
    auto future = promise.get_future();
    directory_->AddCustomField(principal, object, field,
                               [&promise](core::Status status) { promise.set_value(status); });
    return Await(future);
  };
  auto field = [](std::string name, model::FieldType type) {
    model::Field f;
    f.name = std::move(name);
    f.type = type;
    f.custom = true;
    f.indexed = true;
    return f;
  };
  model::Field region = field("region", model::FieldType::kText);
  region.searchable = true;
  model::Field rating = field("rating", model::FieldType::kInteger);
  model::Field badge = field("badge", model::FieldType::kText);
  badge.unique = true;
  auto extended = std::make_shared<model::ObjectType>(*contacts_);
  for (const auto& f : {region, rating, badge}) {
    ASSERT_TRUE(add(a_, "contacts", f).ok());
    extended->fields.push_back(f);
  }
  EXPECT_EQ(add(a_, "contacts", region).error().code, Code::kConflict);
  EXPECT_EQ(add(a_, "widgets", region).error().code, Code::kNotFound);
  EXPECT_EQ(directory_->LoadCustomFields(a_.tenant_id)->size(), 3u);
  EXPECT_TRUE(directory_->LoadCustomFields(b_.tenant_id)->empty());
  model::ObjectTypePtr type = extended;
  const auto emea = Put(a_, type, R"({"last_name":"E","region":"EMEA","rating":5,"badge":"b1"})");
  Put(a_, type, R"({"last_name":"A","region":"APAC","rating":1,"badge":"b2"})");
  Put(a_, type, R"({"last_name":"N","rating":30})");
  EXPECT_EQ(store_->Get(a_, *type, emea.id)->values.at("region"), "EMEA");
  EXPECT_EQ(Where(type, Cond("region", FilterOp::kEq, "EMEA")), Strings{"E"});
  EXPECT_EQ(Where(type, Cond("rating", FilterOp::kGt, 2)), (Strings{"E", "N"}));  // numeric
  EXPECT_EQ(Where(type, Cond("region", FilterOp::kIsNull, true)), Strings{"N"});
  model::Query sorted;
  sorted.sort = {{"rating", true}};
  EXPECT_EQ(Column(a_, type, sorted), (Strings{"N", "E", "A"}));
  sorted.limit = 1;
  Strings paged;
  for (int i = 0; i < 5; ++i) {
    auto page = store_->List(a_, *type, sorted);
    ASSERT_TRUE(page.ok()) << Describe(page.error());
    for (const auto& record : page->records)
      paged.emplace_back(record.values.at("last_name").as_string());
    if (page->next_cursor.empty()) break;
    sorted.cursor = page->next_cursor;
  }
  EXPECT_EQ(paged, (Strings{"N", "E", "A"}));
  EXPECT_EQ(Search(a_, "emea"), Strings{"E"});
  auto error = Fails(a_, {Create(type, R"({"last_name":"Dup","badge":"b1"})")});
  EXPECT_EQ(error.code, Code::kConflict);
  ASSERT_EQ(error.field_errors.size(), 1u);
  EXPECT_EQ(error.field_errors[0].field, "badge");
  // Tenant B has no such field, but may use the same name and value for its own.
  ASSERT_TRUE(add(b_, "contacts", badge).ok());
  Put(b_, type, R"({"last_name":"B","badge":"b1"})");
}

TEST_F(SqliteRecordStoreTest, UpdateThroughAnOlderTypeKeepsCustomValues) {
  // A request that loaded the schema before a field was added must not erase its values.
  model::Field region;
  region.name = "region";
  region.custom = true;
  auto extended = std::make_shared<model::ObjectType>(*contacts_);
  extended->fields.push_back(region);
  const auto record = Put(a_, extended, R"({"last_name":"E","region":"EMEA"})");
  One(a_, Make(Change::Kind::kUpdate, contacts_, record.id, Obj(R"({"title":"CTO"})")));
  EXPECT_EQ(store_->Get(a_, *extended, record.id)->values.at("region"), json::value("EMEA"));
}

TEST_F(SqliteRecordStoreTest, WriterGroupCommitsConcurrentApplies) {
  Put(a_, contacts_, R"({"first_name":"Taken","email":"taken@example.com"})");
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::mutex mutex;
  std::condition_variable all_done;
  int finished = 0, succeeded = 0, conflicted = 0;
  std::set<std::string> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread + 2; ++i) {
        // Two of each thread's calls collide with the taken e-mail and must fail alone.
        const std::string email =
            i >= kPerThread ? "taken@example.com"
                            : "u" + std::to_string(t) + "-" + std::to_string(i) + "@example.com";
        json::object values{{"first_name", "T"}, {"email", email}};
        store_->Apply(a_, {Make(Change::Kind::kCreate, contacts_, "", values)}, std::nullopt,
                      [&](ApplyOutcome outcome) {
                        std::lock_guard lock(mutex);
                        if (outcome.results.ok()) {
                          ++succeeded;
                          ids.insert(outcome.results->front().record.id);
                        } else if (outcome.results.error().code == Code::kConflict) {
                          ++conflicted;
                        }
                        ++finished;
                        all_done.notify_all();
                      });
        // Readers on eight threads run beside the writer and always see a consistent page.
        if (i % 5 == 0) {
          auto page = store_->List(a_, *contacts_, model::Query{});
          EXPECT_TRUE(page.ok() && !page->records.empty());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(120),
                                  [&] { return finished == kThreads * (kPerThread + 2); }));
  }
  EXPECT_EQ(succeeded, kThreads * kPerThread);
  EXPECT_EQ(conflicted, kThreads * 2);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kThreads * kPerThread));
  model::Query all;
  all.limit = 500;
  EXPECT_EQ(Column(a_, contacts_, all, "id").size(),
            static_cast<std::size_t>(kThreads * kPerThread + 1));
  EXPECT_EQ(IntegrityCheck(), "ok");
}

TEST_F(SqliteRecordStoreTest, DataSurvivesReopening) {
  const auto record = Put(a_, contacts_, R"({"first_name":"Ada","email":"ada@example.com"})");
  Close();
  Open();
  auto got = store_->Get(a_, *contacts_, record.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->values, record.values);
  EXPECT_EQ(db_->AppliedSchemaVersion().value(), db_->LatestSchemaVersion());
  EXPECT_EQ(Search(a_, "ada"), Strings{"-"});
}

}  // namespace
}  // namespace zebros::storage::sql
