#pragma once

#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/object_type.h"
#include "storage/sqlite/connection.h"

namespace zebros::storage::sqlite {

// The versioned migrations of the system tables (tenants, keys, custom fields, idempotency).
// Applies the missing ones in one transaction; safe to run from two processes at once.
core::Status ApplyMigrations(Connection& connection, const core::Clock& clock);
int LatestMigrationVersion();

// Creates or extends obj_<name>, its indexes and its fts_<name> search index so they match the
// built-in fields of `type`. Idempotent; adds, never drops (old columns stay readable) — except
// a search index of an older layout (without the `pii` column), which is dropped and created
// anew. Returns true in that case: the caller must then fill it (SearchIndex::Rebuild) in the
// same transaction.
core::Result<bool> SyncObjectTable(Connection& connection, const model::ObjectType& type);

// Creates the index a custom field needs (indexed or unique ones). Idempotent.
core::Status EnsureCustomFieldIndex(Connection& connection, const model::ObjectType& type,
                                    const model::Field& field);

}  // namespace zebros::storage::sqlite
