#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/principal.h"

namespace zebros::storage {

// Stable action names of audit entries. Clients filter on them; never rename one.
namespace audit_action {
inline constexpr char kRecordCreate[] = "record.create";
inline constexpr char kRecordUpdate[] = "record.update";
inline constexpr char kRecordDelete[] = "record.delete";
inline constexpr char kRecordRestore[] = "record.restore";
inline constexpr char kLoginSuccess[] = "login.success";
inline constexpr char kLoginFailure[] = "login.failure";
inline constexpr char kPermissionDenied[] = "permission.denied";
inline constexpr char kUserRoleChange[] = "user.role_change";
inline constexpr char kUserCreate[] = "user.create";
inline constexpr char kUserDeactivate[] = "user.deactivate";
inline constexpr char kApiKeyCreate[] = "api_key.create";
inline constexpr char kApiKeyRevoke[] = "api_key.revoke";
inline constexpr char kSchemaFieldAdd[] = "schema.field_add";
}  // namespace audit_action

// One entry of a tenant's audit log. Entries of a tenant form a hash chain: `hash` covers the
// entry's content and `prev_hash` (the previous entry's hash; 64 zeros for the first).
struct AuditEntry {
  std::int64_t seq = 0;  // assigned by the store; increases with every entry of any tenant
  std::string tenant_id;
  core::EpochMillis at = 0;
  std::string actor;   // the principal's subject ("key:<id>", a user's sub); "system" for the CLI
  std::string action;  // one of audit_action
  std::string object;  // object type name ("contacts"), or what the action is about ("api_key")
  std::string record_id;
  std::string request_id;
  std::string ip;
  // What changed, never personal data in clear: values of `pii` fields appear as
  // "hmac-sha256:<hex>" (keyed with a per-install secret, so equal values still match).
  boost::json::object details;
  std::string prev_hash;  // set by the store
  std::string hash;       // set by the store
};

// An entry of `actor`'s action, stamped with the actor's tenant, subject, request id and IP;
// `at` = 0 lets the store stamp the time.
inline AuditEntry EntryFor(const model::Principal& actor, std::string action, std::string object,
                           std::string record_id, boost::json::object details = {}) {
  AuditEntry entry;
  entry.tenant_id = actor.tenant_id;
  entry.actor = actor.subject;
  entry.action = std::move(action);
  entry.object = std::move(object);
  entry.record_id = std::move(record_id);
  entry.request_id = actor.request_id;
  entry.ip = actor.client_ip;
  entry.details = std::move(details);
  return entry;
}

// The actor of changes made by the operator's CLI and at first start: "system" in the tenant.
inline model::Principal SystemActor(const std::string& tenant_id) {
  model::Principal actor;
  actor.tenant_id = tenant_id;
  actor.subject = "system";
  actor.role = model::Role::kAdmin;
  return actor;
}

// Filters of a List; empty strings and unset times match everything.
struct AuditQuery {
  std::string object;
  std::string record_id;
  std::string actor;
  std::string action;
  std::optional<core::EpochMillis> since;  // at >= since
  std::optional<core::EpochMillis> until;  // at < until
  std::string cursor;                      // next_cursor of the previous page
  int limit = 50;                          // REQUIRES: 1..1000
};

struct AuditPage {
  std::vector<AuditEntry> entries;  // newest first
  std::string next_cursor;          // empty on the last page
};

// Outcome of checking every tenant's chain.
struct AuditVerification {
  std::int64_t entries = 0;  // entries checked
  bool ok = true;
  // When !ok: the first broken entry (lowest seq of the tenant found broken first) and why.
  std::string tenant_id;
  std::int64_t seq = 0;
  std::string reason;
};

// The tamper-evident audit log. Thread-safe. Record changes are audited by the RecordStore in the
// same transaction as the change (callers do nothing); Append is for events without a record
// change: logins, permission denials, role changes, API keys.
class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends `entry` to its tenant's chain. Empty `tenant_id`, `actor`, `request_id` and `ip` are
  // taken from `principal` (tenant_id, subject, request_id, client_ip); `at` = 0 means now; `seq`
  // and the hashes are ignored. For a failed login, pass a principal holding only the tenant and
  // put the attempted user name in `details`, never the password. `done` runs once on a storage
  // thread after the entry is durable, or with kUnavailable (queue full) / kInternal.
  virtual void Append(const model::Principal& principal, AuditEntry entry,
                      std::function<void(core::Status)> done) = 0;

  // Entries of `tenant_id` only, newest first. kBadRequest (`invalid_cursor`) for a cursor this
  // store did not issue.
  virtual core::Result<AuditPage> List(const std::string& tenant_id, const AuditQuery& query) = 0;

  // Recomputes every tenant's chain. A mismatch is a value (ok = false), not an error; errors are
  // for an unreadable database.
  virtual core::Result<AuditVerification> Verify() = 0;
};

}  // namespace zebros::storage
