#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/object_type.h"
#include "storage/sql/audit_log.h"
#include "storage/sql/engine.h"
#include "storage/sqlite/checkpointer.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/writer.h"

namespace zebros::storage::sqlite {

// One SQLite database file: applies migrations and lays out the object tables on Open, owns the
// single Writer, and hands each thread its own read connection. Thread-safe.
class Database final : public sql::Engine {
 public:
  // Opens or creates the file at `path`, applies pending migrations and creates or extends the
  // tables of `types` (built-in object types: new fields become new columns and indexes). With
  // `upkeep_after` (a server), the writer merges the search indexes once idle that long; short
  // runs (the CLI, a transfer's source) leave the file as it is.
  static core::Result<std::unique_ptr<Database>> Open(
      const std::string& path, const std::vector<model::ObjectTypePtr>& types,
      const core::Clock& clock,
      std::optional<std::chrono::milliseconds> upkeep_after = std::nullopt);
  ~Database() override;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
  // Writes go through the single Writer (group commit, a savepoint per piece of work).
  void Submit(Work work, Done done) override { writer_->Submit(std::move(work), std::move(done)); }
  core::Status Run(Work work) override { return writer_->Run(std::move(work)); }
  void Stop() override { writer_->Stop(); }
  // The calling thread's read connection, opened on first use and owned by this Database.
  core::Result<sql::ReadLease> Reader() override;

  const sql::AuditLog& audit_log() const override { return *audit_log_; }
  const core::Clock& clock() const override { return clock_; }
  const std::vector<model::ObjectTypePtr>& types() const override { return types_; }

  core::Status PrepareCustomField(sql::Session& session, const model::ObjectType& type,
                                  const model::Field& field) const override;
  core::Result<int> AppliedSchemaVersion() override;
  int LatestSchemaVersion() const override;

 private:
  Database(std::string path, const core::Clock& clock);
  core::Result<Connection*> ReaderConnection();

  const std::string path_;
  const core::Clock& clock_;
  const std::uint64_t instance_;  // tells this Database's thread-local readers from others'
  std::vector<model::ObjectTypePtr> types_;
  std::unique_ptr<sql::AuditLog> audit_log_;
  std::unique_ptr<Checkpointer> checkpointer_;  // declared first: outlives the writer's commits
  std::unique_ptr<Writer> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> readers_;  // guarded by readers_mutex_
};

}  // namespace zebros::storage::sqlite
