#include "storage/postgres/pg_database.h"

#include <algorithm>
#include <future>
#include <utility>

#include "core/log.h"
#include "storage/postgres/pg_migrations.h"
#include "storage/sql/dialect.h"
#include "storage/sql/migration_runner.h"
#include "storage/sql/record_codec.h"

namespace zebros::storage::postgres {
namespace {

core::Status LayOutTables(PgConnection& connection,
                          const std::vector<model::ObjectTypePtr>& types) {
  auto status = connection.Exec("BEGIN");
  if (!status.ok()) return status;
  for (const auto& type : types) {
    status = SyncPgObjectTable(connection, *type);
    if (!status.ok()) break;
  }
  if (status.ok()) return connection.Exec("COMMIT");
  (void)connection.Exec("ROLLBACK");
  return status;
}

// `sql` with `params` bound, for a pipeline.
std::unique_ptr<PgRead> BoundRead(const std::string& sql,
                                  const std::vector<boost::json::value>& params) {
  auto read = std::make_unique<PgRead>(sql, static_cast<int>(params.size()));
  for (std::size_t i = 0; i < params.size(); ++i) {
    sql::BindSqlValueTo(*read, static_cast<int>(i) + 1, params[i]);
  }
  return read;
}

// The settings of the connections that run ranked searches (PgOptions::search_plans).
PgOptions SearchOptions(PgOptions options) {
  options.search_plans = true;
  return options;
}

}  // namespace

PgDatabase::PgDatabase(const core::Clock& clock, const PgDatabaseOptions& options)
    : clock_(clock), options_(options) {}

PgDatabase::~PgDatabase() { Stop(); }

core::Result<std::unique_ptr<PgDatabase>> PgDatabase::Open(
    const std::string& url, const std::vector<model::ObjectTypePtr>& types,
    const core::Clock& clock, const PgDatabaseOptions& options) {
  std::unique_ptr<PgDatabase> database(new PgDatabase(clock, options));
  database->types_ = types;
  database->pool_ = std::make_unique<PgPool>(url, options.connection, options.pool_size);
  database->url_ = url;
  database->search_pool_ =
      std::make_unique<PgPool>(url, SearchOptions(options.connection), options.search_pool_size);
  // One attempt per pipeline at a time (see PgPipeline::Ready), after AttachReactor has
  // replaced them perhaps the old ones' too: room for twice as many.
  const auto pipelines = static_cast<std::size_t>(1 + std::max(options.search_pool_size, 1));
  database->connector_ = std::make_unique<core::WorkPool>(pipelines, 2 * pipelines);
  {
    auto lease = database->pool_->Acquire(options.acquire_wait);
    if (!lease.ok()) return std::move(lease).error();
    auto status = ApplyPgMigrations(**lease, clock);
    if (!status.ok()) return std::move(status).error();
    status = LayOutTables(**lease, types);
    if (!status.ok()) return std::move(status).error();
    auto audit_log = sql::AuditLog::Open(**lease);
    if (!audit_log.ok()) return std::move(audit_log).error();
    database->audit_log_ = std::move(audit_log).value();
  }
  const int workers = options.workers < 1 ? 1 : options.workers;
  PgDatabase* raw = database.get();
  for (int i = 0; i < workers; ++i) database->workers_.emplace_back([raw] { raw->Loop(); });
  return database;
}

void PgDatabase::Submit(Work work, Done done) { Enqueue({std::move(work), std::move(done), {}}); }

void PgDatabase::SubmitForTenant(const std::string& tenant_id, Work work, Done done) {
  Enqueue({std::move(work), std::move(done), tenant_id});
}

void PgDatabase::Enqueue(Item item) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < kMaxQueued) {
      queue_.push_back(std::move(item));
      wake_.notify_one();
      return;
    }
  }
  item.done(core::MakeError(core::Code::kUnavailable, "unavailable",
                            "The server is busy or shutting down; retry shortly.",
                            "postgres write queue full or stopped"));
}

core::Status PgDatabase::Run(Work work) {
  std::promise<core::Status> promise;
  auto future = promise.get_future();
  Submit(std::move(work),
         [&promise](core::Status status) { promise.set_value(std::move(status)); });
  return future.get();
}

core::Result<sql::ReadLease> PgDatabase::Reader() { return Lend(*pool_); }

core::Result<sql::ReadLease> PgDatabase::SearchReader() { return Lend(*search_pool_); }

// As many as the search pool's connections: a slow search holds a worker, not an I/O thread.
int PgDatabase::ReadWorkers() const { return options_.search_pool_size; }

core::Result<sql::ReadLease> PgDatabase::Lend(PgPool& pool) {
  auto lease = pool.Acquire(options_.acquire_wait);
  if (!lease.ok()) return std::move(lease).error();
  // The pool lease lives as long as the ReadLease's release function; releasing drops it, which
  // gives the connection back.
  auto held = std::make_shared<PgPool::Lease>(std::move(lease).value());
  sql::Session* session = held->get();
  return sql::ReadLease(session, [held](sql::Session*) mutable { held.reset(); });
}

void PgDatabase::ReadAsync(const std::string& sql, const std::vector<boost::json::value>& params,
                           ReadDone done) {
  std::shared_ptr<PgPipeline> pipeline;
  {
    std::lock_guard lock(pipeline_mutex_);
    pipeline = pipeline_;
  }
  // Without a reactor, on this thread. With one, through the pipeline even while it connects
  // (the read waits for the connection): a read on a pooled connection would hold this thread
  // — an I/O thread — for as long as connecting takes, up to the connect timeout.
  if (pipeline == nullptr) return Engine::ReadAsync(sql, params, std::move(done));
  pipeline->Send(BoundRead(sql, params), std::move(done));
}

bool PgDatabase::SearchAsync(const std::string& sql, const std::vector<boost::json::value>& params,
                             ReadDone&& done) {
  std::shared_ptr<PgSearchPipelines> searches;
  {
    std::lock_guard lock(pipeline_mutex_);
    searches = searches_;
  }
  // Not connected: the caller reads on a SearchReader, which reports an outage as it always has.
  if (searches == nullptr || !searches->Ready()) return false;
  searches->Send(BoundRead(sql, params), std::move(done));
  return true;
}

void PgDatabase::AttachReactor(core::Reactor* reactor) {
  std::shared_ptr<PgPipeline> pipeline;
  std::shared_ptr<PgSearchPipelines> searches;
  {
    std::lock_guard lock(pipeline_mutex_);
    pipeline = std::exchange(pipeline_, nullptr);
    searches = std::exchange(searches_, nullptr);
    if (reactor != nullptr) {
      pipeline_ = PgPipeline::Create(url_, options_.connection, *reactor, *connector_);
      searches_ = PgSearchPipelines::Create(url_, SearchOptions(options_.connection), *reactor,
                                            *connector_, options_.search_pool_size);
    }
  }
  if (pipeline != nullptr) pipeline->Close();
  if (searches != nullptr) searches->Close();
}

core::Result<int> PgDatabase::AppliedSchemaVersion() {
  auto reader = Reader();
  if (!reader.ok()) return std::move(reader).error();
  return sql::ReadSchemaVersion(**reader);
}

int PgDatabase::LatestSchemaVersion() const { return LatestPgMigrationVersion(); }

void PgDatabase::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  std::lock_guard join_lock(join_mutex_);
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void PgDatabase::Loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    // The oldest work whose tenant has no group in flight here: one group per tenant at a time,
    // so what queues meanwhile waits for the next group instead of for the tenant's lock.
    auto next = queue_.end();
    wake_.wait(lock, [this, &next] {
      next = std::find_if(queue_.begin(), queue_.end(), [this](const Item& item) {
        return item.tenant_id.empty() || !busy_tenants_.contains(item.tenant_id);
      });
      return next != queue_.end() || (stopping_ && queue_.empty());
    });
    if (next == queue_.end()) return;  // stopping and drained
    std::vector<Item> group;
    const std::string tenant_id = next->tenant_id;  // a copy: the group grows
    for (auto it = next; it != queue_.end() && group.size() < kMaxGroup;) {
      if (it == next || (!tenant_id.empty() && it->tenant_id == tenant_id)) {
        group.push_back(std::move(*it));
        it = queue_.erase(it);
        if (tenant_id.empty()) break;
      } else {
        ++it;
      }
    }
    if (!tenant_id.empty()) busy_tenants_.insert(tenant_id);
    lock.unlock();
    auto results = RunGroup(group);
    lock.lock();
    if (!tenant_id.empty()) {
      busy_tenants_.erase(tenant_id);
      wake_.notify_all();  // that tenant's queued work may go now, while this thread answers
    }
    lock.unlock();
    for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
    lock.lock();
  }
}

core::Status PgDatabase::RunWork(PgConnection& connection, Work& work) {
  core::Status status = core::OkStatus();
  try {
    status = work(connection);
  } catch (const std::exception& e) {
    status = core::MakeError(core::Code::kInternal, "internal", "An internal error occurred.",
                             std::string("write work threw: ") + e.what());
  }
  if (status.ok() && connection.InFailedTransaction()) {
    // COMMIT of a failed transaction "succeeds" as a ROLLBACK: never report that as a commit.
    core::Log(core::LogLevel::kError, "write work ignored a failed statement");
    return core::MakeError(core::Code::kUnavailable, "database_error",
                           "The database could not complete the request.",
                           "write work returned success inside a failed transaction");
  }
  return status;
}

std::vector<core::Status> PgDatabase::RunGroup(std::vector<Item>& group) {
  std::vector<core::Status> outcomes;
  core::Status commit = core::OkStatus();
  {
    auto lease = pool_->Acquire(options_.acquire_wait);
    if (!lease.ok()) return std::vector<core::Status>(group.size(), lease.error());
    PgConnection& connection = **lease;
    // Statements whose answer nobody waits for (BEGIN, savepoints, audit entries) travel with
    // the next one that has an answer (Session::RunOrDefer).
    connection.DeferWrites(true);
    // The tenant's write lock is taken by the audit entries, kept to the end of the group: the
    // pieces' own writes run while another node's group holds it through its commit.
    connection.KeepEndWork(!group.front().tenant_id.empty());
    commit = connection.RunOrDefer({"BEGIN", {}});
    const bool savepoints = group.size() > 1;
    for (std::size_t i = 0; i < group.size() && commit.ok(); ++i) {
      if (savepoints) {
        // The previous piece's savepoint is released as this one's is set (COMMIT releases the
        // last).
        if (i > 0) (void)connection.RunOrDefer({"RELEASE SAVEPOINT piece", {}});
        (void)connection.RunOrDefer({"SAVEPOINT piece", {}});
      }
      const std::size_t kept = connection.DeferredCount();
      const std::size_t kept_for_end = connection.EndWorkCount();
      core::Status status = RunWork(connection, group[i].work);
      if (connection.DeferredWriteFailed()) {  // see below
        if (!status.ok()) commit = std::move(status);
        break;
      }
      if (savepoints) {
        // A failed piece rolls back alone; the others still commit.
        if (!status.ok()) {
          connection.DropDeferredFrom(kept);
          connection.DropEndWorkFrom(kept_for_end);
          commit = connection.Exec("ROLLBACK TO SAVEPOINT piece");
        }
      } else if (!status.ok()) {
        commit = status;  // nothing else to keep: roll the transaction back
      }
      outcomes.push_back(std::move(status));
    }
    // A kept write of one piece fails at a statement of a later one: no telling which piece to
    // undo, so none commits, and those that did not fail on their own get the same error (not
    // the failed write's own code, which would be wrong for the others).
    // An unavailable database (the connection lost, say) is true for every piece, and so is a
    // write conflict (a deadlock with another node's group: the transaction is lost, retry it):
    // kept as they are.
    const auto kept_write_failed = [&connection](const core::Status& status) -> core::Status {
      if (!connection.DeferredWriteFailed()) return status;
      if (!status.ok() && (status.error().code == core::Code::kUnavailable ||
                           status.error().problem_code == "write_conflict")) {
        return status;
      }
      return core::MakeError(core::Code::kUnavailable, "database_error",
                             "The database could not complete the request.",
                             "a kept write failed: " + (status.ok() ? std::string("(no detail)")
                                                                    : status.error().detail));
    };
    if (commit.ok()) commit = connection.RunEndWork();
    commit = kept_write_failed(commit);
    if (commit.ok()) {
      commit = kept_write_failed(connection.Exec("COMMIT"));
    } else {
      // If the ROLLBACK fails too, the pool closes the connection rather than reuse it.
      connection.DeferWrites(false);  // what is kept has not reached the server
      (void)connection.Exec("ROLLBACK");
    }
    connection.DeferWrites(false);
    connection.KeepEndWork(false);
  }
  std::vector<core::Status> results;
  results.reserve(group.size());
  for (std::size_t i = 0; i < group.size(); ++i) {
    // A piece's own failure, whatever became of the rest; otherwise the commit's outcome.
    results.push_back(i < outcomes.size() && !outcomes[i].ok() ? std::move(outcomes[i]) : commit);
  }
  return results;
}

core::Status PgDatabase::PrepareCustomField(sql::Session& session, const model::ObjectType& type,
                                            const model::Field& field) const {
  return EnsurePgCustomFieldIndex(session, type, field);
}

}  // namespace zebros::storage::postgres
