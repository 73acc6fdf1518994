#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string>

#include "core/result.h"
#include "storage/audit_store.h"
#include "storage/sql/session.h"

namespace zebros::storage::sql {

// Appends to the audit log inside a transaction that is already open on the writer's connection,
// so an entry commits or rolls back with the change it describes. Holds the per-install key for
// digests of personal values. Immutable after Open; thread-safe.
//
// The chain head of each tenant is read from `audit_heads` (one primary-key lookup) rather than
// kept in memory: a memory cache would go stale when a piece's savepoint rolls back and when
// another process (the CLI) appends, and would fork the chain.
class AuditLog {
 public:
  // Loads the key, creating it on first use (safe from two processes at once).
  // REQUIRES: migrations applied; no transaction open on `connection`.
  static core::Result<std::unique_ptr<AuditLog>> Open(Session& connection);

  // Links `entry` to its tenant's chain and inserts it; fills prev_hash and hash, and seq on
  // SQLite (on PostgreSQL the insert may be kept for the next round trip: Session::RunOrDefer).
  // When the session keeps end work (a PostgreSQL write group), a copy of the entry is chained
  // at the end of the transaction instead and `entry` is left as it is.
  // REQUIRES: a write transaction is open on `connection` (the writer's). Empty tenant_id or
  // action is a bug (kInternal).
  core::Status Append(Session& connection, AuditEntry& entry) const;

  // "hmac-sha256:<hex>" of a personal value (see storage/audit_diff.h).
  std::string DigestPii(const boost::json::value& value) const;

 private:
  // Append's work, under the tenant's write lock (TenantWriteLockKey).
  static core::Status Chain(Session& connection, AuditEntry& entry);

  explicit AuditLog(std::string pii_key) : pii_key_(std::move(pii_key)) {}
  const std::string pii_key_;
};

}  // namespace zebros::storage::sql
