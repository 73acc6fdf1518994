#include "storage/sql/migration_runner.h"

namespace zebros::storage::sql {

core::Result<int> ReadSchemaVersion(Session& session) {
  auto stmt = session.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!stmt.ok()) return std::move(stmt).error();
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  return static_cast<int>(stmt->Int(0));
}

core::Status ApplyMigrationList(Session& session, std::span<const Migration> list,
                                std::string_view create_table_sql, const core::Clock& clock) {
  auto status = session.Exec(create_table_sql);
  if (!status.ok()) return status;
  auto applied = ReadSchemaVersion(session);
  if (!applied.ok()) return std::move(applied).error();
  for (const auto& migration : list) {
    if (migration.version <= *applied) continue;
    status = session.Exec(migration.sql);
    if (!status.ok()) return status;
    auto stmt =
        session.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindInt(1, migration.version);
    stmt->BindInt(2, clock.NowMillis());
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
  }
  return core::OkStatus();
}

}  // namespace zebros::storage::sql
