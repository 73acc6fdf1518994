#include "storage/postgres/pg_search_pipelines.h"

#include <algorithm>

#include "core/work_pool.h"

namespace zebros::storage::postgres {

std::shared_ptr<PgSearchPipelines> PgSearchPipelines::Create(const std::string& url,
                                                             const PgOptions& options,
                                                             core::Reactor& reactor, int count) {
  std::shared_ptr<PgSearchPipelines> searches(new PgSearchPipelines());
  for (int i = 0; i < std::max(count, 1); ++i) {
    searches->pipelines_.push_back(
        PgPipeline::Create(url, options, reactor, PgPipeline::Batching::kOneByOne));
  }
  searches->unanswered_.assign(searches->pipelines_.size(), 0);
  return searches;
}

PgSearchPipelines::~PgSearchPipelines() { Close(); }

bool PgSearchPipelines::Ready() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
  }
  // Each: a search given to one that cannot connect would fail, though the other could run it.
  return std::all_of(pipelines_.begin(), pipelines_.end(),
                     [](const auto& pipeline) { return pipeline->Ready(); });
}

void PgSearchPipelines::Send(std::unique_ptr<PgRead> read, PgPipeline::Done done) {
  const std::size_t none = pipelines_.size();
  std::size_t index = none;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return done(DatabaseUnavailable("search pipelines: closed"));
    for (std::size_t i = 0; i < unanswered_.size(); ++i) {
      if (unanswered_[i] < PgPipeline::kMaxBatchesInFlight &&
          (index == none || unanswered_[i] < unanswered_[index])) {
        index = i;
      }
    }
    if (index == none) {
      if (waiting_.size() >= kMaxWaiting) return done(core::WorkPool::BusyError());
      waiting_.push_back({std::move(read), std::move(done)});
      return;
    }
    ++unanswered_[index];
  }
  SendOn(index, {std::move(read), std::move(done)});
}

void PgSearchPipelines::SendOn(std::size_t index, Waiting waiting) {
  pipelines_[index]->Send(std::move(waiting.read),
                          [weak = weak_from_this(), index,
                           done = std::move(waiting.done)](core::Result<sql::Statement> stmt) {
                            // The next search first: its backend starts on it while this answer is
                            // read.
                            if (auto self = weak.lock()) self->Answered(index);
                            done(std::move(stmt));
                          });
}

void PgSearchPipelines::Answered(std::size_t index) {
  for (;;) {
    Waiting next;
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty() || closed_) {
        --unanswered_[index];
        return;
      }
      next = std::move(waiting_.front());
      waiting_.pop_front();
    }
    // A pipeline whose connection went (a terminated backend, a restarted server) connects again
    // here, at most once a second: given to it unconnected, every waiting search would fail in
    // turn though the server is back. While it cannot connect, the server is down: this one
    // fails as an outage, and the next is tried.
    if (pipelines_[index]->Ready()) return SendOn(index, std::move(next));
    next.done(DatabaseUnavailable("search pipelines: not connected"));
  }
}

void PgSearchPipelines::Close() {
  std::deque<Waiting> waiting;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    waiting.swap(waiting_);
  }
  for (auto& pipeline : pipelines_) pipeline->Close();
  for (auto& search : waiting) search.done(DatabaseUnavailable("search pipelines: closed"));
}

}  // namespace zebros::storage::postgres
