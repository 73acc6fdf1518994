#pragma once

#include "core/clock.h"
#include "core/result.h"
#include "model/object_type.h"
#include "storage/sql/session.h"

namespace zebros::storage::postgres {

// The versioned migrations of the system tables in PostgreSQL: the same versions, tables and
// columns as SQLite's (storage/sqlite/migrations.cc), in PostgreSQL types. Applies the missing
// ones in one transaction under a session-level advisory lock, so nodes starting at once take
// turns; the lock is released on success and on failure. Idempotent.
// REQUIRES: a PostgreSQL session with no transaction open.
core::Status ApplyPgMigrations(sql::Session& session, const core::Clock& clock);
int LatestPgMigrationVersion();

// Creates or extends obj_<name> and its indexes (including the GIN index of its search_all
// vector, and its term table fts_<name>) so they match the built-in fields of `type`. Adds, never
// drops (but search_body's GIN index of older layouts, which no search uses). Creates only what is
// missing, so a node starting up takes no table lock when the layout is current. Takes the
// schema lock until the transaction ends (other nodes' layout changes wait).
// REQUIRES: a transaction is open on `session`.
core::Status SyncPgObjectTable(sql::Session& session, const model::ObjectType& type);

// Creates the (non-unique) index on `custom->>'<name>'` an indexed or unique custom field needs;
// nothing for other fields. Idempotent; takes the schema lock like SyncPgObjectTable.
// REQUIRES: a transaction is open on `session`.
core::Status EnsurePgCustomFieldIndex(sql::Session& session, const model::ObjectType& type,
                                      const model::Field& field);

}  // namespace zebros::storage::postgres
