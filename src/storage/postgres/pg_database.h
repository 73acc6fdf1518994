#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/work_pool.h"
#include "model/object_type.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_pipeline.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/pg_search_pipelines.h"
#include "storage/sql/audit_log.h"
#include "storage/sql/engine.h"

namespace zebros::storage::postgres {

// How a PgDatabase uses the server. Plain data.
struct PgDatabaseOptions {
  // Connections at most, shared by the writers and the readers; ranked searches have a pool of
  // their own besides (see SearchReader).
  int pool_size = 16;
  // Connections of the ranked searches' pool, threads that run lists (and searches when no
  // reactor is attached), and search pipelines (PgSearchPipelines). A ranked search is CPU work
  // in PostgreSQL: more at once than its cores only share them, and the one that takes long
  // holds the others up longer. On 2 cores, 2 against 4 in two full bench/pg.sh
  // runs: fresh search p99 52 → 40.5 ms at the same throughput (docs/performance.md). About the
  // database server's cores. REQUIRES: >= 1.
  int search_pool_size = 2;
  // Threads running write transactions; each holds a connection while it runs one.
  int workers = 8;
  // How long a write or a reader waits for a free connection before kUnavailable.
  std::chrono::milliseconds acquire_wait{5000};
  PgOptions connection;
};

// A PostgreSQL database as an Engine: a bounded connection pool, `workers` threads that run
// submitted work each in its own transaction (concurrently, unlike SQLite's single writer: the
// stores lock what they check-then-write, see sql/dialect.h), and pooled connections lent out as
// readers. Thread-safe. Readers must be given back before the PgDatabase is destroyed.
class PgDatabase final : public sql::Engine {
 public:
  // Connects to `url`, applies pending migrations, lays out the tables of `types` and loads the
  // audit key — safe from several nodes at once (advisory locks). kUnavailable
  // "database_unavailable" when the server cannot be reached.
  static core::Result<std::unique_ptr<PgDatabase>> Open(
      const std::string& url, const std::vector<model::ObjectTypePtr>& types,
      const core::Clock& clock, const PgDatabaseOptions& options);
  ~PgDatabase() override;  // Stop()s
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  // Queues `work`; a worker leases a connection and runs BEGIN, work, COMMIT (ROLLBACK when work
  // fails or throws), gives the connection back, then calls `done`. A full queue (20000) or a
  // stopped database: `done` gets kUnavailable at once; no connection within acquire_wait:
  // kUnavailable "database_unavailable". A failed COMMIT's error is passed on as it is.
  void Submit(Work work, Done done) override;
  // A worker takes the oldest queued work of a tenant with no group in flight on this node, and
  // every other queued work of that tenant (up to kMaxGroup), into one transaction, each in its
  // own savepoint: a tenant's writes share one commit (one WAL flush) — what queues while a
  // group commits forms the next group. The pieces' audit entries are kept to the end and
  // chained there under the tenant's write lock (Session::KeepEndWork), held through the commit:
  // other nodes' groups of the tenant write their records meanwhile. Different tenants' groups
  // run in parallel. One piece failing rolls back alone.
  void SubmitForTenant(const std::string& tenant_id, Work work, Done done) override;
  core::Status Run(Work work) override;
  // A pooled connection in autocommit mode; kUnavailable "database_unavailable" when none.
  core::Result<sql::ReadLease> Reader() override;
  // From a pool of its own (search_pool_size connections) whose connections keep generic
  // plans: a ranked search's custom plan cost 0.6–0.9 ms to make, as much as running it, and the
  // generic one runs as fast (docs/performance.md).
  core::Result<sql::ReadLease> SearchReader() override;
  int ReadWorkers() const override;
  // Through the read pipeline while a reactor is attached and it is connected; otherwise on a
  // Reader.
  void ReadAsync(const std::string& sql, const std::vector<boost::json::value>& params,
                 ReadDone done) override;
  // Through the search pipelines (PgSearchPipelines: search_pool_size of them, with the search
  // pool's settings), while a reactor is attached and they are connected.
  bool SearchAsync(const std::string& sql, const std::vector<boost::json::value>& params,
                   ReadDone&& done) override;
  // Starts (or, with nullptr, closes) the read and search pipelines on `reactor`.
  void AttachReactor(core::Reactor* reactor) override;

  const sql::AuditLog& audit_log() const override { return *audit_log_; }
  const core::Clock& clock() const override { return clock_; }
  const std::vector<model::ObjectTypePtr>& types() const override { return types_; }

  core::Result<int> AppliedSchemaVersion() override;
  int LatestSchemaVersion() const override;

  // Finishes everything queued, then joins the workers. Idempotent.
  void Stop() override;
  core::Status PrepareCustomField(sql::Session& session, const model::ObjectType& type,
                                  const model::Field& field) const override;

  PgPool& pool() { return *pool_; }

 private:
  struct Item {
    Work work;
    Done done;
    std::string tenant_id;  // empty: runs alone
  };
  static constexpr std::size_t kMaxQueued = 20000;
  static constexpr std::size_t kMaxGroup = 64;

  PgDatabase(const core::Clock& clock, const PgDatabaseOptions& options);
  void Loop();
  void Enqueue(Item item);
  // One transaction for the group: BEGIN, the tenant's lock, each work (in a savepoint when there
  // are several), COMMIT. Returns each item's outcome, for its done: Loop calls them after the
  // connection went back to the pool and the tenant's next group was let go.
  std::vector<core::Status> RunGroup(std::vector<Item>& group);
  // A work's outcome inside the open transaction: its error, or an error when it returned
  // success but left the transaction failed.
  static core::Status RunWork(PgConnection& connection, Work& work);
  // A connection of `pool` lent as a read session.
  core::Result<sql::ReadLease> Lend(PgPool& pool);

  const core::Clock& clock_;
  const PgDatabaseOptions options_;
  std::vector<model::ObjectTypePtr> types_;
  std::unique_ptr<PgPool> pool_;
  std::unique_ptr<PgPool> search_pool_;
  std::string url_;
  // Connects the pipelines (PgPipeline::Ready), one thread each, so that a database that hangs
  // holds up only their own attempts. Declared before them: it outlives them.
  std::unique_ptr<core::WorkPool> connector_;
  std::mutex pipeline_mutex_;
  std::shared_ptr<PgPipeline> pipeline_;         // guarded by pipeline_mutex_
  std::shared_ptr<PgSearchPipelines> searches_;  // guarded by pipeline_mutex_
  std::unique_ptr<sql::AuditLog> audit_log_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;                        // guarded by mutex_
  std::unordered_set<std::string> busy_tenants_;  // with a group in flight; guarded by mutex_
  bool stopping_ = false;                         // guarded by mutex_
  std::mutex join_mutex_;                         // one Stop() joins at a time
  std::vector<std::thread> workers_;
};

}  // namespace zebros::storage::postgres
