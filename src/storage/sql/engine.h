#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/reactor.h"
#include "core/result.h"
#include "model/object_type.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

class AuditLog;

// A read session lent to the calling thread; gives it back when it goes out of scope.
class ReadLease {
 public:
  using Release = std::function<void(Session*)>;
  ReadLease(Session* session, Release release) : session_(session), release_(std::move(release)) {}
  ReadLease(const ReadLease&) = delete;
  ReadLease& operator=(const ReadLease&) = delete;
  ReadLease(ReadLease&& other) noexcept
      : session_(std::exchange(other.session_, nullptr)), release_(std::move(other.release_)) {}
  ~ReadLease() {
    if (session_ != nullptr && release_) release_(session_);
  }
  Session* operator->() const { return session_; }
  Session& operator*() const { return *session_; }

 private:
  Session* session_;
  Release release_;
};

// A database the stores of storage/sql run on: SQLite (storage/sqlite/database.h) or
// PostgreSQL (storage/postgres/pg_database.h). Opening one applies the migrations and lays out
// the object tables. Thread-safe.
class Engine {
 public:
  // Runs inside a write transaction; an error rolls back this work (and only this work).
  using Work = std::function<core::Status(Session&)>;
  // Runs on a storage thread after the commit or the failure; must be quick.
  using Done = std::function<void(core::Status)>;

  virtual ~Engine() = default;
  virtual Dialect dialect() const = 0;

  // Queues `work` for a write transaction; `done` gets its outcome once durable. kUnavailable
  // (`database_unavailable`) when the database cannot be reached or the queue is full.
  virtual void Submit(Work work, Done done) = 0;
  // Submit for work that writes in one tenant only (record changes, audit entries). An engine
  // with concurrent writers (PostgreSQL) commits a tenant's queued work together — one
  // transaction, a savepoint each, one WAL flush — and chains the group's audit entries at its
  // end, under the tenant's write lock (TenantWriteLockKey; Session::KeepEndWork): the groups of
  // the tenant's writers on other nodes run their own statements meanwhile and take turns only
  // for the chain and the commit. SQLite's one writer does all of that already.
  virtual void SubmitForTenant(const std::string& tenant_id, Work work, Done done) {
    (void)tenant_id;
    Submit(std::move(work), std::move(done));
  }
  // Submit and wait. Never call from a thread that Done callbacks need.
  virtual core::Status Run(Work work) = 0;
  // Finishes the queued writes, then refuses new ones (graceful shutdown). Idempotent.
  virtual void Stop() = 0;
  // A session for reads on the calling thread (no transaction: each statement sees the latest
  // committed data).
  virtual core::Result<ReadLease> Reader() = 0;
  // A session for ranked search statements. PostgreSQL's is one whose prepared statements keep
  // one generic plan: a search statement's custom plan took as long to make as to run.
  virtual core::Result<ReadLease> SearchReader() { return Reader(); }
  // One read statement (`?` placeholders; `params` as BindSqlValue takes them), as a Reader's,
  // whose rows `done` gets (valid until it returns). An engine that can wait for its database
  // without holding a thread (PostgreSQL with a reactor attached: see PgPipeline) calls `done`
  // later on a reactor thread; the default runs the read on a Reader and calls `done` at once.
  using ReadDone = std::function<void(core::Result<Statement>)>;
  virtual void ReadAsync(const std::string& sql, const std::vector<boost::json::value>& params,
                         ReadDone done);
  // A ranked search statement, as a SearchReader's, sent without holding a thread: true when the
  // engine took it (then `done` runs later on a reactor thread, as ReadAsync's); false when it
  // cannot (no reactor, SQLite, the database unreachable), and `done` is untouched.
  virtual bool SearchAsync(const std::string& sql, const std::vector<boost::json::value>& params,
                           ReadDone&& done) {
    (void)sql;
    (void)params;
    (void)done;
    return false;
  }
  // The server's event loop, for ReadAsync and SearchAsync; nullptr detaches it (before the loop
  // goes away).
  virtual void AttachReactor(core::Reactor* reactor) { (void)reactor; }
  // How many threads should run the reads that wait on a database server (lists and searches),
  // so that the I/O threads serve other requests meanwhile; 0 when reads are local work (SQLite),
  // which the thread that asks does at once.
  virtual int ReadWorkers() const { return 0; }

  // Appends audit entries inside the write transactions.
  virtual const AuditLog& audit_log() const = 0;
  virtual const core::Clock& clock() const = 0;
  // The built-in object types the tables were laid out for.
  virtual const std::vector<model::ObjectTypePtr>& types() const = 0;

  // Lays out storage for a new custom field (its index), inside the write transaction that
  // records it.
  virtual core::Status PrepareCustomField(Session& session, const model::ObjectType& type,
                                          const model::Field& field) const = 0;

  // The newest applied migration, read through a fresh query (readiness check).
  virtual core::Result<int> AppliedSchemaVersion() = 0;
  virtual int LatestSchemaVersion() const = 0;
};

}  // namespace zebros::storage::sql
