#include "storage/sqlite/checkpointer.h"

#include "core/log.h"

namespace zebros::storage::sqlite {

Checkpointer::Checkpointer(std::unique_ptr<Connection> connection,
                           std::chrono::milliseconds period)
    : connection_(std::move(connection)), period_(period), thread_([this] { Loop(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Checkpointer::Loop() {
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, period_, [this] { return stopping_; });
      stopping = stopping_;
    }
    int log_frames = 0;
    int checkpointed = 0;
    const int rc = sqlite3_wal_checkpoint_v2(connection_->handle(), nullptr,
                                             SQLITE_CHECKPOINT_PASSIVE, &log_frames, &checkpointed);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      core::Log(core::LogLevel::kWarn, "checkpoint failed",
                {{"detail", sqlite3_errmsg(connection_->handle())}});
    }
    if (stopping) return;
  }
}

}  // namespace zebros::storage::sqlite
