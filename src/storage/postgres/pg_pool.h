#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/postgres/pg_connection.h"

namespace zebros::storage::postgres {

// A bounded pool of connections to one PostgreSQL database. Connections are opened on demand
// (never more than `max_size` at once) and kept for reuse. One that is lost — or left inside a
// transaction that a ROLLBACK cannot end — is closed instead of kept, so the pool reconnects by
// itself once the database is back.
//
// After an attempt to connect fails, the database is taken for down: while it is, one attempt
// at a time, at most one a second, tries it again, and whoever else needs a new connection is
// told at once that it is unavailable. A server that takes connections and never answers costs
// each attempt the connect timeout; without this every borrower waited that long in turn, and a
// queue of them without end. Thread-safe.
class PgPool {
 public:
  // A connection lent to one thread; goes back to the pool when destroyed. Move-only.
  class Lease {
   public:
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    PgConnection* get() const { return connection_.get(); }
    PgConnection* operator->() const { return connection_.get(); }
    PgConnection& operator*() const { return *connection_; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<PgConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    void Release();

    PgPool* pool_ = nullptr;
    std::unique_ptr<PgConnection> connection_;
  };

  // Opens nothing yet. REQUIRES: max_size >= 1.
  PgPool(std::string url, PgOptions options, int max_size);
  // REQUIRES: every Lease was destroyed.
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // An idle connection (checked for a server-side close first), else a new one while fewer than
  // max_size are open, else the first one given back within `wait`. kUnavailable
  // "database_unavailable" when the server cannot be reached (or was not, the last time, and
  // another attempt is under way or was made less than a second ago) or none came back in time.
  core::Result<Lease> Acquire(std::chrono::milliseconds wait);

  // Connections kept for reuse, and all open ones (idle and lent).
  int idle() const;
  int total() const;

 private:
  // Keeps `connection` for reuse, or closes it when it is lost or stuck in a transaction.
  void Return(std::unique_ptr<PgConnection> connection);

  const std::string url_;
  const PgOptions options_;
  const int max_size_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // guarded by mutex_; most recent last
  int total_ = 0;                                    // guarded by mutex_; idle, lent or opening
  // The last attempt to connect failed (at `failed_at_`); guarded by mutex_.
  bool down_ = false;
  bool probing_ = false;  // while down_: an attempt is under way; guarded by mutex_
  std::chrono::steady_clock::time_point failed_at_{};  // guarded by mutex_
};

}  // namespace zebros::storage::postgres
