#include "storage/sqlite/wal_write_buffer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/testing/temp_dir.h"
#include "storage/sqlite/sqlite_testing.h"

namespace zebros::storage::sqlite {
namespace {

using testing::OpenOrDie;
using testing::QueryOne;

class WalWriteBufferTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return temp_.path() + "/test.db"; }

  // "WITH RECURSIVE s(value) …": the numbers 1 to n, for an INSERT … SELECT that follows.
  static std::string Series(int n) {
    return "WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < " +
           std::to_string(n) + ")";
  }

  // The database and its WAL as a process killed at this moment would leave them: what the file
  // system holds, with nothing of this process's buffers.
  std::string CopyFilesNow(const std::string& name) const {
    const std::string copy = temp_.path() + "/" + name;
    std::filesystem::create_directories(copy);
    for (const char* suffix : {"", "-wal"}) {
      std::filesystem::copy_file(DbPath() + suffix, copy + "/test.db" + suffix);
    }
    return copy + "/test.db";
  }

  core::testing::TempDir temp_{"zebros-walbuf-test"};
};

TEST_F(WalWriteBufferTest, ATransactionsFramesReachTheFileTogetherAtItsCommit) {
  auto writer = OpenOrDie(DbPath(), Connection::Mode::kReadWrite);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)").ok());
  const auto before = WalWriteBufferCountsNow();
  // ~40 pages: 80 frame writes (a header and a page each) asked for.
  ASSERT_TRUE(writer
                  ->Exec("BEGIN; " + Series(40) +
                         " INSERT INTO t(body) SELECT randomblob(3000) FROM s;"
                         " COMMIT")
                  .ok());
  const auto after = WalWriteBufferCountsNow();
  EXPECT_GE(after.writes_taken - before.writes_taken, 80u);
  EXPECT_EQ(after.writes_passed - before.writes_passed, 1u);
  EXPECT_EQ(QueryOne(*writer, "SELECT count(*) FROM t"), "40");
}

// A reader on the plain VFS finds every commit the moment COMMIT returns: the frames were written
// before SQLite published the commit in the WAL index.
TEST_F(WalWriteBufferTest, AReaderSeesEachCommitAsSoonAsItReturns) {
  auto writer = OpenOrDie(DbPath(), Connection::Mode::kReadWrite);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)").ok());
  auto reader = OpenOrDie(DbPath(), Connection::Mode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  for (int i = 1; i <= 200; ++i) {
    ASSERT_TRUE(
        writer->Exec("INSERT INTO t(body) VALUES (randomblob(500 + " + std::to_string(i) + "))")
            .ok());
    ASSERT_EQ(QueryOne(*reader, "SELECT count(*) || ':' || sum(length(body)) FROM t"),
              std::to_string(i) + ":" + std::to_string(500 * i + i * (i + 1) / 2));
  }
}

// What a crash leaves: every committed row, nothing of a transaction still open — its frames may
// sit in the buffer, and whatever reached the file is not part of any commit.
TEST_F(WalWriteBufferTest, ACrashKeepsEveryCommitAndNothingOfAnOpenTransaction) {
  auto writer = OpenOrDie(DbPath(), Connection::Mode::kReadWrite);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)").ok());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(writer->Exec("INSERT INTO t(body) VALUES (randomblob(2000))").ok());
  }
  const std::string committed = CopyFilesNow("after-commits");
  // ~6 MB through a cache of 20 pages: SQLite spills frames to the WAL before any COMMIT.
  ASSERT_TRUE(writer->Exec("PRAGMA cache_size=20").ok());
  ASSERT_TRUE(
      writer->Exec("BEGIN; " + Series(3000) + " INSERT INTO t(body) SELECT randomblob(2000) FROM s")
          .ok());
  const std::string open = CopyFilesNow("open-transaction");
  ASSERT_TRUE(writer->Exec("COMMIT").ok());

  for (const auto& path : {committed, open}) {
    auto copy = OpenOrDie(path, Connection::Mode::kReadWrite);
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(QueryOne(*copy, "SELECT count(*) FROM t"), "30") << path;
    EXPECT_EQ(QueryOne(*copy, "PRAGMA integrity_check"), "ok") << path;
  }
}

// A transaction larger than the buffer, on a writer whose cache is too small to hold it: SQLite
// spills pages to the WAL before COMMIT, writes some of their frames again and reads them back.
TEST_F(WalWriteBufferTest, ALargeTransactionThatSpillsItsCacheCommitsWhole) {
  auto writer = OpenOrDie(DbPath(), Connection::Mode::kReadWrite);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Exec("PRAGMA cache_size=20").ok());
  ASSERT_TRUE(writer
                  ->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER, body BLOB);"
                         "CREATE INDEX t_n ON t(n)")
                  .ok());
  const auto before = WalWriteBufferCountsNow();
  ASSERT_TRUE(writer
                  ->Exec("BEGIN; " + Series(5000) +
                         " INSERT INTO t(n, body) SELECT (value * 7919) % 5000, "
                         "randomblob(2500) FROM s;"
                         "UPDATE t SET n = n + 1 WHERE id % 3 = 0; COMMIT")
                  .ok());
  const auto after = WalWriteBufferCountsNow();
  EXPECT_GT(after.writes_passed - before.writes_passed, 2u);  // ~13 MB: several buffers' worth
  auto reader = OpenOrDie(DbPath(), Connection::Mode::kReadOnly);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(QueryOne(*reader, "SELECT count(*) FROM t"), "5000");
  EXPECT_EQ(QueryOne(*reader, "SELECT sum(n) FROM t"),
            QueryOne(*writer, "SELECT sum((id * 7919) % 5000 + (id % 3 = 0)) FROM t"));
  EXPECT_EQ(QueryOne(*reader, "PRAGMA integrity_check"), "ok");
  writer.reset();
  reader.reset();
  auto reopened = OpenOrDie(DbPath(), Connection::Mode::kReadWrite);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(QueryOne(*reopened, "SELECT count(*) || ':' || sum(length(body)) FROM t"),
            "5000:" + std::to_string(5000 * 2500));
}

}  // namespace
}  // namespace zebros::storage::sqlite
