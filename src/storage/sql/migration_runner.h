#pragma once

#include <span>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

// One versioned step of a dialect's schema. Append only: a released migration never changes,
// and a version means the same tables in every dialect.
struct Migration {
  int version;
  const char* sql;
};

// Applies the migrations of `list` newer than the version recorded in schema_migrations (created
// with `create_table_sql` when missing), recording each. REQUIRES: a transaction (and, where
// writers run concurrently, a lock that keeps other processes out) is open on `session`.
core::Status ApplyMigrationList(Session& session, std::span<const Migration> list,
                                std::string_view create_table_sql, const core::Clock& clock);

// The newest applied version, 0 on a database that has none.
core::Result<int> ReadSchemaVersion(Session& session);

}  // namespace zebros::storage::sql
