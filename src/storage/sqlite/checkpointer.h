#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "storage/sqlite/connection.h"

namespace zebros::storage::sqlite {

// When the WAL is checkpointed, in frames (pages) in it after a commit.
struct CheckpointThresholds {
  int wake_frames = 8000;     // from here the checkpointer's thread is woken to copy them
  int writer_frames = 64000;  // from here the writer checkpoints before going on
};

// Copies committed WAL frames into the database file on a thread of its own, so that the writer
// does not. SQLite's automatic checkpoint runs inside the commit that crosses its threshold, on
// the writer, and every write queued behind it waits (9 % of the writer's profile under creates,
// and their p99: 56-108 ms with it, 26-56 ms without; docs/performance.md). The writer still
// checkpoints itself past its writer_frames (then only what this thread has not copied yet): only
// a checkpoint between the writer's transactions lets the next one start the WAL over, so the file
// stays bounded however busy the writer is (a checkpointer alone, racing it, never caught up and
// the WAL grew to 20 GB).
class Checkpointer {
 public:
  // `connection`: a read-write connection of its own to the writer's database.
  explicit Checkpointer(std::unique_ptr<Connection> connection,
                        CheckpointThresholds thresholds = {});
  ~Checkpointer();  // Stop()s
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Makes `writer` (the connection that commits) call OnCommit after each commit instead of
  // checkpointing by itself. This object must outlive `writer`'s last commit.
  void Watch(Connection& writer);
  void Stop();

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int frames);
  void Loop();

  std::unique_ptr<Connection> connection_;
  const CheckpointThresholds thresholds_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool wanted_ = false;    // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace zebros::storage::sqlite
