#include "storage/postgres/pg_search_pipelines.h"

#include <algorithm>

#include "core/work_pool.h"

namespace zebros::storage::postgres {

std::shared_ptr<PgSearchPipelines> PgSearchPipelines::Create(const std::string& url,
                                                             const PgOptions& options,
                                                             core::Reactor& reactor,
                                                             core::WorkPool& connector, int count) {
  std::shared_ptr<PgSearchPipelines> searches(new PgSearchPipelines());
  for (int i = 0; i < std::max(count, 1); ++i) {
    auto pipeline =
        PgPipeline::Create(url, options, reactor, connector, PgPipeline::Batching::kOneByOne);
    // A pipeline connected again takes what waits; one that could not may leave none to.
    pipeline->OnConnectAttempt([weak = searches->weak_from_this()](bool) {
      if (auto self = weak.lock()) self->Dispatch();
    });
    searches->pipelines_.push_back(std::move(pipeline));
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
  // Each (and each not connected starts connecting): a search given to one that cannot connect
  // would fail, though the other could run it.
  bool ready = true;
  for (const auto& pipeline : pipelines_) ready = pipeline->Ready() && ready;
  return ready;
}

void PgSearchPipelines::Send(std::unique_ptr<PgRead> read, PgPipeline::Done done) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return done(DatabaseUnavailable("search pipelines: closed"));
    if (waiting_.size() >= kMaxWaiting) return done(core::WorkPool::BusyError());
    // In line behind those waiting already, then given out in order.
    waiting_.push_back({std::move(read), std::move(done)});
  }
  Dispatch();
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
  {
    std::lock_guard lock(mutex_);
    --unanswered_[index];
  }
  Dispatch();
}

void PgSearchPipelines::Dispatch() {
  const std::size_t none = pipelines_.size();
  for (;;) {
    Waiting next;
    std::deque<Waiting> failed;
    std::size_t index = none;
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty() || closed_) return;
      bool any_ready = false;
      for (std::size_t i = 0; i < pipelines_.size(); ++i) {
        // (Ready() starts connecting one that is not, unless it failed less than a second ago.)
        const bool ready = pipelines_[i]->Ready();
        any_ready = any_ready || ready;
        if (ready && unanswered_[i] < PgPipeline::kMaxBatchesInFlight &&
            (index == none || unanswered_[i] < unanswered_[index])) {
          index = i;
        }
      }
      if (index != none) {
        next = std::move(waiting_.front());
        waiting_.pop_front();
        ++unanswered_[index];
      } else if (any_ready ||
                 // Connecting, or connected since it was asked above.
                 std::any_of(pipelines_.begin(), pipelines_.end(), [](const auto& pipeline) {
                   return pipeline->Connecting() || pipeline->Ready();
                 })) {
        return;  // an answer, or an attempt to connect as it ends, dispatches them
      } else {
        failed.swap(waiting_);  // no server to run them on
      }
    }
    if (index == none) {
      for (auto& search : failed) {
        search.done(DatabaseUnavailable("search pipelines: not connected"));
      }
      return;
    }
    SendOn(index, std::move(next));
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
