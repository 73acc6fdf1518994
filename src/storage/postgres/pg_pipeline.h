#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/reactor.h"
#include "core/result.h"
#include "core/work_pool.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_rows.h"

namespace zebros::storage::postgres {

// Reads (one statement each, no transaction) sent over one connection in libpq's pipeline mode
// and answered on the reactor's threads, so that no thread sleeps while the server works.
//
// Why: a read through the pool holds its I/O thread for the round trip, and the server's backend
// wakes for each query alone; context switches on both sides of the socket were the largest item
// of a GET by id (docs/performance.md). Here a read is queued; the reads queued while the I/O
// threads work through their ready sockets go out together with one sync (a flush posted to run
// after them), and one readable socket delivers every answer that arrived. While
// kMaxBatchesInFlight batches await their answers, new reads are held and go out together when
// the first of those is answered.
//
// Ranked searches take a millisecond or more each, and the server sends a batch's answers
// together at its sync: a batch of searches would make each wait for the slowest. A pipeline
// made with Batching::kOneByOne sends each read with a sync of its own instead, at most
// kMaxBatchesInFlight at once (one the backend works on, the next already in its socket, so it
// never waits for a round trip), and holds the others until one is answered.
//
// Each sync ends the implicit transaction of the reads before it, so locks are not held from
// one batch to the next. A read that fails aborts the rest of its batch: those are sent again
// once (they did not run). A lost connection fails what is pending with database_unavailable
// and the next read connects anew; so does a batch without an answer after
// AnswerLimit (statement timeout + 5 s).
//
// Connecting blocks (DNS, TCP, TLS, authentication: up to the connect timeout, when the server
// accepts connections and never answers), so it runs on the `connector` pool, never on the
// thread that asked: an I/O thread that connected itself held every request on it — a liveness
// probe included — for the connect timeout, once a second, while the database hung. Until the
// connection is made Ready() is false, and callers read another way. Thread-safe.
class PgPipeline : public std::enable_shared_from_this<PgPipeline> {
 public:
  // The rows live until the call returns. Runs on a reactor thread, or on the caller's when the
  // read fails at once.
  using Done = std::function<void(core::Result<sql::Statement>)>;

  // Batches sent and not yet answered, at most: one the server works on, one waiting behind it
  // (see SendQueuedLocked).
  static constexpr std::size_t kMaxBatchesInFlight = 2;

  // How the queued reads go out: together under one sync, or each with its own.
  enum class Batching { kTogether, kOneByOne };

  // Connects on first use, on `connector`'s threads. `reactor` must outlive the pipeline or see
  // Close() first; `connector` must outlive the pipeline.
  static std::shared_ptr<PgPipeline> Create(std::string url, PgOptions options,
                                            core::Reactor& reactor, core::WorkPool& connector,
                                            Batching batching = Batching::kTogether);
  ~PgPipeline();
  PgPipeline(const PgPipeline&) = delete;
  PgPipeline& operator=(const PgPipeline&) = delete;

  // Connected. If not, starts connecting on the connector (unless an attempt is under way, or
  // one failed less than a second ago) and returns false at once: the caller reads another way
  // (the pool, which reports an outage as it always has). Never blocks on the server.
  bool Ready();
  // An attempt to connect is under way.
  bool Connecting() const;
  // Called after each attempt to connect ends, with whether it connected, on a connector thread
  // and without the pipeline's locks held. Set before the first Ready().
  void OnConnectAttempt(std::function<void(bool connected)> fn);
  // Queues `read` (bound, `?` placeholders) for the next batch and hands its rows to `done`.
  // Not connected, it waits for the connection (starting an attempt as Ready() does), or fails
  // (database_unavailable) when there is none to wait for or it cannot be made.
  void Send(std::unique_ptr<PgRead> read, Done done);
  // Fails what is pending (database_unavailable) and disconnects; Ready() is false from then on.
  void Close();

  // Reads answered and batches (syncs) sent; for tests and diagnostics.
  struct Counts {
    std::uint64_t reads = 0;
    std::uint64_t batches = 0;
    std::uint64_t connects = 0;
    bool connected = false;
  };
  Counts counts() const;

 private:
  enum class Kind { kPrepare, kQuery, kSync };
  struct Entry {
    Kind kind = Kind::kQuery;
    std::unique_ptr<PgRead> read;  // kQuery
    Done done;                     // kQuery
    std::string sql;               // kPrepare: the statement it prepares
    PgResultPtr result;            // the first result that arrived
    bool resent = false;
    std::chrono::steady_clock::time_point sent_at;
  };
  // A finished read and what to tell its caller.
  struct Answer {
    Entry entry;
    std::optional<core::Error> error;
  };

  PgPipeline(std::string url, PgOptions options, core::Reactor& reactor, core::WorkPool& connector,
             Batching batching);
  // An attempt to connect is under way, or has just been started (unless closed, or one failed
  // less than a second ago).
  bool ConnectingLocked();
  // Hands an attempt to connect to the connector; false when it refused (queue full, stopped).
  bool StartConnectLocked();
  // Takes the outcome of an attempt (on a connector thread): the connection, or why not.
  void Connected(core::Result<std::unique_ptr<PgConnection>> opened);
  // Sends `entry`'s statement (preparing it on first use); the next Flush adds the sync. False:
  // the connection failed and `entry` is still the caller's.
  bool SendLocked(Entry& entry);
  // Sends the queued reads and a sync (on a reactor thread), unless kMaxBatchesInFlight batches
  // await their answers: then the reads wait for the first of those to be answered (see
  // SendQueuedLocked).
  void Flush();
  // Sends what Send queued (when fewer than kMaxBatchesInFlight batches are out), the sync the
  // reads sent since the last one need, and libpq's output buffer.
  void SendQueuedLocked(std::vector<Answer>& answers);
  // Moves the queued reads that may go out now into `batch`; sets held_ when some must wait.
  // Called with both locks held.
  void TakeSendableLocked(std::vector<Entry>& batch);
  // Ends the reads sent since the last sync with one. False: the connection failed.
  bool SyncLocked();
  void OnReadable(std::uint64_t generation, bool readable);
  void CheckTimeouts(std::uint64_t generation);
  // Schedules Flush on the reactor (once until it runs).
  void PostFlush();
  // Waits for the socket (always, while connected) and checks the oldest read's age (while
  // there are pending reads).
  void ArmLocked();
  // Drops the connection; the pending reads go to `answers` with `error`.
  void DisconnectLocked(const core::Error& error, std::vector<Answer>& answers);
  static void Deliver(std::vector<Answer>& answers);

  const std::string url_;
  const PgOptions options_;
  core::Reactor& reactor_;
  core::WorkPool& connector_;
  const Batching batching_;

  mutable std::mutex mutex_;
  std::unique_ptr<PgConnection> connection_;     // guarded by mutex_
  std::atomic<bool> connected_{false};           // connection_ != nullptr, read without the lock
  std::unique_ptr<core::Reactor::Watch> watch_;  // over connection_'s socket; guarded
  std::uint64_t generation_ = 0;  // per connection: callbacks of an older one are ignored
  std::unordered_map<std::string, std::string> prepared_;  // SQL → statement name
  std::uint64_t next_name_ = 1;
  std::deque<Entry> pending_;          // in the order the server answers
  bool sync_needed_ = false;           // reads were sent since the last sync
  std::size_t batches_in_flight_ = 0;  // syncs sent and not yet answered
  // Reads handed to Send, waiting for the next Flush; the lock is never held for long, and
  // is taken after mutex_ when both are.
  std::mutex queue_mutex_;
  std::vector<Entry> incoming_;  // guarded by queue_mutex_
  bool flush_posted_ = false;    // guarded by queue_mutex_
  // The queued reads wait for a batch's answer (Flush found the limit reached); Send posts no
  // flush meanwhile. Guarded by queue_mutex_.
  bool held_ = false;
  bool waiting_ = false;  // a readable wait is armed
  bool timer_armed_ = false;
  bool closed_ = false;
  bool connecting_ = false;  // an attempt is with the connector
  std::function<void(bool)> on_connect_attempt_;
  std::chrono::steady_clock::time_point next_attempt_{};
  Counts counts_;
};

}  // namespace zebros::storage::postgres
