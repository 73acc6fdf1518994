#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/object_type.h"
#include "storage/sqlite/audit_log.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/writer.h"

namespace zebros::storage::sqlite {

// One SQLite database file: applies migrations and lays out the object tables on Open, owns the
// single Writer, and hands each thread its own read connection. Thread-safe.
class Database {
 public:
  // Opens or creates the file at `path`, applies pending migrations and creates or extends the
  // tables of `types` (built-in object types: new fields become new columns and indexes).
  static core::Result<std::unique_ptr<Database>> Open(
      const std::string& path, const std::vector<model::ObjectTypePtr>& types,
      const core::Clock& clock);
  ~Database();

  Writer& writer() { return *writer_; }
  // Appends audit entries inside the writer's transactions.
  const AuditLog& audit_log() const { return *audit_log_; }
  const core::Clock& clock() const { return clock_; }
  // The built-in object types the tables were laid out for.
  const std::vector<model::ObjectTypePtr>& types() const { return types_; }

  // The calling thread's read connection, opened on first use and owned by this Database.
  core::Result<Connection*> Reader();

  // The newest applied migration, read through a fresh query (readiness check).
  core::Result<int> AppliedSchemaVersion();
  static int LatestSchemaVersion();

 private:
  Database(std::string path, const core::Clock& clock);

  const std::string path_;
  const core::Clock& clock_;
  const std::uint64_t instance_;  // tells this Database's thread-local readers from others'
  std::vector<model::ObjectTypePtr> types_;
  std::unique_ptr<AuditLog> audit_log_;
  std::unique_ptr<Writer> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> readers_;  // guarded by readers_mutex_
};

}  // namespace zebros::storage::sqlite
