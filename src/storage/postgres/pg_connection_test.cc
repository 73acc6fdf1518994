#include "storage/postgres/pg_connection.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <limits>
#include <random>
#include <thread>

#include "domain/builtin_schemas.h"
#include "storage/postgres/pg_database.h"
#include "storage/postgres/pg_migrations.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/testing/pg_server_test.h"
#include "storage/postgres/testing/silent_server.h"
#include "storage/sql/audit_log.h"
#include "storage/sql/dialect.h"
#include "storage/sql/search_index.h"
#include "storage/sql/testing/hold_writer.h"
#include "storage/sqlite/migrations.h"

namespace zebros::storage::postgres {
namespace {
using core::Code;
using namespace std::chrono_literals;

class FixedClock final : public core::Clock {
 public:
  core::EpochMillis NowMillis() const override { return 1767225600000; }  // 2026-01-01
};

// ---- Without a server ----------------------------------------------------------------------

TEST(PgPlaceholders, NumbersEachPlaceholderInOrder) {
  EXPECT_EQ(ToDollarPlaceholders("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)");
  EXPECT_EQ(ToDollarPlaceholders("SELECT 1"), "SELECT 1");
  EXPECT_EQ(ToDollarPlaceholders(""), "");
}

TEST(PgPlaceholders, LeavesLiteralsIdentifiersAndCommentsAlone) {
  EXPECT_EQ(ToDollarPlaceholders("SELECT '?', 'it''s ?', \"we?rd\"\"?\" FROM t WHERE x = ?"),
            "SELECT '?', 'it''s ?', \"we?rd\"\"?\" FROM t WHERE x = $1");
  EXPECT_EQ(ToDollarPlaceholders("SELECT ? -- why?\n, ? /* a ? /* nested ? */ still ? */ , ?"),
            "SELECT $1 -- why?\n, $2 /* a ? /* nested ? */ still ? */ , $3");
  EXPECT_EQ(ToDollarPlaceholders("x = '' AND y = ?"), "x = '' AND y = $1");
  // Unterminated: everything after the quote is literal.
  EXPECT_EQ(ToDollarPlaceholders("x = ? AND y = '?"), "x = $1 AND y = '?");
}

TEST(PgMigrations, VersionsMeanTheSameAsSqlites) {
  EXPECT_EQ(LatestPgMigrationVersion(), sqlite::LatestMigrationVersion());
}

TEST(PgTimeoutSetting, TellsSettingForTheSessionOrTransactionFromResetAndFromMentions) {
  EXPECT_EQ(StatementTimeoutSetting("SET statement_timeout = 0; SELECT pg_advisory_lock(1)"),
            TimeoutSetting::kSetForSession);
  EXPECT_EQ(StatementTimeoutSetting("set  STATEMENT_TIMEOUT to '1min'"),
            TimeoutSetting::kSetForSession);
  EXPECT_EQ(StatementTimeoutSetting("SET LOCAL statement_timeout = 0; SELECT 1"),
            TimeoutSetting::kSetForTransaction);
  EXPECT_EQ(StatementTimeoutSetting("SELECT pg_advisory_unlock(1); RESET statement_timeout"),
            TimeoutSetting::kReset);
  EXPECT_EQ(StatementTimeoutSetting("SHOW statement_timeout"), TimeoutSetting::kUnchanged);
  EXPECT_EQ(StatementTimeoutSetting("SELECT current_setting('statement_timeout')"),
            TimeoutSetting::kUnchanged);
  EXPECT_EQ(StatementTimeoutSetting("SET TIME ZONE 'UTC'"), TimeoutSetting::kUnchanged);
  EXPECT_EQ(StatementTimeoutSetting("BEGIN"), TimeoutSetting::kUnchanged);
}

TEST(PgErrors, NoResultMeansUnavailable) {
  auto error = PgError(nullptr, nullptr, "step");
  EXPECT_EQ(error.code, Code::kUnavailable);
  EXPECT_EQ(error.problem_code, "database_unavailable");
}

TEST(PgConnectionOpen, UnreachableServerIsUnavailableAndKeepsThePasswordOutOfTheLogs) {
  PgOptions options;
  options.connect_timeout_s = 2;
  auto connection = PgConnection::Open("postgres://zebros:s3cret-pw@127.0.0.1:1/zebros", options);
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.error().code, Code::kUnavailable);
  EXPECT_EQ(connection.error().problem_code, "database_unavailable");
  EXPECT_EQ(connection.error().detail.find("s3cret-pw"), std::string::npos)
      << connection.error().detail;
}

// A server that never answers costs one attempt the connect timeout; meanwhile, and for a
// second after, borrowers are told at once, and no one else connects.
TEST(PgPoolDown, AfterAFailedConnectOneAttemptASecondTriesAgainAndTheRestFailAtOnce) {
  testing::SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  PgOptions options;
  options.connect_timeout_s = 1;
  PgPool pool(silent.url(), options, 4);
  auto first = pool.Acquire(std::chrono::milliseconds(100));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().problem_code, "database_unavailable");
  EXPECT_EQ(silent.accepted(), 1);
  // Within the second: refused without an attempt.
  for (int i = 0; i < 3; ++i) {
    auto refused = pool.Acquire(std::chrono::milliseconds(100));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().problem_code, "database_unavailable");
    EXPECT_NE(refused.error().detail.find("did not take a connection"), std::string::npos)
        << refused.error().detail;
  }
  EXPECT_EQ(silent.accepted(), 1);
  EXPECT_EQ(pool.total(), 0);
  // A second later one borrower tries again; the others, meanwhile, are told at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::thread probe([&pool] { EXPECT_FALSE(pool.Acquire(std::chrono::milliseconds(100)).ok()); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (silent.accepted() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(silent.accepted(), 2) << "the retry did not connect";
  auto during = pool.Acquire(std::chrono::milliseconds(100));
  ASSERT_FALSE(during.ok());
  EXPECT_NE(during.error().detail.find("another attempt is under way"), std::string::npos)
      << during.error().detail;
  probe.join();
  EXPECT_EQ(silent.accepted(), 2);
}

// ---- With a server: ZEBROS_TEST_DATABASE_URL ----------------------------------------------

using testing::PgServerTest;

using PgConnectionTest = PgServerTest;

TEST_F(PgConnectionTest, BindsAndReadsEveryKind) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection
                  ->Exec("CREATE TABLE t (i BIGINT, d DOUBLE PRECISION, s TEXT, n TEXT,"
                         " b BOOLEAN, j JSONB)")
                  .ok());
  const std::int64_t big = std::numeric_limits<std::int64_t>::min();
  const std::string text = "héllo ' \" ? $1 \\ \n";
  {
    auto insert = connection->Prepare("INSERT INTO t (i, d, s, n, b, j) VALUES (?, ?, ?, ?, ?, ?)");
    ASSERT_TRUE(insert.ok()) << insert.error().detail;
    insert->BindInt(1, big);
    insert->BindDouble(2, 0.1);
    insert->BindText(3, text);
    insert->BindNull(4);
    insert->BindInt(5, 1);
    insert->BindText(6, R"({"name": "?"})");
    auto done = insert->Step();
    ASSERT_TRUE(done.ok()) << done.error().detail;
    EXPECT_FALSE(*done);
    EXPECT_EQ(connection->Changes(), 1);
  }
  auto select = connection->Prepare("SELECT i, d, s, n, b, j->>'name', 1.5::numeric FROM t");
  ASSERT_TRUE(select.ok()) << select.error().detail;
  auto row = select->Step();
  ASSERT_TRUE(row.ok()) << row.error().detail;
  ASSERT_TRUE(*row);
  EXPECT_EQ(select->ColumnCount(), 7);
  EXPECT_EQ(select->Kind(0), sql::ColumnKind::kInt);
  EXPECT_EQ(select->Int(0), big);
  EXPECT_EQ(select->Kind(1), sql::ColumnKind::kDouble);
  EXPECT_EQ(select->Double(1), 0.1);
  EXPECT_EQ(select->Kind(2), sql::ColumnKind::kText);
  EXPECT_EQ(select->Text(2), text);
  EXPECT_EQ(select->Kind(3), sql::ColumnKind::kNull);
  EXPECT_TRUE(select->IsNull(3));
  EXPECT_EQ(select->Kind(4), sql::ColumnKind::kInt);
  EXPECT_EQ(select->Int(4), 1);
  EXPECT_EQ(select->Text(5), "?");
  EXPECT_EQ(select->Kind(6), sql::ColumnKind::kDouble);
  EXPECT_EQ(select->Double(6), 1.5);
  EXPECT_EQ(select->Int(6), 1);
  row = select->Step();
  ASSERT_TRUE(row.ok());
  EXPECT_FALSE(*row);
  EXPECT_FALSE(*select->Step());
}

TEST_F(PgConnectionTest, DoublesRoundTripExactly) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  for (double value : {0.1, 1.0 / 3.0, -2.5e-300, 1.7976931348623157e308, 5e-324, 0.0}) {
    auto stmt = connection->Prepare("SELECT ?::double precision");
    ASSERT_TRUE(stmt.ok()) << stmt.error().detail;
    stmt->BindDouble(1, value);
    auto row = stmt->Step();
    ASSERT_TRUE(row.ok() && *row) << value;
    EXPECT_EQ(stmt->Double(0), value) << stmt->Text(0);
  }
}

TEST_F(PgConnectionTest, CachedStatementsAreReusedAndTheCacheIsBounded) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  for (int i = 0; i < 3; ++i) {
    auto stmt = connection->Prepare("SELECT ?::bigint * 2");
    ASSERT_TRUE(stmt.ok());
    stmt->BindInt(1, i);
    ASSERT_TRUE(*stmt->Step());
    EXPECT_EQ(stmt->Int(0), i * 2);
  }
  for (int i = 0; i < 300; ++i) {
    auto stmt = connection->Prepare("SELECT " + std::to_string(i));
    ASSERT_TRUE(stmt.ok()) << stmt.error().detail;
    ASSERT_TRUE(*stmt->Step());
    EXPECT_EQ(stmt->Int(0), i);
  }
  EXPECT_LE(QueryInt(*connection, "SELECT count(*) FROM pg_prepared_statements"), 256);
}

TEST_F(PgConnectionTest, ChangesCountsRowsOfTheLastWrite) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE TABLE t (i BIGINT)").ok());
  auto insert = connection->Prepare("INSERT INTO t SELECT generate_series(1, ?)");
  ASSERT_TRUE(insert.ok()) << insert.error().detail;
  insert->BindInt(1, 3);
  ASSERT_TRUE(insert->Step().ok());
  EXPECT_EQ(connection->Changes(), 3);
  auto update = connection->Prepare("UPDATE t SET i = i + 10 WHERE i > ?");
  ASSERT_TRUE(update.ok());
  update->BindInt(1, 1);
  ASSERT_TRUE(update->Step().ok());
  EXPECT_EQ(connection->Changes(), 2);
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM t"), 3);
  EXPECT_EQ(connection->Changes(), 2);  // a SELECT leaves it alone
  ASSERT_TRUE(connection->Exec("DELETE FROM t").ok());
  EXPECT_EQ(connection->Changes(), 3);
}

TEST_F(PgConnectionTest, UniqueViolationIsAConflictWithoutTheValueInTheLogs) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE TABLE u (email TEXT PRIMARY KEY)").ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto insert = connection->Prepare("INSERT INTO u (email) VALUES (?)");
    ASSERT_TRUE(insert.ok());
    insert->BindText(1, "ada@example.com");
    auto done = insert->Step();
    if (attempt == 0) {
      ASSERT_TRUE(done.ok()) << done.error().detail;
      continue;
    }
    ASSERT_FALSE(done.ok());
    EXPECT_EQ(done.error().code, Code::kConflict);
    EXPECT_EQ(done.error().problem_code, "conflict");
    EXPECT_EQ(done.error().public_message, "A record with the same unique value already exists.");
    EXPECT_NE(done.error().detail.find("23505"), std::string::npos) << done.error().detail;
    EXPECT_EQ(done.error().detail.find("ada@"), std::string::npos) << done.error().detail;
  }
}

TEST_F(PgConnectionTest, OtherFailuresMapToDatabaseErrorOrUnavailable) {
  PgOptions options;
  options.statement_timeout_ms = 100;
  auto connection = Connect(options);
  ASSERT_NE(connection, nullptr);
  auto bad = connection->Prepare("SELEKT 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().problem_code, "database_error");

  auto parse = connection->Prepare("SELECT ?::bigint");
  ASSERT_TRUE(parse.ok());
  parse->BindText(1, "secret-not-a-number");
  auto parsed = parse->Step();
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().problem_code, "database_error");
  EXPECT_EQ(parsed.error().detail.find("secret"), std::string::npos) << parsed.error().detail;

  auto slow = connection->Prepare("SELECT pg_sleep(5)");
  ASSERT_TRUE(slow.ok());
  auto timed_out = slow->Step();
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, Code::kUnavailable);
  EXPECT_EQ(timed_out.error().problem_code, "database_unavailable");
  EXPECT_FALSE(connection->Broken());
  EXPECT_EQ(QueryInt(*connection, "SELECT 7"), 7);
}

// Stops a backend process of the test's own server (SIGSTOP): its kernel still takes what the
// client sends and acknowledges it, so nothing on the wire says that no answer will come, as
// with a server host that hangs. Continued when it goes out of scope.
class StoppedBackend {
 public:
  explicit StoppedBackend(int pid) : pid_(pid) {}
  ~StoppedBackend() { Continue(); }
  StoppedBackend(const StoppedBackend&) = delete;
  StoppedBackend& operator=(const StoppedBackend&) = delete;

  // Whether `pid` is a PostgreSQL process on this machine that we may stop (the harness's
  // server is; a server elsewhere is not, and its pid here would be some other process).
  static bool Stoppable(int pid) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    return std::getline(comm, name) && name.starts_with("postgres") && ::kill(pid, 0) == 0;
  }
  bool Stop() { return stopped_ = ::kill(pid_, SIGSTOP) == 0; }
  void Continue() {
    if (stopped_) ::kill(pid_, SIGCONT);
    stopped_ = false;
  }

 private:
  int pid_;
  bool stopped_ = false;
};

// Runs `work` on a thread of its own; if it has not returned after `limit`, the backend is
// continued (so the call ends) and the test fails: the client waited for an answer that the
// statement timeout says will not come.
template <class Work>
auto WithinLimit(StoppedBackend& backend, std::chrono::seconds limit, Work work) {
  auto outcome = std::async(std::launch::async, std::move(work));
  if (outcome.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "the client still waits for the stopped server after " << limit.count()
                  << " s";
    backend.Continue();
  }
  return outcome.get();
}

TEST_F(PgConnectionTest, AStoppedServerIsUnavailableOnceTheStatementTimeoutAndGraceHavePassed) {
  PgOptions options;
  options.statement_timeout_ms = 200;
  options.answer_grace_ms = 300;
  for (const std::string_view how : {"exec", "step", "prepare", "kept write"}) {
    SCOPED_TRACE(how);
    auto connection = Connect(options);
    ASSERT_NE(connection, nullptr);
    auto cached = connection->Prepare("SELECT 1");
    ASSERT_TRUE(cached.ok());
    if (!StoppedBackend::Stoppable(connection->BackendPid())) {
      GTEST_SKIP() << "the test server's backends are not processes of this machine";
    }
    StoppedBackend backend(connection->BackendPid());
    ASSERT_TRUE(backend.Stop());
    const core::Status outcome = WithinLimit(backend, 20s, [&]() -> core::Status {
      if (how == "exec") return connection->Exec("SELECT 2");
      if (how == "prepare") {
        auto prepared = connection->Prepare("SELECT 3");
        return prepared.ok() ? core::OkStatus() : core::Status(prepared.error());
      }
      if (how == "kept write") {
        connection->DeferWrites(true);
        auto kept = connection->RunOrDefer({"SELECT 4", {}});
        if (!kept.ok()) return kept;
        return connection->RunDeferred();
      }
      auto row = cached->Step();
      return row.ok() ? core::OkStatus() : core::Status(row.error());
    });
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.error().code, Code::kUnavailable);
    EXPECT_EQ(outcome.error().problem_code, "database_unavailable");
    EXPECT_NE(outcome.error().detail.find("no answer in time"), std::string::npos)
        << outcome.error().detail;
    // The connection is in the middle of a statement: never lent again.
    EXPECT_TRUE(connection->Broken());
    EXPECT_FALSE(connection->Exec("SELECT 5").ok());
  }
}

TEST_F(PgConnectionTest, AStatementTimeoutTheSessionSetsIsWaitedForWhole) {
  PgOptions options;
  options.statement_timeout_ms = 200;
  options.answer_grace_ms = 300;
  auto connection = Connect(options);
  ASSERT_NE(connection, nullptr);
  // Longer than the answer limit (0.5 s): what a migration on a large table does.
  ASSERT_TRUE(connection->Exec("SET statement_timeout = 0").ok());
  auto slept = connection->Exec("SELECT pg_sleep(0.8)");
  EXPECT_TRUE(slept.ok()) << slept.error().detail;
  ASSERT_TRUE(connection->Exec("RESET statement_timeout").ok());
  // For one transaction...
  ASSERT_TRUE(connection->Exec("BEGIN").ok());
  ASSERT_TRUE(connection->Exec("SET LOCAL statement_timeout = 0; SELECT pg_sleep(0.8)").ok());
  ASSERT_TRUE(connection->Exec("COMMIT").ok());
  // ...and back to the options' once it ends: the server cancels at 200 ms, the connection stays.
  auto cancelled = connection->Exec("SELECT pg_sleep(0.8)");
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().problem_code, "database_unavailable");
  EXPECT_FALSE(connection->Broken());
  if (!StoppedBackend::Stoppable(connection->BackendPid())) {
    GTEST_SKIP() << "the test server's backends are not processes of this machine";
  }
  StoppedBackend backend(connection->BackendPid());
  ASSERT_TRUE(backend.Stop());
  const core::Status outcome =
      WithinLimit(backend, 20s, [&] { return connection->Exec("SELECT 1"); });
  ASSERT_FALSE(outcome.ok());
  EXPECT_NE(outcome.error().detail.find("no answer in time"), std::string::npos)
      << outcome.error().detail;
}

TEST_F(PgConnectionTest, SessionRunsInUtc) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  auto stmt = connection->Prepare("SELECT current_setting('TimeZone')");
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->Text(0), "UTC");
}

// Kept writes (Session::RunOrDefer) travel with the next statement, in order, and run before it;
// one that fails fails that statement and marks the session, and the connection stays usable.
TEST_F(PgConnectionTest, KeptWritesGoWithTheNextStatementInOrder) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE TABLE k (n BIGINT PRIMARY KEY, t TEXT)").ok());
  connection->DeferWrites(true);
  ASSERT_TRUE(connection->RunOrDefer({"BEGIN", {}}).ok());
  ASSERT_TRUE(
      connection->RunOrDefer({"INSERT INTO k VALUES (?, ?)", {std::int64_t{1}, "one"}}).ok());
  ASSERT_TRUE(
      connection->RunOrDefer({"UPDATE k SET t = t || ? WHERE n = ?", {"+", std::int64_t{1}}}).ok());
  EXPECT_EQ(connection->DeferredCount(), 3u);
  // Not sent yet: another session sees no open transaction of ours holding the row.
  EXPECT_FALSE(connection->InTransaction());
  {
    auto stmt = connection->Prepare("SELECT t FROM k WHERE n = 1");
    ASSERT_TRUE(stmt.ok());
    auto row = stmt->Step();
    ASSERT_TRUE(row.ok()) << row.error().detail;
    ASSERT_TRUE(*row);
    EXPECT_EQ(stmt->Text(0), "one+");
  }
  EXPECT_EQ(connection->DeferredCount(), 0u);
  EXPECT_TRUE(connection->InTransaction());
  EXPECT_FALSE(connection->DeferredWriteFailed());

  // A failing kept write: the statement after it does not run, the session is marked.
  ASSERT_TRUE(
      connection->RunOrDefer({"INSERT INTO k VALUES (?, ?)", {std::int64_t{1}, "dup"}}).ok());
  ASSERT_TRUE(
      connection->RunOrDefer({"INSERT INTO k VALUES (?, ?)", {std::int64_t{2}, "two"}}).ok());
  auto failed = connection->Exec("INSERT INTO k VALUES (3, 'three')");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Code::kConflict);
  EXPECT_TRUE(connection->DeferredWriteFailed());
  EXPECT_TRUE(connection->InFailedTransaction());
  connection->DeferWrites(false);
  EXPECT_FALSE(connection->DeferredWriteFailed());
  ASSERT_TRUE(connection->Exec("ROLLBACK").ok());
  EXPECT_FALSE(connection->Broken());
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM k"), 0);

  // Several statements in one Exec cannot join a pipeline: the kept writes go first.
  connection->DeferWrites(true);
  ASSERT_TRUE(
      connection->RunOrDefer({"INSERT INTO k VALUES (?, ?)", {std::int64_t{4}, "four"}}).ok());
  ASSERT_TRUE(connection->Exec("UPDATE k SET t = 'x' WHERE n = 4; UPDATE k SET t = t || 'y'").ok());
  EXPECT_FALSE(connection->DeferredWriteFailed());
  // RunDeferred alone sends them too.
  ASSERT_TRUE(connection->RunOrDefer({"UPDATE k SET t = t || ?", {"z"}}).ok());
  ASSERT_TRUE(connection->RunDeferred().ok());
  EXPECT_EQ(connection->DeferredCount(), 0u);
  connection->DeferWrites(false);
  auto text = connection->Prepare("SELECT t FROM k WHERE n = 4");
  ASSERT_TRUE(text.ok());
  ASSERT_TRUE(*text->Step());
  EXPECT_EQ(text->Text(0), "xyz");
}

using PgPoolTest = PgServerTest;

TEST_F(PgPoolTest, ReconnectsAfterTheConnectionIsKilled) {
  PgPool pool(url_, {}, 2);
  int pid = 0;
  {
    auto lease = pool.Acquire(1s);
    ASSERT_TRUE(lease.ok()) << lease.error().detail;
    pid = (*lease)->BackendPid();
    Terminate(pid);
    // The borrower sees the loss as unavailability...
    auto stmt = (*lease)->Prepare("SELECT 1");
    ASSERT_FALSE(stmt.ok());
    EXPECT_EQ(stmt.error().code, Code::kUnavailable);
    EXPECT_EQ(stmt.error().problem_code, "database_unavailable");
    EXPECT_TRUE((*lease)->Broken());
  }
  // ...and the pool closes it instead of keeping it.
  EXPECT_EQ(pool.total(), 0);
  {
    auto lease = pool.Acquire(1s);
    ASSERT_TRUE(lease.ok()) << lease.error().detail;
    EXPECT_NE((*lease)->BackendPid(), pid);
    EXPECT_EQ(QueryInt(**lease, "SELECT 1"), 1);
    pid = (*lease)->BackendPid();
  }
  // An idle connection killed behind the pool's back is usually noticed when next lent
  // (CheckAlive); if its socket closed only after that check, the first statement fails as
  // unavailable and the pool drops it. Either way a retry gets a working connection.
  ASSERT_EQ(pool.idle(), 1);
  Terminate(pid);
  for (int attempt = 0;; ++attempt) {
    ASSERT_LT(attempt, 2);
    auto lease = pool.Acquire(1s);
    ASSERT_TRUE(lease.ok()) << lease.error().detail;
    auto stmt = (*lease)->Prepare("SELECT 2");
    auto row = stmt.ok() ? stmt->Step() : core::Result<bool>(stmt.error());
    if (row.ok()) {
      EXPECT_TRUE(*row);
      EXPECT_EQ(stmt->Int(0), 2);
      break;
    }
    EXPECT_EQ(row.error().problem_code, "database_unavailable");
  }
  EXPECT_EQ(pool.total(), 1);
}

TEST_F(PgPoolTest, CheckAliveNoticesATerminatedBackend) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  EXPECT_TRUE(connection->CheckAlive());
  EXPECT_EQ(QueryInt(*connection, "SELECT 1"), 1);
  EXPECT_TRUE(connection->CheckAlive());
  Terminate(connection->BackendPid());
  // The backend leaves pg_stat_activity a moment before its socket closes.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (connection->CheckAlive() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_FALSE(connection->CheckAlive());
  EXPECT_TRUE(connection->Broken());
}

TEST_F(PgPoolTest, WaitsForAFreeConnectionThenGivesUp) {
  PgPool pool(url_, {}, 1);
  auto first = pool.Acquire(1s);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  auto second = pool.Acquire(20ms);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().problem_code, "database_unavailable");
  auto waiting = std::async(std::launch::async, [&pool] { return pool.Acquire(10s).ok(); });
  { auto released = std::move(first).value(); }
  EXPECT_TRUE(waiting.get());
  EXPECT_EQ(pool.total(), 1);
  EXPECT_EQ(pool.idle(), 1);
}

TEST_F(PgPoolTest, RollsBackWhatABorrowerLeftOpen) {
  PgPool pool(url_, {}, 1);
  {
    auto lease = pool.Acquire(1s);
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->Exec("CREATE TABLE t (i BIGINT)").ok());
    ASSERT_TRUE((*lease)->Exec("BEGIN; INSERT INTO t VALUES (1)").ok());
  }
  {
    auto lease = pool.Acquire(1s);
    ASSERT_TRUE(lease.ok());
    EXPECT_FALSE((*lease)->InTransaction());
    EXPECT_EQ(QueryInt(**lease, "SELECT count(*) FROM t"), 0);
    ASSERT_TRUE((*lease)->Exec("BEGIN").ok());
    EXPECT_FALSE((*lease)->Exec("SELECT no_such_column FROM t").ok());
    EXPECT_TRUE((*lease)->InFailedTransaction());
  }
  auto lease = pool.Acquire(1s);
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE((*lease)->InTransaction());
  EXPECT_EQ(QueryInt(**lease, "SELECT 1"), 1);
  EXPECT_EQ(pool.total(), 1);
}

using PgDatabaseTest = PgServerTest;

// The tenant the term-table tests write records for: "ten_a", whose number (the term table's
// tenant column) is 7.
constexpr const char* kTenantA =
    "INSERT INTO tenants (id, name, number, created_at) VALUES ('ten_a', 'a', 7, 0);";

using sql::testing::HoldTheWriter;

// A database with `workers` write workers and a pool of `pool_size`, where `create_table` ran.
std::unique_ptr<PgDatabase> OpenWithTable(const std::string& url, const core::Clock& clock,
                                          int workers, int pool_size,
                                          const std::string& create_table) {
  PgDatabaseOptions options;
  options.pool_size = pool_size;
  options.workers = workers;
  auto opened = PgDatabase::Open(url, {}, clock, options);
  EXPECT_TRUE(opened.ok()) << opened.error().detail;
  if (!opened.ok()) return nullptr;
  auto created = (*opened)->Run([&](sql::Session& s) { return s.Exec(create_table); });
  EXPECT_TRUE(created.ok()) << created.error().detail;
  return created.ok() ? std::move(opened).value() : nullptr;
}

// Work that inserts `value` as column x of `table`.
sql::Engine::Work InsertInto(std::string table, std::string value) {
  return [table, value](sql::Session& session) -> core::Status {
    auto stmt = session.Prepare("INSERT INTO " + table + " (x) VALUES (?)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, value);
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
    return core::OkStatus();
  };
}

// Submits works to `database` (for `tenant`, when given) and keeps their outcomes, in order.
class Outcomes {
 public:
  explicit Outcomes(PgDatabase& database, std::string tenant = "")
      : database_(database), tenant_(std::move(tenant)) {}
  void Submit(sql::Engine::Work work) {
    auto promise = std::make_shared<std::promise<core::Status>>();
    futures_.push_back(promise->get_future());
    auto done = [promise](core::Status status) { promise->set_value(std::move(status)); };
    if (tenant_.empty()) {
      database_.Submit(std::move(work), std::move(done));
    } else {
      database_.SubmitForTenant(tenant_, std::move(work), std::move(done));
    }
  }
  std::size_t size() const { return futures_.size(); }
  core::Status Get(std::size_t i) { return futures_.at(i).get(); }

 private:
  PgDatabase& database_;
  const std::string tenant_;
  std::vector<std::future<core::Status>> futures_;
};

TEST_F(PgDatabaseTest, TwoNodesOpeningAnEmptyDatabaseAtOnceBothSucceed) {
  FixedClock clock;
  PgDatabaseOptions options;
  options.pool_size = 2;
  options.workers = 1;
  auto open = [&] { return PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, options); };
  auto first = std::async(std::launch::async, open);
  auto second = std::async(std::launch::async, open);
  auto a = first.get();
  auto b = second.get();
  ASSERT_TRUE(a.ok()) << a.error().detail;
  ASSERT_TRUE(b.ok()) << b.error().detail;
  auto applied = (*a)->AppliedSchemaVersion();
  ASSERT_TRUE(applied.ok()) << applied.error().detail;
  EXPECT_EQ(*applied, (*a)->LatestSchemaVersion());
  // Both loaded the one audit key that was stored.
  EXPECT_EQ((*a)->audit_log().DigestPii(boost::json::value("x")),
            (*b)->audit_log().DigestPii(boost::json::value("x")));
  auto reader = (*b)->Reader();
  ASSERT_TRUE(reader.ok());
  for (const auto& type : domain::BuiltinObjectTypes()) {
    EXPECT_EQ(QueryInt(**reader, "SELECT count(*) FROM obj_" + type->name), 0);
  }
  EXPECT_EQ(QueryInt(**reader, "SELECT count(*) FROM schema_migrations"),
            LatestPgMigrationVersion());
}

TEST_F(PgDatabaseTest, ReopeningChangesNothing) {
  FixedClock clock;
  for (int i = 0; i < 2; ++i) {
    auto database = PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, {});
    ASSERT_TRUE(database.ok()) << database.error().detail;
  }
}

// The term table follows each record's vector by trigger; a record's update or delete finds its
// old terms by the table's key. Before, it read the whole table (its index, or its heap), which
// the statistics show: every block of the index, or a sequential scan.
TEST_F(PgDatabaseTest, ARecordsTermsChangeByTheTermTablesKey) {
  FixedClock clock;
  auto database = PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, {});
  ASSERT_TRUE(database.ok()) << database.error().detail;
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  auto seeded =
      connection->Exec(std::string(kTenantA) +
                       "INSERT INTO obj_contacts (id, tenant_id, version, created_at,"
                       " updated_at, created_by, search_all) SELECT 'con_' || i, 'ten_a', 1, i,"
                       " i, 'test', to_tsvector('simple', 'name' || i || ' city' || (i % 50)"
                       " || ' common') FROM generate_series(1, 3000) i;"
                       "ANALYZE fts_contacts");
  ASSERT_TRUE(seeded.ok());
  const std::string terms_of_one =
      "SELECT string_agg(term, ' ' ORDER BY term) FROM fts_contacts WHERE rowid ="
      " (SELECT rowid FROM obj_contacts WHERE id = 'con_17')";
  EXPECT_EQ(QueryText(*connection, terms_of_one), "city17 common name17");

  // Blocks of the table's index read so far, once this session's statistics reached the
  // shared ones.
  auto index_reads = [&] {
    EXPECT_TRUE(connection->Exec("SELECT pg_stat_force_next_flush()").ok());
    return QueryInt(*connection,
                    "SELECT idx_blks_hit + idx_blks_read FROM pg_statio_user_indexes"
                    " WHERE indexrelname = 'fts_contacts_pkey'");
  };
  const auto reads_before = index_reads();
  ASSERT_TRUE(connection->Exec("BEGIN").ok());
  ASSERT_TRUE(connection
                  ->Exec("UPDATE obj_contacts SET search_all = to_tsvector('simple',"
                         " 'renamed city17') WHERE id = 'con_17'")
                  .ok());
  ASSERT_TRUE(connection->Exec("DELETE FROM obj_contacts WHERE id = 'con_18'").ok());
  EXPECT_EQ(
      QueryInt(*connection,
               "SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'fts_contacts'"),
      0);
  ASSERT_TRUE(connection->Exec("COMMIT").ok());
  // A descent for each of their terms (~20 blocks), not the index's 88 blocks twice.
  EXPECT_LT(index_reads() - reads_before, 60);
  EXPECT_EQ(QueryText(*connection, terms_of_one), "city17 renamed");
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM fts_contacts WHERE term = 'common'"), 2998);
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM fts_contacts WHERE term = 'name18'"), 0);
}

// A one-term search ranks from the term table alone: a record's shares of its terms that begin
// the prefix add up to ts_rank over its vector (to within single floats' rounding: ts_rank adds
// in double), in search_all (weights A, B and C) and in search_body (A and B), whatever the order
// and weights of the term's places.
TEST_F(PgDatabaseTest, TheTermTablesScoresAddUpToTsRank) {
  FixedClock clock;
  auto database = PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, {});
  ASSERT_TRUE(database.ok()) << database.error().detail;
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  const std::string a = "setweight(to_tsvector('simple', 'zed ' || i || ' zeta zed'), 'A')";
  const std::string b = "setweight(to_tsvector('simple', 'zeal' || repeat(' zed', i % 3)), 'B')";
  const std::string c = "setweight(to_tsvector('simple', 'zed' || repeat(' zeta', i % 4)), 'C')";
  ASSERT_TRUE(connection
                  ->Exec(std::string(kTenantA) +
                         "INSERT INTO obj_contacts (id, tenant_id, version, created_at, updated_at,"
                         " created_by, search_body, search_all) SELECT 'con_' || i, 'ten_a', 1, i,"
                         " i, 'test', " +
                         a + " || " + b + ", " + a + " || " + b + " || " + c +
                         " FROM generate_series(1, 12) i;"
                         // A vector of C alone: its terms count nothing for search_body.
                         "INSERT INTO obj_contacts (id, tenant_id, version, created_at, updated_at,"
                         " created_by, search_body, search_all) VALUES ('con_c', 'ten_a', 1, 0, 0,"
                         " 'test', ''::tsvector, setweight(to_tsvector('simple', 'zed'), 'C'))")
                  .ok());
  for (const std::string prefix : {"zed", "ze", "zet", "z"}) {
    const std::string shares =
        "SELECT f.rowid, sum(f.score_all) AS s, sum(f.score_body) AS b FROM fts_contacts f"
        " WHERE f.tenant = 7 AND f.term LIKE '" +
        prefix + "%' GROUP BY f.rowid";
    const std::string query = "to_tsquery('simple', '" + prefix + ":*')";
    const auto matches =
        QueryInt(*connection, "SELECT count(*) FROM obj_contacts WHERE search_all @@ " + query);
    EXPECT_GE(matches, 12) << prefix;
    EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM (" + shares + ") x"), matches) << prefix;
    const std::string rank_all =
        std::string("ts_rank(") + sql::kPgRankWeights + ", o.search_all, " + query + ")::float8";
    const std::string rank_body =
        std::string("ts_rank(") + sql::kPgRankWeights + ", o.search_body, " + query + ")::float8";
    EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM (" + shares +
                                        ") x JOIN obj_contacts o USING (rowid) WHERE abs(x.s - " +
                                        rank_all + ") <= 1e-6 * " + rank_all + " AND abs(x.b - " +
                                        rank_body + ") <= 1e-6 * " + rank_body),
              matches)
        << prefix;
  }
  // Unequal ranks, so the sums are not equal by accident.
  EXPECT_GE(QueryInt(*connection,
                     "SELECT count(DISTINCT s) FROM (SELECT sum(score_all) AS s FROM fts_contacts"
                     " WHERE term LIKE 'ze%' GROUP BY rowid) x"),
            4);
  EXPECT_EQ(QueryInt(*connection,
                     "SELECT count(*) FROM fts_contacts WHERE score_body = 0"
                     " AND NOT pii"),
            0);
}

// A term table from before the scores is laid out anew from the records, and its triggers with it.
TEST_F(PgDatabaseTest, ATermTableWithoutScoresIsLaidOutAnew) {
  FixedClock clock;
  {
    auto database = PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, {});
    ASSERT_TRUE(database.ok()) << database.error().detail;
  }
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection
                  ->Exec(std::string(kTenantA) +
                         "INSERT INTO obj_contacts (id, tenant_id, version, created_at, updated_at,"
                         " created_by, search_body, search_all) SELECT 'con_' || i, 'ten_a', 1, i,"
                         " i, 'test', to_tsvector('simple', 'kept' || i), to_tsvector('simple',"
                         " 'kept' || i) FROM generate_series(1, 5) i;"
                         "ALTER TABLE fts_contacts DROP COLUMN score_all, DROP COLUMN score_body;"
                         "INSERT INTO fts_contacts VALUES (7, 'stale', 1, false)")
                  .ok());
  auto reopened = PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, {});
  ASSERT_TRUE(reopened.ok()) << reopened.error().detail;
  EXPECT_EQ(QueryText(*connection,
                      "SELECT string_agg(term, ' ' ORDER BY term) FROM fts_contacts"
                      " WHERE score_all > 0 AND score_body > 0"),
            "kept1 kept2 kept3 kept4 kept5");
  EXPECT_EQ(QueryInt(*connection, "SELECT count(*) FROM fts_contacts"), 5);
  // The triggers follow the records again, and the key is back.
  ASSERT_TRUE(connection
                  ->Exec("UPDATE obj_contacts SET search_all = to_tsvector('simple', 'renamed'),"
                         " search_body = to_tsvector('simple', 'renamed') WHERE id = 'con_1'")
                  .ok());
  EXPECT_EQ(QueryText(*connection, "SELECT string_agg(term, ' ' ORDER BY term) FROM fts_contacts"),
            "kept2 kept3 kept4 kept5 renamed");
  EXPECT_EQ(QueryInt(*connection,
                     "SELECT count(*) FROM pg_indexes"
                     " WHERE indexname = 'fts_contacts_pkey'"),
            1);
  // The row of an older version's trigger (no scores) is taken, and ranks last.
  ASSERT_TRUE(connection->Exec("INSERT INTO fts_contacts SELECT 7, 'older', 1, false").ok());
  EXPECT_EQ(QueryInt(*connection,
                     "SELECT count(*) FROM fts_contacts WHERE term = 'older'"
                     " AND score_all = 0 AND score_body = 0"),
            1);
}

// Every search scans the GIN index's pending list: it is kept short, on new databases and on
// those whose index was made before.
TEST_F(PgDatabaseTest, SearchIndexesKeepAShortPendingList) {
  FixedClock clock;
  const std::string options =
      "SELECT count(*) FROM pg_class WHERE relname LIKE 'ix_%_search_all'"
      " AND reloptions = '{gin_pending_list_limit=256}'";
  {
    auto database = PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, {});
    ASSERT_TRUE(database.ok()) << database.error().detail;
  }
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(QueryInt(*connection, options), 3);
  ASSERT_TRUE(
      connection->Exec("ALTER INDEX ix_contacts_search_all RESET (gin_pending_list_limit)").ok());
  EXPECT_EQ(QueryInt(*connection, options), 2);
  auto reopened = PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, {});
  ASSERT_TRUE(reopened.ok()) << reopened.error().detail;
  EXPECT_EQ(QueryInt(*connection, options), 3);
}

TEST_F(PgDatabaseTest, EachWorkCommitsOrRollsBackAlone) {
  FixedClock clock;
  auto opened = OpenWithTable(url_, clock, 3, 4, "CREATE TABLE w (x TEXT PRIMARY KEY)");
  ASSERT_NE(opened, nullptr);
  PgDatabase& database = *opened;
  auto insert = [](std::string value) { return InsertInto("w", std::move(value)); };
  Outcomes outcomes(database);
  auto submit = [&](sql::Engine::Work work) { outcomes.Submit(std::move(work)); };
  submit(insert("a"));
  submit([&](sql::Session& session) -> core::Status {
    auto status = insert("b")(session);
    if (!status.ok()) return status;
    return core::MakeError(Code::kValidation, "validation", "No.");
  });
  submit([&](sql::Session& session) -> core::Status {
    auto status = insert("t")(session);
    if (!status.ok()) return status;
    throw std::runtime_error("boom");
  });
  submit([](sql::Session& session) -> core::Status {
    // Ignores a failed statement: must not be reported as committed.
    (void)session.Exec("INSERT INTO w (x) VALUES ('i')");
    (void)session.Exec("SELECT no_such_column FROM w");
    return core::OkStatus();
  });
  submit(insert("c"));
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_TRUE(outcomes.Get(0).ok());
  EXPECT_EQ(outcomes.Get(1).error().code, Code::kValidation);
  EXPECT_EQ(outcomes.Get(2).error().code, Code::kInternal);
  EXPECT_EQ(outcomes.Get(3).error().problem_code, "database_error");
  EXPECT_TRUE(outcomes.Get(4).ok());

  auto duplicate = database.Run(insert("a"));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, Code::kConflict);

  auto reader = database.Reader();
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  auto stmt = (*reader)->Prepare("SELECT string_agg(x, ',' ORDER BY x) FROM w");
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->Text(0), "a,c");
}

TEST_F(PgDatabaseTest, ATenantsQueuedWritesShareOneTransactionAndFailAlone) {
  FixedClock clock;
  // One worker, so the tenant's writes queue up behind the blocker and group. txid_current() is
  // the top-level transaction's id, also inside a savepoint.
  auto opened = OpenWithTable(url_, clock, 1, 2,
                              "CREATE TABLE g (x TEXT PRIMARY KEY, txn BIGINT DEFAULT "
                              "txid_current())");
  ASSERT_NE(opened, nullptr);
  PgDatabase& database = *opened;
  auto insert = [](std::string value) { return InsertInto("g", std::move(value)); };
  auto release = HoldTheWriter(database);
  Outcomes outcomes(database, "ten_1");
  auto submit = [&](sql::Engine::Work work) { outcomes.Submit(std::move(work)); };
  submit(insert("a"));
  submit([&](sql::Session& session) -> core::Status {
    auto status = insert("b")(session);
    if (!status.ok()) return status;
    return core::MakeError(Code::kValidation, "validation", "No.");
  });
  submit(insert("a"));  // a unique violation inside the group
  submit([](sql::Session& session) -> core::Status {
    (void)session.Exec("INSERT INTO g (x) VALUES ('i')");
    (void)session.Exec("SELECT no_such_column FROM g");
    return core::OkStatus();
  });
  submit(insert("c"));
  release.set_value();
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_TRUE(outcomes.Get(0).ok());
  EXPECT_EQ(outcomes.Get(1).error().code, Code::kValidation);
  EXPECT_EQ(outcomes.Get(2).error().code, Code::kConflict);
  EXPECT_EQ(outcomes.Get(3).error().problem_code, "database_error");
  EXPECT_TRUE(outcomes.Get(4).ok());

  auto reader = database.Reader();
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  // What committed did so in one transaction, and nothing of the failed pieces.
  auto stmt =
      (*reader)->Prepare("SELECT string_agg(x, ',' ORDER BY x), count(DISTINCT txn) FROM g");
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->Text(0), "a,c");
  EXPECT_EQ(stmt->Int(1), 1);
}

// A kept write that fails (here an audit-like insert kept for the next round trip) cannot be
// pinned on one piece: the whole group fails and nothing of it commits.
TEST_F(PgDatabaseTest, AKeptWriteThatFailsFailsItsWholeGroup) {
  FixedClock clock;
  auto opened = OpenWithTable(url_, clock, 1, 2, "CREATE TABLE h (x TEXT PRIMARY KEY)");
  ASSERT_NE(opened, nullptr);
  PgDatabase& database = *opened;
  auto keep = [](std::string value) {
    return [value](sql::Session& session) -> core::Status {
      return session.RunOrDefer({"INSERT INTO h (x) VALUES (?)", {value}});
    };
  };
  auto release = HoldTheWriter(database);
  Outcomes outcomes(database, "ten_1");
  auto submit = [&](sql::Engine::Work work) { outcomes.Submit(std::move(work)); };
  submit(keep("a"));
  submit(keep("a"));  // fails when it reaches the server, with the third piece's first statement
  submit([](sql::Session& session) -> core::Status {
    auto stmt = session.Prepare("SELECT count(*) FROM h");
    if (!stmt.ok()) return std::move(stmt).error();
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    return core::OkStatus();
  });
  submit(keep("b"));
  release.set_value();
  ASSERT_EQ(outcomes.size(), 4u);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    // Not the duplicate's `conflict`: that would be wrong for the pieces that did not conflict.
    auto outcome = outcomes.Get(i);
    ASSERT_FALSE(outcome.ok()) << i;
    EXPECT_EQ(outcome.error().problem_code, "database_error") << i;
    EXPECT_EQ(outcome.error().code, Code::kUnavailable) << i;
  }
  auto reader = database.Reader();
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  EXPECT_EQ(QueryInt(**reader, "SELECT count(*) FROM h"), 0);
  // The next group runs normally.
  EXPECT_TRUE(database.Run(keep("c")).ok());
  EXPECT_EQ(QueryInt(**reader, "SELECT count(*) FROM h"), 1);
}

// Groups no longer take turns on the tenant's lock from their start, so two of them (on two
// nodes) can lock two keys in opposite orders. PostgreSQL ends one; when the lock that closed
// the cycle travelled with a later statement, the whole group fails — as a write conflict, to be
// retried, and with nothing of it committed.
TEST_F(PgDatabaseTest, AGroupCaughtInADeadlockFailsAsAWriteConflict) {
  FixedClock clock;
  auto opened = OpenWithTable(url_, clock, 1, 4, "CREATE TABLE h (x TEXT PRIMARY KEY)");
  ASSERT_NE(opened, nullptr);
  PgDatabase& database = *opened;
  auto reader = database.Reader();
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  // The other node: holds k2, and waits for its deadlock check far longer than the group does.
  auto other = database.Reader();
  ASSERT_TRUE(other.ok()) << other.error().detail;
  ASSERT_TRUE((*other)->Exec("BEGIN; SET LOCAL deadlock_timeout = '60s'").ok());
  ASSERT_TRUE(sql::LockKey(**other, "k2").ok());  // not deferring: waits for the lock

  auto release = HoldTheWriter(database);  // one group of both pieces
  Outcomes outcomes(database, "ten_1");
  outcomes.Submit(InsertInto("h", "first"));
  outcomes.Submit([](sql::Session& session) -> core::Status {
    // Kept, each sent with the insert after it: k1 at once, k2 to wait for the other node.
    for (const char* key : {"k1", "k2"}) {
      auto locked = sql::LockKey(session, key);
      if (!locked.ok()) return locked;
      auto inserted = InsertInto("h", key)(session);
      if (!inserted.ok()) return inserted;
    }
    return core::OkStatus();
  });
  release.set_value();
  auto waiting = [&] {
    return QueryInt(**reader,
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
  };
  for (int i = 0; i < 500 && waiting() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(waiting(), 1) << "the group never waited for k2";
  // The other node now waits for k1, which the group holds: a cycle.
  auto other_locked = std::async(std::launch::async, [&] { return sql::LockKey(**other, "k1"); });
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    auto outcome = outcomes.Get(i);
    ASSERT_FALSE(outcome.ok()) << i;
    EXPECT_EQ(outcome.error().problem_code, "write_conflict") << i << outcome.error().detail;
    EXPECT_EQ(outcome.error().code, Code::kConflict) << i;
  }
  EXPECT_TRUE(other_locked.get().ok());
  EXPECT_TRUE((*other)->Exec("COMMIT").ok());
  EXPECT_EQ(QueryInt(**reader, "SELECT count(*) FROM h"), 0);
  EXPECT_TRUE(database.Run(InsertInto("h", "after")).ok());  // the next group runs normally
  EXPECT_EQ(QueryInt(**reader, "SELECT count(*) FROM h"), 1);
}

// A group keeps its pieces' audit entries to its end and chains them there, under the tenant's
// write lock, which no piece holds meanwhile (Session::KeepEndWork); a piece that fails after
// appending must not leave its entry in the chain.
TEST_F(PgDatabaseTest, AGroupsAuditChainSurvivesAPieceRolledBackAfterItsEntry) {
  FixedClock clock;
  PgDatabaseOptions options;
  options.pool_size = 2;
  options.workers = 1;
  auto opened = PgDatabase::Open(url_, {}, clock, options);
  ASSERT_TRUE(opened.ok()) << opened.error().detail;
  PgDatabase& database = **opened;
  auto release = HoldTheWriter(database);
  Outcomes outcomes(database, "ten_memo");
  for (int i = 0; i < 4; ++i) {
    outcomes.Submit([&database, i](sql::Session& session) -> core::Status {
      EXPECT_TRUE(session.KeepsEndWork());
      EXPECT_FALSE(session.memo().held_locks.contains(sql::TenantWriteLockKey("ten_memo")));
      AuditEntry entry;
      entry.tenant_id = "ten_memo";
      entry.action = "piece." + std::to_string(i);
      entry.at = 1;
      auto appended = database.audit_log().Append(session, entry);
      if (!appended.ok() || i != 1) return appended;
      return core::MakeError(Code::kValidation, "validation", "fails after its entry");
    });
  }
  release.set_value();
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(outcomes.Get(i).ok(), i != 1) << i;

  auto reader = database.Reader();
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  auto log = (*reader)->Prepare(
      "SELECT action, prev_hash, hash FROM audit_log WHERE tenant_id = ? ORDER BY seq");
  ASSERT_TRUE(log.ok());
  log->BindText(1, "ten_memo");
  std::vector<std::array<std::string, 3>> rows;
  while (*log->Step()) {
    rows.push_back(
        {std::string(log->Text(0)), std::string(log->Text(1)), std::string(log->Text(2))});
  }
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], "piece.0");
  EXPECT_EQ(rows[1][0], "piece.2");
  EXPECT_EQ(rows[2][0], "piece.3");
  EXPECT_EQ(rows[1][1], rows[0][2]);
  EXPECT_EQ(rows[2][1], rows[1][2]);
  auto head =
      (*reader)->Prepare("SELECT hash, entries FROM audit_heads WHERE tenant_id = 'ten_memo'");
  ASSERT_TRUE(head.ok());
  ASSERT_TRUE(*head->Step());
  EXPECT_EQ(head->Text(0), rows[2][2]);
  EXPECT_EQ(head->Int(1), 3);
}

// A database with one pooled connection, given up on after 50 ms.
core::Result<std::unique_ptr<PgDatabase>> OpenWithOneConnection(const std::string& url,
                                                                const core::Clock& clock) {
  PgDatabaseOptions options;
  options.pool_size = 1;
  options.acquire_wait = 50ms;
  return PgDatabase::Open(url, {}, clock, options);
}

TEST_F(PgDatabaseTest, ReadersGoBackToThePool) {
  FixedClock clock;
  auto opened = OpenWithOneConnection(url_, clock);
  ASSERT_TRUE(opened.ok()) << opened.error().detail;
  PgDatabase& database = **opened;
  {
    auto reader = database.Reader();
    ASSERT_TRUE(reader.ok());
    auto second = database.Reader();
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().problem_code, "database_unavailable");
    // A write cannot get a connection either.
    auto blocked = database.Run([](sql::Session&) { return core::OkStatus(); });
    ASSERT_FALSE(blocked.ok());
    EXPECT_EQ(blocked.error().problem_code, "database_unavailable");
  }
  EXPECT_EQ(database.pool().idle(), 1);
  EXPECT_TRUE(database.Run([](sql::Session&) { return core::OkStatus(); }).ok());
  auto reader = database.Reader();
  EXPECT_TRUE(reader.ok());
}

TEST_F(PgDatabaseTest, SearchReadersKeepSearchPlansAndOthersDoNot) {
  FixedClock clock;
  auto opened = OpenWithOneConnection(url_, clock);
  ASSERT_TRUE(opened.ok()) << opened.error().detail;
  PgDatabase& database = **opened;
  const std::string generic =
      "SELECT (current_setting('plan_cache_mode') = 'force_generic_plan'"
      " AND current_setting('max_parallel_workers_per_gather') = '0')::int";
  auto reader = database.Reader();
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(QueryInt(**reader, generic), 0);
  // A pool of its own: the only plain connection is lent out, and searches still get theirs
  // (search_pool_size: 2 by default), read by as many threads.
  EXPECT_EQ(database.ReadWorkers(), 2);
  auto search = database.SearchReader();
  ASSERT_TRUE(search.ok()) << search.error().detail;
  EXPECT_EQ(QueryInt(**search, generic), 1);
  auto second = database.SearchReader();
  ASSERT_TRUE(second.ok()) << second.error().detail;
  auto third = database.SearchReader();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().problem_code, "database_unavailable");
}

TEST_F(PgDatabaseTest, CustomFieldIndexesAreCreated) {
  FixedClock clock;
  auto opened = PgDatabase::Open(url_, domain::BuiltinObjectTypes(), clock, {});
  ASSERT_TRUE(opened.ok()) << opened.error().detail;
  const model::ObjectType& type = *domain::BuiltinObjectTypes().front();
  model::Field field;
  field.name = "loyalty_code";
  field.custom = true;
  field.unique = true;
  for (int i = 0; i < 2; ++i) {
    auto status = (*opened)->Run(
        [&](sql::Session& session) { return EnsurePgCustomFieldIndex(session, type, field); });
    ASSERT_TRUE(status.ok()) << status.error().detail;
  }
  auto reader = (*opened)->Reader();
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(QueryInt(**reader, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_" +
                                   type.name + "_loyalty_code'"),
            1);
}

}  // namespace
}  // namespace zebros::storage::postgres
