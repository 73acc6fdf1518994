#include "storage/postgres/pg_pipeline.h"

#include "core/log.h"

namespace zebros::storage::postgres {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kRetryConnectAfter = std::chrono::seconds(1);
constexpr auto kTimeoutCheck = std::chrono::milliseconds(1000);
// Statements prepared on the pipeline's connection at most; others are sent unprepared.
constexpr std::size_t kMaxPrepared = 256;

}  // namespace

std::shared_ptr<PgPipeline> PgPipeline::Create(std::string url, PgOptions options,
                                               core::Reactor& reactor, core::WorkPool& connector,
                                               Batching batching) {
  return std::shared_ptr<PgPipeline>(
      new PgPipeline(std::move(url), options, reactor, connector, batching));
}

PgPipeline::PgPipeline(std::string url, PgOptions options, core::Reactor& reactor,
                       core::WorkPool& connector, Batching batching)
    : url_(std::move(url)),
      options_(options),
      reactor_(reactor),
      connector_(connector),
      batching_(batching) {}

PgPipeline::~PgPipeline() { Close(); }

PgPipeline::Counts PgPipeline::counts() const {
  std::lock_guard lock(mutex_);
  Counts counts = counts_;
  counts.connected = connection_ != nullptr;
  return counts;
}

bool PgPipeline::Ready() {
  // Every GET asks: without the connection's lock, which the thread reading answers holds.
  if (connected_.load(std::memory_order_acquire)) return true;
  std::lock_guard lock(mutex_);
  if (connection_ != nullptr) return !closed_;
  ConnectingLocked();
  return false;
}

bool PgPipeline::ConnectingLocked() {
  if (closed_) return false;
  if (connecting_) return true;
  if (Clock::now() < next_attempt_) return false;
  if (StartConnectLocked()) return true;
  next_attempt_ = Clock::now() + kRetryConnectAfter;
  return false;
}

bool PgPipeline::Connecting() const {
  std::lock_guard lock(mutex_);
  return connecting_;
}

void PgPipeline::OnConnectAttempt(std::function<void(bool connected)> fn) {
  std::lock_guard lock(mutex_);
  on_connect_attempt_ = std::move(fn);
}

bool PgPipeline::StartConnectLocked() {
  // The attempt holds no reference to the pipeline while it waits on the server: one closed and
  // dropped meanwhile is let go, and the connection with it.
  connecting_ = connector_.Post([weak = weak_from_this(), url = url_, options = options_] {
    auto opened = PgConnection::Open(url, options);
    if (auto self = weak.lock()) self->Connected(std::move(opened));
  });
  return connecting_;
}

void PgPipeline::Connected(core::Result<std::unique_ptr<PgConnection>> opened) {
  std::function<void(bool)> notify;
  std::vector<Answer> answers;
  bool connected = false;
  {
    std::lock_guard lock(mutex_);
    connecting_ = false;
    notify = on_connect_attempt_;
    if (closed_) return;  // the connection closes as `opened` goes
    if (!opened.ok()) {
      core::Log(core::LogLevel::kWarn, "read pipeline: connect failed",
                {{"detail", opened.error().detail}});
    } else if (PGconn* conn = (*opened)->handle();
               PQsetnonblocking(conn, 1) == 0 && PQenterPipelineMode(conn) == 1) {
      connection_ = std::move(opened).value();
      connected_.store(true, std::memory_order_release);
      watch_ = reactor_.WatchDescriptor(PQsocket(conn));
      ++generation_;
      ++counts_.connects;
      prepared_.clear();
      ArmLocked();
      connected = true;
    }
    // The reads that waited for the connection go out now, or are told it could not be made.
    std::lock_guard queue_lock(queue_mutex_);
    held_ = false;
    if (!connected) {
      next_attempt_ = Clock::now() + kRetryConnectAfter;
      for (auto& entry : incoming_) {
        answers.push_back({std::move(entry), DatabaseUnavailable("read pipeline: cannot connect")});
      }
      incoming_.clear();
    }
  }
  if (connected) PostFlush();
  Deliver(answers);
  if (notify) notify(connected);
}

void PgPipeline::Send(std::unique_ptr<PgRead> read, Done done) {
  auto checked = read->parameters().Check("pipeline read");
  if (!checked.ok()) return done(std::move(checked).error());
  Entry entry;
  entry.read = std::move(read);
  entry.done = std::move(done);
  // Only queued here: the connection's lock is held by whichever thread reads answers, and an
  // I/O thread waiting for it (worse: for a holder the scheduler preempted) stalls its requests.
  bool held = false;
  {
    std::lock_guard lock(queue_mutex_);
    incoming_.push_back(std::move(entry));
    held = held_;
  }
  if (!held) PostFlush();  // else the answer the reads wait for sends them
}

bool PgPipeline::SendLocked(Entry& entry) {
  PGconn* conn = connection_->handle();
  const std::string& sql = entry.read->sql();
  const std::vector<const char*> values = entry.read->parameters().Pointers();
  const int count = static_cast<int>(values.size());
  const char* const* data = values.empty() ? nullptr : values.data();
  const auto now = Clock::now();
  int sent = 0;
  auto found = prepared_.find(sql);
  if (found == prepared_.end() && prepared_.size() < kMaxPrepared) {
    std::string name = "r" + std::to_string(next_name_++);
    if (PQsendPrepare(conn, name.c_str(), ToDollarPlaceholders(sql).c_str(), 0, nullptr) != 1) {
      return false;
    }
    Entry prepare;
    prepare.kind = Kind::kPrepare;
    prepare.sql = sql;
    prepare.sent_at = now;
    pending_.push_back(std::move(prepare));
    found = prepared_.emplace(sql, std::move(name)).first;
  }
  if (found != prepared_.end()) {
    sent = PQsendQueryPrepared(conn, found->second.c_str(), count, data, nullptr, nullptr, 0);
  } else {
    sent = PQsendQueryParams(conn, ToDollarPlaceholders(sql).c_str(), count, nullptr, data, nullptr,
                             nullptr, 0);
  }
  if (sent != 1) return false;
  entry.kind = Kind::kQuery;
  entry.sent_at = now;
  pending_.push_back(std::move(entry));
  sync_needed_ = true;
  return true;
}

void PgPipeline::Flush() {
  std::vector<Answer> answers;
  {
    std::lock_guard lock(mutex_);
    SendQueuedLocked(answers);
  }
  Deliver(answers);
}

void PgPipeline::SendQueuedLocked(std::vector<Answer>& answers) {
  std::vector<Entry> batch;
  {
    std::lock_guard queue_lock(queue_mutex_);
    flush_posted_ = false;
    TakeSendableLocked(batch);
  }
  std::size_t sent = 0;
  bool failed = false;
  if (connection_ != nullptr) {
    while (sent < batch.size() && SendLocked(batch[sent])) {
      ++sent;
      if (batching_ == Batching::kOneByOne && !SyncLocked()) {
        failed = true;
        break;
      }
    }
  }
  for (std::size_t i = sent; i < batch.size(); ++i) {
    answers.push_back(
        {std::move(batch[i]),
         DatabaseUnavailable(connection_ != nullptr ? "read pipeline: send failed"
                                                    : "read pipeline: not connected")});
  }
  if (connection_ == nullptr) return;
  if (failed || sent < batch.size() || (sync_needed_ && !SyncLocked())) {
    DisconnectLocked(DatabaseUnavailable("read pipeline: send failed"), answers);
    return;
  }
  // 1: the socket took only part of it; the rest goes out on the next turn (the server answers
  // nothing before it has the sync).
  const int flushed = PQflush(connection_->handle());
  if (flushed < 0) {
    DisconnectLocked(DatabaseUnavailable("read pipeline: send failed"), answers);
    return;
  }
  if (flushed == 1) PostFlush();
  ArmLocked();
}

void PgPipeline::TakeSendableLocked(std::vector<Entry>& batch) {
  if (connection_ == nullptr) {
    // They wait for the connection being made (Connected sends them), or all of them are told
    // there is none.
    held_ = ConnectingLocked();
    if (!held_) batch.swap(incoming_);
    return;
  }
  const std::size_t room =
      batches_in_flight_ < kMaxBatchesInFlight ? kMaxBatchesInFlight - batches_in_flight_ : 0;
  if (batching_ == Batching::kTogether) {
    // Bounded batches in flight make the batches as large as the load: the reads that arrive
    // while the server works go out together when its answer comes, one wake-up of the backend
    // and of this loop for all of them. Sent at once instead, a quiet moment's reads each went
    // alone, and two nodes sharing two cores fell into a pattern of many small batches (the
    // backends' and nodes' wake-ups then cost more than the reads; docs/performance.md).
    held_ = room == 0;
    if (!held_) batch.swap(incoming_);
    return;
  }
  const std::size_t taken = std::min(room, incoming_.size());
  batch.assign(std::make_move_iterator(incoming_.begin()),
               std::make_move_iterator(incoming_.begin() + static_cast<std::ptrdiff_t>(taken)));
  incoming_.erase(incoming_.begin(), incoming_.begin() + static_cast<std::ptrdiff_t>(taken));
  held_ = !incoming_.empty();
}

bool PgPipeline::SyncLocked() {
  sync_needed_ = false;
  const bool synced = PQpipelineSync(connection_->handle()) == 1;
  Entry sync;
  sync.kind = Kind::kSync;
  sync.sent_at = Clock::now();
  pending_.push_back(std::move(sync));
  ++batches_in_flight_;
  ++counts_.batches;
  return synced;
}

void PgPipeline::PostFlush() {
  {
    std::lock_guard lock(queue_mutex_);
    if (flush_posted_) return;
    flush_posted_ = true;
  }
  // After the handlers ready now: the reads they send join this batch.
  reactor_.Post([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->Flush();
  });
}

void PgPipeline::ArmLocked() {
  if (connection_ == nullptr) return;
  // Armed while connected, pending reads or not: an idle connection the server closed (a
  // restart) is dropped as it happens, not found out by the next read.
  if (!waiting_) {
    waiting_ = true;
    watch_->AwaitReadable([weak = weak_from_this(), generation = generation_](bool readable) {
      if (auto self = weak.lock()) self->OnReadable(generation, readable);
    });
  }
  if (!timer_armed_ && !pending_.empty()) {
    timer_armed_ = true;
    reactor_.After(kTimeoutCheck, [weak = weak_from_this(), generation = generation_] {
      if (auto self = weak.lock()) self->CheckTimeouts(generation);
    });
  }
}

void PgPipeline::OnReadable(std::uint64_t generation, bool readable) {
  std::vector<Answer> answers;
  {
    std::lock_guard lock(mutex_);
    if (generation != generation_ || connection_ == nullptr) return;
    waiting_ = false;
    PGconn* conn = connection_->handle();
    // (A cancelled wait belongs to a dropped connection, whose generation has passed.)
    const bool lost = !readable || PQconsumeInput(conn) != 1;
    const int flushed = lost ? -1 : PQflush(conn);  // 1: the rest of a batch waits its turn
    if (flushed == 1) PostFlush();
    if (flushed < 0) {
      DisconnectLocked(DatabaseUnavailable("read pipeline: connection lost"), answers);
    } else {
      std::vector<Entry> resend;
      bool broken = false;
      while (!pending_.empty() && !PQisBusy(conn)) {
        Entry& front = pending_.front();
        PGresult* result = PQgetResult(conn);
        if (front.kind == Kind::kSync) {
          PgResultPtr owned(result);
          if (!owned || PQresultStatus(owned.get()) != PGRES_PIPELINE_SYNC) {
            broken = true;  // out of step with the server: the connection cannot be trusted
            break;
          }
          pending_.pop_front();
          --batches_in_flight_;
          continue;
        }
        if (result != nullptr) {  // a statement's result; a null one follows it
          if (front.result == nullptr) {
            front.result.reset(result);
          } else {
            PQclear(result);
          }
          continue;
        }
        Entry done = std::move(front);
        pending_.pop_front();
        const ExecStatusType status =
            done.result ? PQresultStatus(done.result.get()) : PGRES_FATAL_ERROR;
        const bool ok = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
        if (done.kind == Kind::kPrepare) {
          if (!ok) prepared_.erase(done.sql);  // prepared again by the next read of it
          continue;
        }
        if (status == PGRES_PIPELINE_ABORTED && !done.resent) {
          done.resent = true;
          done.result.reset();
          resend.push_back(std::move(done));
          continue;
        }
        std::optional<core::Error> error;
        if (!ok) {
          error = PgError(conn, done.result.get(), "pipeline read");
          // FATAL ends the session (a terminated backend, a server shutting down): the
          // connection goes now, not when its end of file is read, so the next read connects
          // anew instead of failing on it.
          const char* severity =
              done.result ? PQresultErrorField(done.result.get(), PG_DIAG_SEVERITY_NONLOCALIZED)
                          : nullptr;
          if (severity != nullptr &&
              (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC")) {
            broken = true;
          }
        }
        ++counts_.reads;
        answers.push_back({std::move(done), std::move(error)});
        if (broken) break;
      }
      if (broken || PQstatus(conn) != CONNECTION_OK) {
        for (auto& entry : resend) {
          answers.push_back(
              {std::move(entry), DatabaseUnavailable("read pipeline: connection lost")});
        }
        DisconnectLocked(DatabaseUnavailable("read pipeline: connection lost"), answers);
      } else {
        for (std::size_t i = 0; i < resend.size(); ++i) {
          if (!SendLocked(resend[i])) {
            for (std::size_t j = i; j < resend.size(); ++j) {
              answers.push_back(
                  {std::move(resend[j]), DatabaseUnavailable("read pipeline: send failed")});
            }
            DisconnectLocked(DatabaseUnavailable("read pipeline: send failed"), answers);
            break;
          }
        }
        if (connection_ != nullptr) {
          // The reads held for a batch's answer go now, with the resent ones' sync, before the
          // answers are delivered: the server works on them meanwhile.
          bool held = false;
          {
            std::lock_guard queue_lock(queue_mutex_);
            held = held_;
          }
          if (held && batches_in_flight_ < kMaxBatchesInFlight) {
            SendQueuedLocked(answers);
          } else {
            if (!resend.empty()) PostFlush();  // their sync
            ArmLocked();
          }
        }
      }
    }
  }
  Deliver(answers);
}

void PgPipeline::CheckTimeouts(std::uint64_t generation) {
  std::vector<Answer> answers;
  {
    std::lock_guard lock(mutex_);
    if (generation != generation_) return;
    timer_armed_ = false;
    if (connection_ == nullptr || pending_.empty()) return;
    if (Clock::now() - pending_.front().sent_at > AnswerLimit(options_)) {
      DisconnectLocked(DatabaseUnavailable("read pipeline: no answer in time"), answers);
    } else {
      ArmLocked();
    }
  }
  Deliver(answers);
}

void PgPipeline::Close() {
  std::vector<Answer> answers;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    if (connection_ != nullptr)
      DisconnectLocked(DatabaseUnavailable("read pipeline: closed"), answers);
    // Queued reads too: once the loop has stopped, no Flush would answer them.
    std::lock_guard queue_lock(queue_mutex_);
    for (auto& entry : incoming_) {
      answers.push_back({std::move(entry), DatabaseUnavailable("read pipeline: closed")});
    }
    incoming_.clear();
  }
  Deliver(answers);
}

void PgPipeline::DisconnectLocked(const core::Error& error, std::vector<Answer>& answers) {
  // Closing is the server stopping (info); anything else is a lost connection (warn).
  // Reads per batch (reads / batches) tell how well the pipeline batched.
  core::Log(closed_ ? core::LogLevel::kInfo : core::LogLevel::kWarn, "read pipeline: disconnected",
            {{"detail", error.detail},
             {"pending", static_cast<std::int64_t>(pending_.size())},
             {"reads", static_cast<std::int64_t>(counts_.reads)},
             {"batches", static_cast<std::int64_t>(counts_.batches)}});
  for (auto& entry : pending_) {
    if (entry.kind == Kind::kQuery) answers.push_back({std::move(entry), error});
  }
  pending_.clear();
  watch_.reset();  // before the socket closes with the connection
  connection_.reset();
  connected_.store(false, std::memory_order_release);
  ++generation_;
  prepared_.clear();
  sync_needed_ = false;
  batches_in_flight_ = 0;
  waiting_ = false;
  timer_armed_ = false;
  bool held = false;
  {
    std::lock_guard queue_lock(queue_mutex_);
    held = held_;
    held_ = false;
  }
  // Reads held for an answer that will not come: the next Flush has them wait for a new
  // connection, or tells them there is none (Close tells them itself).
  if (held && !closed_) PostFlush();
}

void PgPipeline::Deliver(std::vector<Answer>& answers) {
  for (auto& answer : answers) {
    // On a reactor thread nothing above would catch it: the loop would end.
    try {
      if (answer.error) {
        answer.entry.done(std::move(*answer.error));
        continue;
      }
      answer.entry.read->SetResult(std::move(answer.entry.result));
      answer.entry.done(sql::Statement(answer.entry.read.get()));
    } catch (const std::exception& e) {
      core::Log(core::LogLevel::kError, "read pipeline: a read's callback threw",
                {{"detail", e.what()}});
    }
  }
}

}  // namespace zebros::storage::postgres
