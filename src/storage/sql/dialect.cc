#include "storage/sql/dialect.h"

namespace zebros::storage::sql {

std::string_view NullSafeEqual(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "IS" : "IS NOT DISTINCT FROM";
}

std::string_view NullSafeNotEqual(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "IS NOT" : "IS DISTINCT FROM";
}

std::string CaseInsensitiveEquals(Dialect dialect, std::string_view column) {
  // SQLite can use an index declared COLLATE NOCASE; PostgreSQL one on lower(column).
  if (dialect == Dialect::kSqlite) return std::string(column) + " = ? COLLATE NOCASE";
  return "lower(" + std::string(column) + ") = lower(?)";
}

std::string_view ColumnTypeFor(Dialect dialect, model::FieldType type) {
  const bool sqlite = dialect == Dialect::kSqlite;
  switch (type) {
    case model::FieldType::kInteger:
    case model::FieldType::kMoney:
    case model::FieldType::kBool:
    case model::FieldType::kDateTime:
      return sqlite ? "INTEGER" : "BIGINT";
    case model::FieldType::kNumber:
      return sqlite ? "REAL" : "DOUBLE PRECISION";
    default:
      return "TEXT";
  }
}

std::string QuoteIdentifier(std::string_view identifier) {
  return "\"" + std::string(identifier) + "\"";
}

std::string_view ForUpdate(Dialect dialect) {
  return dialect == Dialect::kSqlite ? "" : " FOR UPDATE";
}

core::Status LockKey(Session& session, std::string_view key) {
  if (session.dialect() == Dialect::kSqlite) return core::OkStatus();
  auto& held = session.memo().held_locks;
  if (held.contains(key)) return core::OkStatus();  // held until the transaction ends
  // Nothing waits for its answer: a writer that keeps writes sends it with the next statement,
  // which the server runs only once the lock is granted.
  auto locked = session.RunOrDefer(
      {"SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", {std::string(key)}});
  if (!locked.ok()) return locked;
  held.emplace(key);
  return core::OkStatus();
}

std::string TenantWriteLockKey(std::string_view tenant_id) {
  return "audit:" + std::string(tenant_id);
}

}  // namespace zebros::storage::sql
