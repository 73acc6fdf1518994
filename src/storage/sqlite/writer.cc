#include "storage/sqlite/writer.h"

#include <future>

#include "core/log.h"

namespace zebros::storage::sqlite {

namespace {
// Between two rounds of upkeep that found work, while the writer stays idle: short, so a backlog
// (a bulk load's segments) is worked off in minutes, yet each round's transaction lets queued
// work in between.
constexpr std::chrono::milliseconds kUpkeepPause{5};
}  // namespace

Writer::Writer(std::unique_ptr<Connection> connection, Upkeep upkeep,
               std::chrono::milliseconds upkeep_after)
    : connection_(std::move(connection)),
      upkeep_(std::move(upkeep)),
      upkeep_after_(upkeep_after),
      thread_([this] { Loop(); }) {}

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
  // Upkeep is due at start-up and after every commit, until a round finds nothing to do.
  bool upkeep_due = static_cast<bool>(upkeep_);
  bool upkeep_working = false;  // the last round found work: the next comes after a short pause
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      const auto ready = [this] { return stopping_ || !queue_.empty(); };
      if (upkeep_due) {
        if (!wake_.wait_for(lock, upkeep_working ? kUpkeepPause : upkeep_after_, ready)) {
          lock.unlock();
          upkeep_working = upkeep_due = RunUpkeep();
          continue;
        }
      } else {
        wake_.wait(lock, ready);
      }
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && group.size() < kMaxGroup) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitGroup(group);
    group.clear();
    upkeep_due = static_cast<bool>(upkeep_);
    upkeep_working = false;
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

bool Writer::RunUpkeep() {
  core::Result<bool> more = false;
  if (auto txn = Transaction::Begin(*connection_); !txn.ok()) {
    more = std::move(txn).error();
  } else if (more = upkeep_(*connection_); more.ok()) {
    if (auto committed = (*txn)->Commit(); !committed.ok()) more = std::move(committed).error();
  }
  if (!more.ok()) {
    core::Log(core::LogLevel::kWarn, "writer upkeep failed", {{"detail", more.error().detail}});
    return false;
  }
  return *more;
}

}  // namespace zebros::storage::sqlite
