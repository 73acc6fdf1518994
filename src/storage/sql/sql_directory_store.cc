#include "storage/sql/sql_directory_store.h"

#include "core/json.h"
#include "model/field_json.h"
#include "storage/sql/audit_log.h"
#include "storage/sql/dialect.h"
#include "storage/sql/record_codec.h"

namespace zebros::storage::sql {

namespace {
core::Error TenantNotFound() {
  return core::MakeError(core::Code::kNotFound, "not_found", "No tenant has this name.");
}

core::Result<ApiKeyInfo> ReadKey(Statement& stmt) {
  ApiKeyInfo key;
  key.id = std::string(stmt.Text(0));
  key.tenant_id = std::string(stmt.Text(1));
  key.tenant_name = std::string(stmt.Text(2));
  key.name = std::string(stmt.Text(3));
  key.tenant_number = stmt.Int(7);
  if (!model::ParseRole(stmt.Text(4), key.role)) {
    return core::MakeError(core::Code::kInternal, "internal", "An internal error occurred.",
                           "api key with unknown role");
  }
  if (!stmt.IsNull(5)) key.expires_at = stmt.Int(5);
  if (!stmt.IsNull(6)) key.revoked_at = stmt.Int(6);
  key.created_at = stmt.Int(8);
  if (!stmt.IsNull(9)) key.last_used_at = stmt.Int(9);
  return key;
}

// The columns ReadKey reads, from api_keys k joined with tenants t.
constexpr char kKeyColumns[] =
    "SELECT k.id, k.tenant_id, t.name, k.name, k.role, k.expires_at, k.revoked_at, t.number,"
    " k.created_at, k.last_used_at FROM api_keys k JOIN tenants t ON t.id = k.tenant_id ";

core::Error KeyNotFound() {
  return core::MakeError(core::Code::kNotFound, "not_found", "No API key has this id.");
}
}  // namespace

core::Result<TenantInfo> SqlDirectoryStore::CreateTenant(const std::string& name) {
  TenantInfo tenant{ids_.Next("ten"), name, database_.clock().NowMillis(), 0};
  auto status = database_.Run([&tenant](Session& connection) -> core::Status {
    // Tenant numbers are handed out one at a time across nodes.
    auto locked = LockKey(connection, "tenants");
    if (!locked.ok()) return locked;
    auto next = connection.Prepare("SELECT COALESCE(MAX(number), 0) + 1 FROM tenants");
    if (!next.ok()) return std::move(next).error();
    auto row = next->Step();
    if (!row.ok()) return std::move(row).error();
    tenant.number = next->Int(0);
    auto stmt = connection.Prepare(
        "INSERT INTO tenants (id, name, created_at, number) VALUES (?, ?, ?, ?)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, tenant.id);
    stmt->BindText(2, tenant.name);
    stmt->BindInt(3, tenant.created_at);
    stmt->BindInt(4, tenant.number);
    auto done = stmt->Step();
    if (!done.ok()) {
      auto error = std::move(done).error();
      if (error.code == core::Code::kConflict) error.public_message = "The tenant already exists.";
      return error;
    }
    return core::OkStatus();
  });
  if (!status.ok()) return std::move(status).error();
  return tenant;
}

core::Result<TenantInfo> SqlDirectoryStore::FindTenantByName(const std::string& name) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare("SELECT id, name, created_at, number FROM tenants WHERE name = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, name);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return TenantNotFound();
  return TenantInfo{std::string(stmt->Text(0)), std::string(stmt->Text(1)), stmt->Int(2),
                    stmt->Int(3)};
}

core::Result<std::vector<TenantInfo>> SqlDirectoryStore::ListTenants() {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare("SELECT id, name, created_at, number FROM tenants ORDER BY name");
  if (!stmt.ok()) return std::move(stmt).error();
  std::vector<TenantInfo> tenants;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    tenants.push_back(
        {std::string(stmt->Text(0)), std::string(stmt->Text(1)), stmt->Int(2), stmt->Int(3)});
  }
  return tenants;
}

core::Result<ApiKeyInfo> SqlDirectoryStore::CreateApiKey(
    const std::string& tenant_id, const std::string& name, model::Role role,
    const std::string& secret_hash, std::optional<core::EpochMillis> expires_at,
    const model::Principal& actor) {
  ApiKeyInfo key;
  key.id = ids_.Next("key");
  key.tenant_id = tenant_id;
  key.name = name;
  key.role = role;
  key.expires_at = expires_at;
  const core::EpochMillis now = database_.clock().NowMillis();
  auto status = database_.Run([&](Session& connection) -> core::Status {
    auto stmt = connection.Prepare(
        "INSERT INTO api_keys (id, tenant_id, name, role, secret_hash, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, key.id);
    stmt->BindText(2, tenant_id);
    stmt->BindText(3, name);
    stmt->BindText(4, model::RoleName(role));
    stmt->BindText(5, secret_hash);
    stmt->BindInt(6, now);
    if (expires_at) {
      stmt->BindInt(7, *expires_at);
    } else {
      stmt->BindNull(7);
    }
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
    auto entry = EntryFor(actor, audit_action::kApiKeyCreate, "api_keys", key.id,
                          boost::json::object{{"name", name}, {"role", model::RoleName(role)}});
    entry.at = now;
    return database_.audit_log().Append(connection, entry);
  });
  if (!status.ok()) return std::move(status).error();
  key.created_at = now;
  return key;
}

core::Result<ApiKeyInfo> SqlDirectoryStore::FindApiKeyByHash(const std::string& secret_hash) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(std::string(kKeyColumns) + "WHERE k.secret_hash = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, secret_hash);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return core::MakeError(core::Code::kNotFound, "not_found", "Unknown API key.");
  return ReadKey(*stmt);
}

core::Result<std::vector<ApiKeyInfo>> SqlDirectoryStore::ListApiKeys(const std::string& tenant_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(std::string(kKeyColumns) +
                                 "WHERE k.tenant_id = ? ORDER BY k.created_at DESC, k.id DESC");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, tenant_id);
  std::vector<ApiKeyInfo> keys;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    auto key = ReadKey(*stmt);
    if (!key.ok()) return std::move(key).error();
    keys.push_back(std::move(key).value());
  }
  return keys;
}

core::Result<ApiKeyInfo> SqlDirectoryStore::FindApiKey(const std::string& tenant_id,
                                                       const std::string& key_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(std::string(kKeyColumns) + "WHERE k.id = ? AND k.tenant_id = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, key_id);
  stmt->BindText(2, tenant_id);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return KeyNotFound();
  return ReadKey(*stmt);
}

core::Result<ApiKeyInfo> SqlDirectoryStore::RevokeApiKey(const std::string& tenant_id,
                                                         const std::string& key_id,
                                                         const model::Principal& actor) {
  const core::EpochMillis now = database_.clock().NowMillis();
  auto status = database_.Run([&](Session& connection) -> core::Status {
    auto stmt = connection.Prepare(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND tenant_id = ?");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindInt(1, now);
    stmt->BindText(2, key_id);
    stmt->BindText(3, tenant_id);
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
    if (connection.Changes() == 0) return KeyNotFound();
    auto entry = EntryFor(actor, audit_action::kApiKeyRevoke, "api_keys", key_id);
    entry.at = now;
    return database_.audit_log().Append(connection, entry);
  });
  if (!status.ok()) return std::move(status).error();
  return FindApiKey(tenant_id, key_id);
}

void SqlDirectoryStore::TouchApiKey(const std::string& key_id, core::EpochMillis at) {
  database_.Submit(
      [key_id, at](Session& connection) -> core::Status {
        auto stmt = connection.Prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?");
        if (!stmt.ok()) return std::move(stmt).error();
        stmt->BindInt(1, at);
        stmt->BindText(2, key_id);
        auto done = stmt->Step();
        if (!done.ok()) return std::move(done).error();
        return core::OkStatus();
      },
      [](core::Status) {});
}

core::Result<std::vector<CustomField>> SqlDirectoryStore::LoadCustomFields(
    const std::string& tenant_id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare(
      "SELECT object, definition FROM custom_fields WHERE tenant_id = ? ORDER BY created_at, name");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, tenant_id);
  std::vector<CustomField> fields;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    auto field = DecodeCustomField(stmt->Text(1));
    if (!field) continue;
    fields.push_back({std::string(stmt->Text(0)), std::move(*field)});
  }
  return fields;
}

void SqlDirectoryStore::AddCustomField(const model::Principal& principal, const std::string& object,
                                       const model::Field& field,
                                       std::function<void(core::Status)> done) {
  model::ObjectTypePtr type;
  for (const auto& candidate : builtin_types_) {
    if (candidate->name == object) type = candidate;
  }
  if (!type) {
    done(core::MakeError(core::Code::kNotFound, "not_found", "Unknown object type."));
    return;
  }
  const std::string tenant_id = principal.tenant_id;
  const std::string subject = principal.subject;
  const core::EpochMillis now = database_.clock().NowMillis();
  AuditEntry audit;
  audit.tenant_id = tenant_id;
  audit.at = now;
  audit.actor = subject;
  audit.action = audit_action::kSchemaFieldAdd;
  audit.object = object;
  audit.request_id = principal.request_id;
  audit.ip = principal.client_ip;
  audit.details["field"] = model::FieldToJson(field);
  const AuditLog& audit_log = database_.audit_log();
  database_.Submit(
      [=, this, &audit_log](Session& connection) mutable -> core::Status {
        auto stmt = connection.Prepare(
            "INSERT INTO custom_fields (tenant_id, object, name, definition, created_at,"
            " created_by) VALUES (?, ?, ?, ?, ?, ?)");
        if (!stmt.ok()) return std::move(stmt).error();
        stmt->BindText(1, tenant_id);
        stmt->BindText(2, object);
        stmt->BindText(3, field.name);
        stmt->BindText(4, core::WriteJson(model::FieldToJson(field)));
        stmt->BindInt(5, now);
        stmt->BindText(6, subject);
        auto inserted = stmt->Step();
        if (!inserted.ok()) {
          auto error = std::move(inserted).error();
          if (error.code == core::Code::kConflict) {
            error.public_message = "The object already has a field named '" + field.name + "'.";
          }
          return error;
        }
        auto indexed = database_.PrepareCustomField(connection, *type, field);
        if (!indexed.ok()) return indexed;
        return audit_log.Append(connection, audit);
      },
      std::move(done));
}

}  // namespace zebros::storage::sql
