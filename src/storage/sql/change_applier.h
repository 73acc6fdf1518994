#pragma once

#include <optional>
#include <vector>

#include "core/clock.h"
#include "model/principal.h"
#include "storage/audit_diff.h"
#include "storage/record_store.h"
#include "storage/sql/audit_log.h"
#include "storage/sql/search_index.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

// Carries out one atomic set of changes on the writer's connection (inside the writer's
// savepoint): tenant scoping, version checks, presence after merge, uniqueness and references,
// the search index, one audit entry per change and the idempotency record (a replay writes
// nothing, so it is not audited again). Used by one writer pass, then read by `done`.
class ChangeApplier {
 public:
  // `builtin_types` must outlive the applier (the search index follows their references), and
  // so must `audit_log`.
  ChangeApplier(model::Principal principal, std::vector<Change> changes,
                std::optional<Idempotency> idempotency, const core::Clock& clock,
                const std::vector<model::ObjectTypePtr>& builtin_types, const AuditLog& audit_log);

  // Runs every change; the first failure stops and is returned (the writer rolls back).
  core::Status Run(Session& connection);
  // The outcome once the writer reports `commit_status` (which overrides success on failure).
  ApplyOutcome TakeOutcome(core::Status commit_status);

 private:
  struct LoadedRow {
    std::int64_t rowid = 0;
    model::Record record;
    // A PostgreSQL insert with checks (RowChecks) that wrote nothing (a unique index refused
    // it: ON CONFLICT DO NOTHING), or wrote a row one of its checks flags.
    bool refused = false;
    bool flagged = false;
  };
  // A piece of SQL and its parameters, bound in order.
  struct SqlPart {
    std::string sql;
    std::vector<boost::json::value> params;
  };
  // The unique-value and reference checks of an insert as one SQL condition, true when one
  // fails; PostgreSQL evaluates it in the INSERT's RETURNING, so a create needs no round trip
  // of its own for them (see Create). `n` is the new row.
  using RowChecks = SqlPart;

  core::Status ApplyOne(Session& connection, const Change& change);
  core::Status Create(Session& connection, const Change& change, const std::string& id);
  core::Status Update(Session& connection, const Change& change, LoadedRow row,
                      const boost::json::object& patch);
  core::Status SetDeleted(Session& connection, const Change& change, bool deleted);
  core::Status Upsert(Session& connection, const Change& change);

  core::Result<LoadedRow> Load(Session& connection, const model::ObjectType& type,
                               const std::string& id, bool deleted, const Change& change);
  core::Result<LoadedRow> LoadByRowId(Session& connection, const model::ObjectType& type,
                                      std::int64_t rowid);
  // Field errors for unique values held by another live record and dangling references.
  core::Status CheckIntegrity(Session& connection, const Change& change,
                              const boost::json::object& values, std::int64_t own_rowid,
                              const boost::json::object* previous);
  // Inserts (rowid < 0) or updates the row and its search text; returns the row as written.
  core::Result<LoadedRow> WriteRow(Session& connection, const model::ObjectType& type,
                                   const boost::json::object& values, std::int64_t rowid,
                                   const std::string& id, const RowChecks* checks = nullptr);
  // A `SELECT 1` and its parameters: a live row of `type` whose unique `field` holds `value`
  // (table alias `o`, for more conditions), or the live record a reference `value` points to.
  using Probe = SqlPart;
  // Takes the value's turn (TakeValueTurn) first: the probe stays true until the write commits.
  core::Result<Probe> UniqueProbe(Session& connection, const model::ObjectType& type,
                                  const model::Field& field, const boost::json::value& value) const;
  Probe ReferenceProbe(const model::Field& field, const boost::json::value& value) const;
  // A reference value that must point to a live record (an id, not a null or a malformed value).
  static bool IsCheckedReference(const model::Field& field, const boost::json::value& value);
  // Whether the probe finds a row.
  static core::Result<bool> Finds(Session& connection, const Probe& probe);
  // The checks CheckIntegrity makes for a new record with `values`, as RowChecks (taking the turn
  // of each unique value, as UniqueProbe does).
  core::Result<RowChecks> InsertChecks(Session& connection, const model::ObjectType& type,
                                       const boost::json::object& values);
  core::Error LabelledError(const Change& change, core::Error error) const;
  // Waits for the lock of `what` in the principal's tenant (LockKey), held to the end of the
  // transaction: writers on every node that check, then write, one unique value, upsert key or
  // idempotency key take turns, so the check stays true until the write commits. The tenant's
  // write lock (TenantWriteLockKey) is not it: a PostgreSQL write group takes that one last,
  // for its audit entries (Session::KeepEndWork), so lock waits never form a cycle through it.
  core::Status TakeTurn(Session& connection, std::string_view what) const;
  // TakeTurn for one value (as ToSqlValue made it) of `field`.
  core::Status TakeValueTurn(Session& connection, const model::ObjectType& type,
                             std::string_view field, const boost::json::value& sql_value) const;
  // Appends the audit entry of a change to `record` (after the change) in the same transaction.
  core::Status Audit(Session& connection, const char* action, const model::ObjectType& type,
                     const model::Record& record, boost::json::object details);
  PiiDigester Digester() const;

  // The next free storage key in the principal's tenant range (see TenantRowids). SQLite only:
  // PostgreSQL rows take theirs from the table's identity column.
  core::Result<std::int64_t> NextRowid(Session& connection, const model::ObjectType& type);
  core::Result<bool> CheckIdempotency(Session& connection);
  core::Status StoreIdempotency(Session& connection);

  SearchIndex search_;
  model::Principal principal_;
  std::vector<Change> changes_;
  std::optional<Idempotency> idempotency_;
  const core::Clock& clock_;
  const AuditLog& audit_log_;
  core::EpochMillis now_ = 0;
  std::vector<ChangeResult> results_;
  std::optional<StoredResponse> replay_;
};

}  // namespace zebros::storage::sql
