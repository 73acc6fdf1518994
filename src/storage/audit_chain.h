#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "storage/audit_store.h"

namespace zebros::storage {

// The `prev_hash` of a tenant's first entry.
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The exact bytes an entry's hash covers: the compact JSON array
//   ["zebros.audit.v1", prev_hash, tenant_id, at, actor, action, object, record_id, request_id,
//    ip, details]
// with every member a JSON string except `at` (integer milliseconds), and `details` the entry's
// details exactly as stored (its serialised JSON text, embedded as a string, so the hash never
// depends on re-serialising). `seq` is not covered: order is carried by `prev_hash`.
// `entry.details` is ignored in favour of `details_json`.
std::string AuditHashInput(const AuditEntry& entry, std::string_view details_json);
// SHA-256 hex of AuditHashInput.
std::string AuditHash(const AuditEntry& entry, std::string_view details_json);

// A tenant's chain head as recorded beside the log (updated in the same transaction as each
// append), so that removing a tenant's newest entries is detected too.
struct AuditHead {
  std::string tenant_id;
  std::int64_t seq = 0;
  std::string hash;
  std::int64_t entries = 0;
};

// Recomputes chains from stored rows. Feed every entry with Add, tenant by tenant or
// interleaved but in increasing seq within a tenant, then every recorded head with AddHead, then
// read Finish(). Not thread-safe.
class AuditChainChecker {
 public:
  // `entry.prev_hash` and `entry.hash` are the stored ones.
  void Add(const AuditEntry& entry, std::string_view details_json);
  void AddHead(const AuditHead& head);
  // The verdict; when several entries are broken, the one with the lowest seq is named.
  AuditVerification Finish();

 private:
  struct TenantState {
    std::string last_hash{kAuditGenesisHash};
    std::int64_t last_seq = 0;
    std::int64_t entries = 0;
    bool broken = false;  // only the first break of a tenant is reported
    bool has_head = false;
  };
  void Break(const std::string& tenant_id, std::int64_t seq, std::string reason);

  std::map<std::string, TenantState> tenants_;
  AuditVerification result_;
};

}  // namespace zebros::storage
