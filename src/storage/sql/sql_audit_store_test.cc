#include "storage/sql/sql_audit_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>

#include "core/json.h"
#include "core/testing/await.h"
#include "core/testing/fake_clock.h"
#include "core/testing/temp_dir.h"
#include "domain/builtin_schemas.h"
#include "storage/sql/sql_directory_store.h"
#include "storage/sql/sql_record_store.h"
#include "storage/sqlite/database.h"

namespace zebros::storage::sql {
using sqlite::Connection;
using sqlite::Database;
namespace {
namespace json = boost::json;

constexpr core::EpochMillis kStart = core::testing::FakeClock::kDefaultStart;

using core::testing::FakeClock;

using core::testing::Await;

class AuditStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    Open();
    a_ = MakePrincipal("acme");
    b_ = MakePrincipal("globex");
  }
  void TearDown() override { Close(); }
  void Open() {
    auto db = Database::Open(dir_ + "/zebros.db", domain::BuiltinObjectTypes(), clock_);
    ASSERT_TRUE(db.ok()) << db.error().detail;
    db_ = std::move(db).value();
    audit_ = std::make_unique<SqlAuditStore>(*db_);
    records_ = std::make_unique<SqlRecordStore>(*db_);
    directory_ = std::make_unique<SqlDirectoryStore>(*db_, ids_, domain::BuiltinObjectTypes());
  }
  void Close() {
    directory_.reset();
    records_.reset();
    audit_.reset();
    db_.reset();
  }
  model::Principal MakePrincipal(const std::string& name) {
    auto tenant = directory_->CreateTenant(name);
    EXPECT_TRUE(tenant.ok());
    model::Principal principal;
    principal.tenant_id = tenant.ok() ? tenant->id : "";
    principal.tenant_name = name;
    principal.subject = "key:" + name;
    principal.role = model::Role::kAdmin;
    principal.tenant_number = tenant.ok() ? tenant->number : 0;
    principal.request_id = "req-" + name;
    principal.client_ip = "192.0.2.1";
    return principal;
  }
  core::Status Append(const model::Principal& principal, std::string action,
                      std::string record_id = "") {
    AuditEntry entry;
    entry.action = std::move(action);
    entry.object = "contacts";
    entry.record_id = std::move(record_id);
    std::promise<core::Status> promise;
    auto future = promise.get_future();
    audit_->Append(principal, std::move(entry),
                   [&promise](core::Status status) { promise.set_value(std::move(status)); });
    clock_.Advance(1000);
    return Await(future);
  }
  ApplyOutcome Apply(const model::Principal& principal, std::vector<Change> changes,
                     std::optional<Idempotency> idempotency = std::nullopt) {
    std::promise<ApplyOutcome> promise;
    auto future = promise.get_future();
    records_->Apply(principal, std::move(changes), std::move(idempotency),
                    [&promise](ApplyOutcome outcome) { promise.set_value(std::move(outcome)); });
    clock_.Advance(1000);
    return Await(future);
  }
  Change NewContact(std::string id, std::string_view values) {
    Change change;
    change.kind = Change::Kind::kCreate;
    change.type = ContactType();
    change.id = std::move(id);
    change.values = core::ParseJson(values).value().as_object();
    return change;
  }
  static model::ObjectTypePtr ContactType() {
    for (const auto& type : domain::BuiltinObjectTypes()) {
      if (type->name == "contacts") return type;
    }
    return nullptr;
  }
  std::vector<AuditEntry> All(const model::Principal& principal, AuditQuery query = {}) {
    query.limit = 500;
    auto page = audit_->List(principal.tenant_id, query);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->entries : std::vector<AuditEntry>{};
  }
  // Runs one statement on the file behind the store's back (tampering).
  void Tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/zebros.db").c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }

  core::testing::TempDir temp_{"zebros-audit-test"};
  std::string dir_;
  FakeClock clock_;
  core::IdGenerator ids_{clock_};
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqlAuditStore> audit_;
  std::unique_ptr<SqlRecordStore> records_;
  std::unique_ptr<SqlDirectoryStore> directory_;
  model::Principal a_, b_;
};

TEST_F(AuditStoreTest, AppendFillsOriginFromThePrincipalAndChainsPerTenant) {
  ASSERT_TRUE(Append(a_, audit_action::kLoginSuccess).ok());
  ASSERT_TRUE(Append(b_, audit_action::kLoginFailure).ok());
  ASSERT_TRUE(Append(a_, audit_action::kApiKeyCreate).ok());
  const auto a = All(a_);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].action, "api_key.create");  // newest first
  EXPECT_EQ(a[1].action, "login.success");
  EXPECT_EQ(a[1].actor, "key:acme");
  EXPECT_EQ(a[1].request_id, "req-acme");
  EXPECT_EQ(a[1].ip, "192.0.2.1");
  EXPECT_EQ(a[1].at, kStart);
  EXPECT_EQ(a[1].prev_hash, std::string(64, '0'));
  EXPECT_EQ(a[0].prev_hash, a[1].hash);  // b's entry in between is not part of a's chain
  const auto b = All(b_);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].prev_hash, std::string(64, '0'));
  auto verdict = audit_->Verify();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->ok) << verdict->reason;
  EXPECT_EQ(verdict->entries, 3);
}

// The transaction remembers the audit head it moved (TransactionMemo); an entry rolled back
// with its savepoint must take the remembered head with it, or the next entry would chain to a
// hash that is not in the log.
TEST_F(AuditStoreTest, AnEntryRolledBackToASavepointIsNotChainedTo) {
  auto append = [this](Session& session, const char* action) {
    AuditEntry entry;
    entry.tenant_id = a_.tenant_id;
    entry.action = action;
    entry.at = kStart;
    return db_->audit_log().Append(session, entry);
  };
  auto status = db_->Run([&](Session& session) -> core::Status {
    if (auto kept = append(session, "first"); !kept.ok()) return kept;
    if (auto set = session.Exec("SAVEPOINT inner"); !set.ok()) return set;
    if (auto undone = append(session, "undone"); !undone.ok()) return undone;
    EXPECT_TRUE(session.memo().audit_head.has_value());
    if (auto back = session.Exec("ROLLBACK TO inner"); !back.ok()) return back;
    EXPECT_FALSE(session.memo().audit_head.has_value());
    return append(session, "second");
  });
  ASSERT_TRUE(status.ok()) << status.error().detail;
  const auto entries = All(a_);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, "second");
  EXPECT_EQ(entries[0].prev_hash, entries[1].hash);
  auto verdict = audit_->Verify();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->ok) << verdict->reason;
}

// The same through the writer's group commit: a queued write that fails after appending rolls
// back alone, and the next write of the group chains to the entry before it.
TEST_F(AuditStoreTest, AFailedWriteInAGroupLeavesTheChainWhole) {
  std::promise<void> started, release;
  auto release_future = release.get_future().share();
  std::promise<core::Status> blocker_done;
  db_->Submit(
      [&](Session&) {
        started.set_value();
        release_future.wait();  // hold the writer until the three writes below are queued
        return core::OkStatus();
      },
      [&](core::Status status) { blocker_done.set_value(std::move(status)); });
  started.get_future().wait();
  std::vector<std::promise<core::Status>> done(3);
  for (int i = 0; i < 3; ++i) {
    db_->Submit(
        [this, i](Session& session) -> core::Status {
          AuditEntry entry;
          entry.tenant_id = a_.tenant_id;
          entry.action = "write." + std::to_string(i);
          entry.at = kStart;
          auto appended = db_->audit_log().Append(session, entry);
          if (!appended.ok() || i != 1) return appended;
          return core::MakeError(core::Code::kConflict, "conflict", "fails after its entry");
        },
        [&done, i](core::Status status) { done[i].set_value(std::move(status)); });
  }
  release.set_value();
  auto blocker = blocker_done.get_future();
  EXPECT_TRUE(Await(blocker).ok());
  for (int i = 0; i < 3; ++i) {
    auto future = done[i].get_future();
    EXPECT_EQ(Await(future).ok(), i != 1) << i;
  }
  const auto entries = All(a_);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].action, "write.2");
  EXPECT_EQ(entries[1].action, "write.0");
  EXPECT_EQ(entries[0].prev_hash, entries[1].hash);
  auto verdict = audit_->Verify();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->ok) << verdict->reason;
}

TEST_F(AuditStoreTest, ListFiltersAndPagesNewestFirst) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Append(a_, "record.update", "con_1").ok());
  ASSERT_TRUE(Append(a_, "record.delete", "con_2").ok());
  AuditQuery by_record;
  by_record.record_id = "con_1";
  EXPECT_EQ(All(a_, by_record).size(), 5u);
  AuditQuery by_action;
  by_action.action = "record.delete";
  EXPECT_EQ(All(a_, by_action).size(), 1u);
  AuditQuery window;
  window.since = kStart + 1000;
  window.until = kStart + 3000;
  EXPECT_EQ(All(a_, window).size(), 2u);
  AuditQuery by_actor;
  by_actor.actor = "key:globex";
  EXPECT_TRUE(All(a_, by_actor).empty());

  AuditQuery page_query;
  page_query.limit = 4;
  auto first = audit_->List(a_.tenant_id, page_query);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->entries.size(), 4u);
  ASSERT_FALSE(first->next_cursor.empty());
  page_query.cursor = first->next_cursor;
  auto second = audit_->List(a_.tenant_id, page_query);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->entries.size(), 2u);
  EXPECT_TRUE(second->next_cursor.empty());
  EXPECT_GT(first->entries.back().seq, second->entries.front().seq);

  page_query.cursor = "not-a-cursor";
  auto bad = audit_->List(a_.tenant_id, page_query);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().problem_code, "invalid_cursor");
  EXPECT_TRUE(All(b_).empty());
}

TEST_F(AuditStoreTest, RecordChangesAreAuditedInTheirTransaction) {
  auto created = Apply(a_, {NewContact("con_01JAAAAAAAAAAAAAAAAAAAAAAA",
                                       R"({"last_name":"Lovelace","email":"ada@example.com"})")});
  ASSERT_TRUE(created.results.ok());
  Change update;
  update.kind = Change::Kind::kUpdate;
  update.type = ContactType();
  update.id = "con_01JAAAAAAAAAAAAAAAAAAAAAAA";
  update.values = core::ParseJson(R"({"title":"Countess"})").value().as_object();
  ASSERT_TRUE(Apply(a_, {update}).results.ok());

  // A failing batch rolls its entries back with its changes.
  auto failed = Apply(a_, {NewContact("con_01JBBBBBBBBBBBBBBBBBBBBBBB", R"({"last_name":"B"})"),
                           NewContact("con_01JCCCCCCCCCCCCCCCCCCCCCCC",
                                      R"({"last_name":"C","account_id":"acc_nope"})")});
  ASSERT_FALSE(failed.results.ok());

  const auto entries = All(a_);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].action, "record.create");
  EXPECT_EQ(entries[1].record_id, "con_01JAAAAAAAAAAAAAAAAAAAAAAA");
  const std::string create_details = core::WriteJson(entries[1].details);
  EXPECT_EQ(create_details.find("ada@example.com"), std::string::npos) << create_details;
  EXPECT_EQ(entries[1].details.at("fields").at("email").as_string().subview().substr(0, 12),
            "hmac-sha256:");
  EXPECT_EQ(entries[0].action, "record.update");
  EXPECT_EQ(core::WriteJson(entries[0].details),
            R"({"version":2,"fields":{"title":{"from":null,"to":"Countess"}}})");
  auto verdict = audit_->Verify();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->ok) << verdict->reason;
}

TEST_F(AuditStoreTest, IdempotentReplayAppendsNothing) {
  Idempotency idempotency{"key-1", "hash-1", [](const std::vector<ChangeResult>&) {
                            return StoredResponse{201, "{}", "", ""};
                          }};
  auto change = NewContact("con_01JDDDDDDDDDDDDDDDDDDDDDDD", R"({"last_name":"D"})");
  ASSERT_TRUE(Apply(a_, {change}, idempotency).results.ok());
  auto replay = Apply(a_, {change}, idempotency);
  EXPECT_TRUE(replay.replay.has_value());
  EXPECT_EQ(All(a_).size(), 1u);
}

TEST_F(AuditStoreTest, PiiDigestKeySurvivesReopening) {
  auto change =
      NewContact("con_01JEEEEEEEEEEEEEEEEEEEEEEE", R"({"last_name":"E","email":"e@example.com"})");
  ASSERT_TRUE(Apply(a_, {change}).results.ok());
  Change remove;  // e-mail is unique among live contacts
  remove.kind = Change::Kind::kDelete;
  remove.type = ContactType();
  remove.id = change.id;
  ASSERT_TRUE(Apply(a_, {remove}).results.ok());
  Close();
  Open();
  auto again =
      NewContact("con_01JFFFFFFFFFFFFFFFFFFFFFFF", R"({"last_name":"F","email":"e@example.com"})");
  ASSERT_TRUE(Apply(a_, {again}).results.ok());
  const auto entries = All(a_);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].details.at("fields").at("email"),
            entries[2].details.at("fields").at("email"));
  // The chain continues across the restart.
  EXPECT_EQ(entries[0].prev_hash, entries[1].hash);
}

TEST_F(AuditStoreTest, VerifyNamesATamperedEntry) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Append(a_, "record.update", "con_1").ok());
  const auto entries = All(a_);
  const std::int64_t middle = entries[2].seq;
  Close();
  Tamper("UPDATE audit_log SET details = '{\"version\":9}' WHERE seq = " + std::to_string(middle));
  Open();
  auto verdict = audit_->Verify();
  ASSERT_TRUE(verdict.ok());
  EXPECT_FALSE(verdict->ok);
  EXPECT_EQ(verdict->tenant_id, a_.tenant_id);
  EXPECT_EQ(verdict->seq, middle);
}

// Verify reads the log a page at a time; chains (two tenants') run across the pages' edges, and
// a broken link just past one is still found.
TEST_F(AuditStoreTest, VerifyReadsInPagesAcrossTenants) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Append(a_, "record.update", "con_a").ok());
    ASSERT_TRUE(Append(b_, "record.update", "con_b").ok());
  }
  const auto a_entries = All(a_);  // newest first
  for (std::int64_t page : {1, 2, 3, 5, 10, 11, 1000}) {
    SqlAuditStore paged(*db_, page);
    auto verdict = paged.Verify();
    ASSERT_TRUE(verdict.ok()) << page;
    EXPECT_TRUE(verdict->ok) << page << ": " << verdict->reason;
    // Every entry of both tenants, read once.
    EXPECT_EQ(verdict->entries, static_cast<std::int64_t>(a_entries.size() + All(b_).size()))
        << page;
  }
  Close();
  Tamper("UPDATE audit_log SET details = '{\"version\":9}' WHERE seq = " +
         std::to_string(a_entries[1].seq));
  Open();
  for (std::int64_t page : {1, 2, 3, 4}) {
    SqlAuditStore paged(*db_, page);
    auto verdict = paged.Verify();
    ASSERT_TRUE(verdict.ok()) << page;
    EXPECT_FALSE(verdict->ok) << page;
    EXPECT_EQ(verdict->tenant_id, a_.tenant_id) << page;
    EXPECT_EQ(verdict->seq, a_entries[1].seq) << page;
  }
}

TEST_F(AuditStoreTest, VerifyDetectsDeletedEntries) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Append(a_, "record.update", "con_1").ok());
  const auto entries = All(a_);  // newest first
  Close();
  Tamper("DELETE FROM audit_log WHERE seq = " + std::to_string(entries[2].seq));
  Open();
  auto verdict = audit_->Verify();
  ASSERT_TRUE(verdict.ok());
  EXPECT_FALSE(verdict->ok);
  EXPECT_EQ(verdict->seq, entries[1].seq);

  Close();
  Tamper("DELETE FROM audit_log WHERE seq >= " + std::to_string(entries[1].seq));
  Open();
  verdict = audit_->Verify();
  ASSERT_TRUE(verdict.ok());
  EXPECT_FALSE(verdict->ok);
  EXPECT_EQ(verdict->seq, entries[0].seq);  // the newest entry is missing
}

}  // namespace
}  // namespace zebros::storage::sql
