#include "storage/sql/audit_log.h"

#include "core/crypto.h"
#include "core/json.h"
#include "storage/audit_chain.h"
#include "storage/audit_diff.h"
#include "storage/sql/dialect.h"

namespace zebros::storage::sql {
namespace {
constexpr char kPiiKeyName[] = "pii_hmac";
constexpr std::size_t kPiiKeyBytes = 32;

core::Error Internal(std::string detail) {
  return core::MakeError(core::Code::kInternal, "internal", "An internal error occurred.",
                         std::move(detail));
}
}  // namespace

core::Result<std::unique_ptr<AuditLog>> AuditLog::Open(Session& connection) {
  {
    // Of two processes opening a new database, the first one's key wins for both.
    auto insert = connection.Prepare(
        "INSERT INTO audit_keys (name, secret) VALUES (?, ?) ON CONFLICT (name) DO NOTHING");
    if (!insert.ok()) return std::move(insert).error();
    insert->BindText(1, kPiiKeyName);
    insert->BindText(2, core::Base64UrlEncode(core::RandomBytes(kPiiKeyBytes)));
    auto done = insert->Step();
    if (!done.ok()) return std::move(done).error();
  }
  std::string key;
  {
    auto select = connection.Prepare("SELECT secret FROM audit_keys WHERE name = ?");
    if (!select.ok()) return std::move(select).error();
    select->BindText(1, kPiiKeyName);
    auto row = select->Step();
    if (!row.ok()) return std::move(row).error();
    auto decoded = *row ? core::Base64UrlDecode(select->Text(0)) : std::nullopt;
    if (!decoded || decoded->empty()) return Internal("audit key missing or malformed");
    key = std::move(*decoded);
  }
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(key)));
}

core::Status AuditLog::Append(Session& connection, AuditEntry& entry) const {
  if (entry.tenant_id.empty() || entry.action.empty()) {
    return Internal("audit entry without tenant or action");
  }
  if (connection.KeepsEndWork()) {
    connection.AddEndWork([entry](Session& session) mutable { return Chain(session, entry); });
    return core::OkStatus();
  }
  return Chain(connection, entry);
}

core::Status AuditLog::Chain(Session& connection, AuditEntry& entry) {
  // Writers on other nodes append to the same chain: the head is read and moved by one at a time.
  // Holding the lock, the transaction knows the head once it has read or moved it.
  auto locked = LockKey(connection, TenantWriteLockKey(entry.tenant_id));
  if (!locked.ok()) return locked;
  auto& known = connection.memo().audit_head;
  if (!known || known->tenant_id != entry.tenant_id) {
    auto head = connection.Prepare("SELECT hash, entries FROM audit_heads WHERE tenant_id = ?");
    if (!head.ok()) return std::move(head).error();
    head->BindText(1, entry.tenant_id);
    auto row = head->Step();
    if (!row.ok()) return std::move(row).error();
    known = TransactionMemo::AuditHead{
        entry.tenant_id, *row ? std::string(head->Text(0)) : std::string(kAuditGenesisHash),
        *row ? head->Int(1) : 0};
  }
  entry.prev_hash = known->hash;
  const std::int64_t entries = known->entries + 1;
  const std::string details = core::WriteJson(entry.details);
  entry.hash = AuditHash(entry, details);
  constexpr std::string_view kInsertEntry =
      "INSERT INTO audit_log (tenant_id, at, actor, action, object, record_id, request_id, ip,"
      " details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq";
  constexpr std::string_view kMoveHead =
      " ON CONFLICT (tenant_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,"
      " entries = excluded.entries";
  if (connection.dialect() == Dialect::kPostgres) {
    // The entry and the new head in one statement, which may travel with the next one (its
    // sequence number is not needed here): no round trip of its own.
    auto status = connection.RunOrDefer(
        {"WITH entry AS (" + std::string(kInsertEntry) +
             ") INSERT INTO audit_heads (tenant_id, seq, hash, entries)"
             " SELECT ?, seq, ?, ? FROM entry" +
             std::string(kMoveHead),
         {entry.tenant_id, entry.at, entry.actor, entry.action, entry.object, entry.record_id,
          entry.request_id, entry.ip, details, entry.prev_hash, entry.hash, entry.tenant_id,
          entry.hash, entries}});
    if (!status.ok()) return status;
    known->hash = entry.hash;
    known->entries = entries;
    return core::OkStatus();
  }
  // SQLite: the entry, then the head.
  {  // reset (ended) before the next write
    auto insert = connection.Prepare(std::string(kInsertEntry));
    if (!insert.ok()) return std::move(insert).error();
    insert->BindText(1, entry.tenant_id);
    insert->BindInt(2, entry.at);
    insert->BindText(3, entry.actor);
    insert->BindText(4, entry.action);
    insert->BindText(5, entry.object);
    insert->BindText(6, entry.record_id);
    insert->BindText(7, entry.request_id);
    insert->BindText(8, entry.ip);
    insert->BindText(9, details);
    insert->BindText(10, entry.prev_hash);
    insert->BindText(11, entry.hash);
    auto row = insert->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return Internal("audit insert returned no seq");
    entry.seq = insert->Int(0);
  }
  auto upsert = connection.Prepare(
      "INSERT INTO audit_heads (tenant_id, seq, hash, entries) VALUES (?, ?, ?, ?)" +
      std::string(kMoveHead));
  if (!upsert.ok()) return std::move(upsert).error();
  upsert->BindText(1, entry.tenant_id);
  upsert->BindInt(2, entry.seq);
  upsert->BindText(3, entry.hash);
  upsert->BindInt(4, entries);
  auto done = upsert->Step();
  if (!done.ok()) return std::move(done).error();
  known->hash = entry.hash;
  known->entries = entries;
  return core::OkStatus();
}

std::string AuditLog::DigestPii(const boost::json::value& value) const {
  return PiiDigest(pii_key_, value);
}

}  // namespace zebros::storage::sql
