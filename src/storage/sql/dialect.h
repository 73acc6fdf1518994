#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "model/field.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

// The few places where SQLite's and PostgreSQL's SQL differ for the stores of storage/sql.
// Everything else is written once in the SQL both accept (`INSERT … ON CONFLICT`, `RETURNING`).

// Equality that holds for two NULLs: SQLite's `IS`, PostgreSQL's `IS NOT DISTINCT FROM`.
std::string_view NullSafeEqual(Dialect dialect);
std::string_view NullSafeNotEqual(Dialect dialect);

// `column` equals the next parameter, ignoring case (ASCII).
std::string CaseInsensitiveEquals(Dialect dialect, std::string_view column);

// The column type a field of `type` is stored in: 64-bit integers (integers, money in minor
// units, booleans, date-times in epoch ms), doubles, or text (everything else, tags as JSON).
std::string_view ColumnTypeFor(Dialect dialect, model::FieldType type);

// `identifier` in double quotes. REQUIRES: a validated name (letters, digits, underscores).
std::string QuoteIdentifier(std::string_view identifier);

// Appended to a SELECT inside a write transaction to lock the rows it reads: ` FOR UPDATE` in
// PostgreSQL, where writers run concurrently; nothing in SQLite, whose one writer already runs
// them one at a time.
std::string_view ForUpdate(Dialect dialect);

// Holds, until the write transaction ends, a lock named by `key`, so writers on every node that
// check-then-write the same thing (a custom unique value, an idempotency key, a tenant's audit
// chain head) take turns. A no-op in SQLite (one writer).
core::Status LockKey(Session& session, std::string_view key);

// The LockKey a tenant's writes take turns on: its audit chain head moves with every write.
std::string TenantWriteLockKey(std::string_view tenant_id);

}  // namespace zebros::storage::sql
