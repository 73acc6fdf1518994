#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/field.h"
#include "model/principal.h"

namespace zebros::storage {

struct TenantInfo {
  std::string id;
  std::string name;
  core::EpochMillis created_at = 0;
  std::int64_t number = 0;  // 1, 2, … in order of creation
};

struct ApiKeyInfo {
  std::string id;
  std::string tenant_id;
  std::string tenant_name;
  std::int64_t tenant_number = 0;
  std::string name;
  model::Role role = model::Role::kReadOnly;
  std::optional<core::EpochMillis> expires_at;
  std::optional<core::EpochMillis> revoked_at;
};

struct CustomField {
  std::string object;  // object type name
  model::Field field;
};

// Tenants, API keys and custom field definitions: the directory every request consults.
// Thread-safe. The synchronous writers block until the change is durable; call them from the
// CLI or start-up, not from I/O threads.
class DirectoryStore {
 public:
  virtual ~DirectoryStore() = default;

  // kConflict when the name is taken.
  virtual core::Result<TenantInfo> CreateTenant(const std::string& name) = 0;
  // kNotFound when no tenant has the name.
  virtual core::Result<TenantInfo> FindTenantByName(const std::string& name) = 0;
  virtual core::Result<std::vector<TenantInfo>> ListTenants() = 0;

  // Stores a key by the SHA-256 of its secret; the secret itself is never stored.
  virtual core::Result<ApiKeyInfo> CreateApiKey(const std::string& tenant_id,
                                                const std::string& name, model::Role role,
                                                const std::string& secret_hash,
                                                std::optional<core::EpochMillis> expires_at) = 0;
  // kNotFound for an unknown hash. Revoked or expired keys are returned; the caller decides.
  virtual core::Result<ApiKeyInfo> FindApiKeyByHash(const std::string& secret_hash) = 0;

  virtual core::Result<std::vector<CustomField>> LoadCustomFields(const std::string& tenant_id) = 0;
  // Stores a new custom field and prepares storage for it (indexes). `done` runs on a storage
  // thread once durable. kConflict when the tenant's object already has the name.
  virtual void AddCustomField(const model::Principal& principal, const std::string& object,
                              const model::Field& field,
                              std::function<void(core::Status)> done) = 0;
};

}  // namespace zebros::storage
