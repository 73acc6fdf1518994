#include "storage/sqlite/checkpointer.h"

#include "core/log.h"

namespace zebros::storage::sqlite {

Checkpointer::Checkpointer(std::unique_ptr<Connection> connection, CheckpointThresholds thresholds)
    : connection_(std::move(connection)), thresholds_(thresholds), thread_([this] { Loop(); }) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Watch(Connection& writer) {
  sqlite3_wal_hook(writer.handle(), &Checkpointer::OnCommit, this);
}

void Checkpointer::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int Checkpointer::OnCommit(void* self, sqlite3* db, const char* name, int frames) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  if (frames >= checkpointer->thresholds_.writer_frames) {
    // Busy when this thread is copying: the writer tries again after its next commit.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (frames >= checkpointer->thresholds_.wake_frames) {
    {
      std::lock_guard lock(checkpointer->mutex_);
      checkpointer->wanted_ = true;
    }
    checkpointer->wake_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::Loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return wanted_ || stopping_; });
      if (stopping_) return;
      wanted_ = false;
    }
    const int rc = sqlite3_wal_checkpoint_v2(connection_->handle(), "main",
                                             SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
      core::Log(core::LogLevel::kWarn, "checkpoint failed",
                {{"code", rc}, {"message", sqlite3_errmsg(connection_->handle())}});
    }
  }
}

}  // namespace zebros::storage::sqlite
