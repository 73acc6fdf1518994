#include "storage/sqlite/writer.h"

#include <future>

#include "core/log.h"

namespace zebros::storage::sqlite {

Writer::Writer(std::unique_ptr<Connection> connection)
    : connection_(std::move(connection)), thread_([this] { Loop(); }) {}

Writer::~Writer() { Stop(); }

void Writer::Submit(Work work, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < kMaxQueued) {
      queue_.push_back({std::move(work), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(core::MakeError(core::Code::kUnavailable, "unavailable",
                       "The server is busy or shutting down; retry shortly.", "writer queue full"));
}

core::Status Writer::Run(Work work) {
  std::promise<core::Status> promise;
  auto future = promise.get_future();
  Submit(std::move(work),
         [&promise](core::Status status) { promise.set_value(std::move(status)); });
  return future.get();
}

void Writer::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void Writer::Loop() {
  std::deque<Item> group;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && group.size() < kMaxGroup) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    group.clear();
  }
}

core::Status Writer::RunCached(const std::string& sql) {
  auto stmt = connection_->Prepare(sql);
  if (!stmt.ok()) return std::move(stmt).error();
  auto done = stmt->Step();
  if (!done.ok()) return std::move(done).error();
  return core::OkStatus();
}

void Writer::CommitGroup(std::deque<Item>& group) {
  std::vector<core::Status> outcomes;
  outcomes.reserve(group.size());
  auto begin = connection_->Exec("BEGIN IMMEDIATE");
  if (!begin.ok()) {
    core::Log(core::LogLevel::kError, "write transaction failed to start",
              {{"detail", begin.error().detail}});
    for (auto& item : group) item.done(begin.error());
    return;
  }
  // The group's search index writes wait for the end (see Session::RunOrDefer).
  connection_->DeferWrites(true);
  for (auto& item : group) {
    const std::size_t deferred = connection_->DeferredCount();
    auto savepoint = RunCached("SAVEPOINT piece");
    if (!savepoint.ok()) {
      outcomes.push_back(std::move(savepoint));
      continue;
    }
    core::Status status = core::OkStatus();
    try {
      status = item.work(*connection_);
    } catch (const std::exception& e) {
      status = core::MakeError(core::Code::kInternal, "internal", "An internal error occurred.",
                               std::string("write work threw: ") + e.what());
    }
    if (!status.ok()) {
      (void)RunCached("ROLLBACK TO piece");
      connection_->memo().Forget();  // what the piece learned was undone with it
      connection_->DropDeferredFrom(deferred);
    }
    (void)RunCached("RELEASE piece");
    outcomes.push_back(std::move(status));
  }
  // A failure here fails the whole group: the pieces' writes and their index entries go together.
  auto commit = connection_->RunDeferred();
  connection_->DeferWrites(false);
  if (commit.ok()) commit = connection_->Exec("COMMIT");
  if (!commit.ok()) {
    core::Log(core::LogLevel::kError, "write transaction failed to commit",
              {{"detail", commit.error().detail}});
    (void)connection_->Exec("ROLLBACK");
  }
  for (std::size_t i = 0; i < group.size(); ++i) {
    group[i].done(commit.ok() ? std::move(outcomes[i]) : commit);
  }
}

}  // namespace zebros::storage::sqlite
