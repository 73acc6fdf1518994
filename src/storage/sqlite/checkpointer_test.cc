#include "storage/sqlite/checkpointer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/testing/temp_dir.h"
#include "storage/sqlite/sqlite_testing.h"

namespace zebros::storage::sqlite {
namespace {

using testing::OpenOrDie;
using testing::QueryOne;

constexpr std::uintmax_t kFrameBytes = 4096 + 24;  // a page and its frame header

class CheckpointerTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return temp_.path() + "/test.db"; }

  core::testing::TempDir temp_{"zebros-ckpt-test"};
};

// A writer that commits without pause: its WAL stays within the writer's threshold (plus what
// commits while a checkpoint is busy), not SQLite's 4,000 frames nor without bound, and every row
// is in a sound file afterwards.
TEST_F(CheckpointerTest, KeepsTheWalNearItsThresholdWhileTheWriterNeverPauses) {
  const std::string path = DbPath();
  auto writer = OpenOrDie(path);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB)").ok());
  constexpr int kCommits = 3000;  // ~2 frames each: far past 4,000 frames without checkpoints
  {
    Checkpointer checkpointer(OpenOrDie(path), {.wake_frames = 20, .writer_frames = 200});
    checkpointer.Watch(*writer);
    for (int i = 0; i < kCommits; ++i) {
      ASSERT_TRUE(writer->Exec("INSERT INTO t(body) VALUES (randomblob(3000))").ok());
    }
    // The WAL file keeps its largest size when it starts over: this is the high-water mark.
    const auto wal_bytes = std::filesystem::file_size(path + "-wal");
    EXPECT_LE(wal_bytes, (200 + 100) * kFrameBytes + 32) << wal_bytes / kFrameBytes << " frames";
    EXPECT_GT(wal_bytes, 20 * kFrameBytes);
    checkpointer.Stop();
    checkpointer.Stop();  // idempotent
  }
  EXPECT_EQ(QueryOne(*writer, "SELECT count(*) FROM t"), std::to_string(kCommits));
  EXPECT_EQ(QueryOne(*writer, "PRAGMA integrity_check"), "ok");
  writer.reset();
  auto reopened = OpenOrDie(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(QueryOne(*reopened, "SELECT count(*) FROM t"), std::to_string(kCommits));
}

}  // namespace
}  // namespace zebros::storage::sqlite
