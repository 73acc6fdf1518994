#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/reactor.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_pipeline.h"
#include "storage/postgres/pg_rows.h"

namespace zebros::storage::postgres {

// Ranked searches sent over a few pipelines (PgPipeline::Batching::kOneByOne, one backend each)
// from one queue: a search goes to the pipeline with the fewest unanswered, when it has fewer
// than PgPipeline::kMaxBatchesInFlight; otherwise it waits here for the first answer of any.
//
// Why one queue: searches committed to a pipeline as they arrived (to the one with the fewest
// outstanding) ran 8 % faster than on the pool but with p99 38 ms instead of 30: a slow search
// held up the dozen queued behind it at its backend while the other backend ran dry
// (docs/performance.md).
//
// A pipeline that lost its connection connects again in the background (PgPipeline::Ready);
// the searches waiting meanwhile go to whichever pipeline is connected and free first, and fail
// as an outage only when none is connected and none is connecting. Thread-safe.
class PgSearchPipelines : public std::enable_shared_from_this<PgSearchPipelines> {
 public:
  // Searches waiting here at most; beyond: core::WorkPool::BusyError.
  static constexpr std::size_t kMaxWaiting = 20000;

  // `count` pipelines on `reactor` (which must outlive them or see Close() first), connecting on
  // first use on `connector`'s threads (which must outlive them). REQUIRES: count >= 1.
  static std::shared_ptr<PgSearchPipelines> Create(const std::string& url, const PgOptions& options,
                                                   core::Reactor& reactor,
                                                   core::WorkPool& connector, int count);
  ~PgSearchPipelines();
  PgSearchPipelines(const PgSearchPipelines&) = delete;
  PgSearchPipelines& operator=(const PgSearchPipelines&) = delete;

  // Every pipeline connected (those that are not start connecting, PgPipeline::Ready). False:
  // search another way.
  bool Ready();
  // Queues `read` (bound, `?` placeholders) and hands its rows to `done`, on a reactor thread
  // (or on the caller's when it fails at once).
  void Send(std::unique_ptr<PgRead> read, PgPipeline::Done done);
  // Fails what waits here and what the pipelines have pending (database_unavailable).
  void Close();

 private:
  struct Waiting {
    std::unique_ptr<PgRead> read;
    PgPipeline::Done done;
  };

  PgSearchPipelines() = default;
  // Sends `waiting` on pipeline `index`, whose unanswered count the caller raised.
  void SendOn(std::size_t index, Waiting waiting);
  // Pipeline `index` answered one.
  void Answered(std::size_t index);
  // Gives waiting searches to connected pipelines with room; fails them all as an outage when
  // no pipeline is connected or connecting.
  void Dispatch();

  std::vector<std::shared_ptr<PgPipeline>> pipelines_;
  std::mutex mutex_;
  std::vector<std::size_t> unanswered_;  // per pipeline; guarded by mutex_
  std::deque<Waiting> waiting_;          // guarded by mutex_
  bool closed_ = false;                  // guarded by mutex_
};

}  // namespace zebros::storage::postgres
