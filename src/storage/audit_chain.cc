#include "storage/audit_chain.h"

#include "core/crypto.h"
#include "core/json.h"

namespace zebros::storage {

std::string AuditHashInput(const AuditEntry& entry, std::string_view details_json) {
  std::string out = "[\"zebros.audit.v1\",";
  core::AppendJsonString(out, entry.prev_hash);
  out += ',';
  core::AppendJsonString(out, entry.tenant_id);
  out += ',';
  out += std::to_string(entry.at);
  for (const std::string* text : {&entry.actor, &entry.action, &entry.object, &entry.record_id,
                                  &entry.request_id, &entry.ip}) {
    out += ',';
    core::AppendJsonString(out, *text);
  }
  out += ',';
  core::AppendJsonString(out, details_json);
  out += ']';
  return out;
}

std::string AuditHash(const AuditEntry& entry, std::string_view details_json) {
  return core::Sha256Hex(AuditHashInput(entry, details_json));
}

void AuditChainChecker::Break(const std::string& tenant_id, std::int64_t seq, std::string reason) {
  TenantState& state = tenants_[tenant_id];
  if (state.broken) return;
  state.broken = true;
  if (result_.ok || seq < result_.seq) {
    result_.ok = false;
    result_.tenant_id = tenant_id;
    result_.seq = seq;
    result_.reason = std::move(reason);
  }
}

void AuditChainChecker::Add(const AuditEntry& entry, std::string_view details_json) {
  ++result_.entries;
  TenantState& state = tenants_[entry.tenant_id];
  // A mismatch of prev_hash means the entry before it was removed, replaced or reordered; a
  // mismatch of hash means the entry itself was changed.
  if (entry.prev_hash != state.last_hash) {
    Break(entry.tenant_id, entry.seq, "prev_hash does not match the previous entry's hash");
  } else if (AuditHash(entry, details_json) != entry.hash) {
    Break(entry.tenant_id, entry.seq, "content does not match its hash");
  }
  // Continue from the stored hash, so one changed entry is reported once, not for every later one.
  state.last_hash = entry.hash;
  state.last_seq = entry.seq;
  ++state.entries;
}

void AuditChainChecker::AddHead(const AuditHead& head) {
  TenantState& state = tenants_[head.tenant_id];
  state.has_head = true;
  if (head.seq == state.last_seq && head.hash == state.last_hash && head.entries == state.entries) {
    return;
  }
  if (head.seq > state.last_seq) {
    Break(head.tenant_id, head.seq, "the tenant's newest entries are missing");
  } else {
    Break(head.tenant_id, state.last_seq, "the entry does not match the recorded chain head");
  }
}

AuditVerification AuditChainChecker::Finish() {
  for (const auto& [tenant_id, state] : tenants_) {
    if (!state.has_head && state.entries > 0) {
      Break(tenant_id, state.last_seq, "the tenant has no recorded chain head");
    }
  }
  return result_;
}

}  // namespace zebros::storage
