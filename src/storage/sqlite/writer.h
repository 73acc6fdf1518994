#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/result.h"
#include "storage/sqlite/connection.h"

namespace zebros::storage::sqlite {

// The single writer of a database: one thread owns the read-write connection and runs submitted
// work in group commits — every piece of work queued while the previous commit was in flight
// shares the next transaction (and its one fsync). Each piece runs inside its own SAVEPOINT, so a
// failing piece rolls back alone and the others still commit. Thread-safe.
class Writer {
 public:
  // Runs on the writer thread inside a savepoint; returns an error to roll this piece back.
  using Work = std::function<core::Status(sql::Session&)>;
  // Runs on the writer thread after the commit (or the failure) of the piece; must be quick —
  // hand anything slow to another thread.
  using Done = std::function<void(core::Status)>;

  // Housekeeping the writer does while no work comes (merging the search index's segments), in
  // a transaction of its own: true when it did something and may have more to do — it runs
  // again shortly while the writer stays idle; false when there was nothing to do — not again
  // until new work has committed. An error is logged and counts as nothing to do.
  using Upkeep = std::function<core::Result<bool>(Connection&)>;
  static constexpr std::chrono::milliseconds kUpkeepAfter{1000};

  // `upkeep` (optional) runs once the writer has been idle for `upkeep_after`: after start-up
  // and after each commit.
  explicit Writer(std::unique_ptr<Connection> connection, Upkeep upkeep = {},
                  std::chrono::milliseconds upkeep_after = kUpkeepAfter);
  ~Writer();  // Stop()s
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues `work`. When the queue is full or the writer stopped, `done` gets kUnavailable at once.
  void Submit(Work work, Done done);
  // Queues `work` and waits for its outcome. Never call from a thread that Done callbacks need.
  core::Status Run(Work work);
  // Finishes everything queued, then stops the thread. Idempotent.
  void Stop();

 private:
  struct Item {
    Work work;
    Done done;
  };
  static constexpr std::size_t kMaxQueued = 20000;
  static constexpr std::size_t kMaxGroup = 1000;

  void Loop();
  void CommitGroup(std::deque<Item>& group);
  // Runs a statement without results through the statement cache (savepoints, per piece).
  core::Status RunCached(const std::string& sql);
  // One round of upkeep in its own transaction; whether it has more to do.
  bool RunUpkeep();

  std::unique_ptr<Connection> connection_;
  const Upkeep upkeep_;
  const std::chrono::milliseconds upkeep_after_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  std::thread thread_;
};

}  // namespace zebros::storage::sqlite
