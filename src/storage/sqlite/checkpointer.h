#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "storage/sqlite/connection.h"

namespace zebros::storage::sqlite {

// Copies the WAL back into the database file on its own thread and connection, so the writer
// never pays for a checkpoint inside a commit (SQLite's automatic checkpoint runs in the
// committing call and showed up as create latency spikes). Passive checkpoints never block the
// writer or readers; once a checkpoint has caught up, the writer wraps the WAL around and it
// stops growing. Thread-safe.
class Checkpointer {
 public:
  explicit Checkpointer(std::unique_ptr<Connection> connection,
                        std::chrono::milliseconds period = std::chrono::milliseconds(500));
  ~Checkpointer();  // finishes with a final checkpoint
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  void Loop();

  std::unique_ptr<Connection> connection_;
  const std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace zebros::storage::sqlite
