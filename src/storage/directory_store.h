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
  core::EpochMillis created_at = 0;
  std::optional<core::EpochMillis> last_used_at;
};

struct TeamInfo {
  std::string id;  // team_…
  std::string tenant_id;
  std::string name;
  core::EpochMillis created_at = 0;
  std::vector<std::string> member_ids;  // user ids, sorted
};

struct ScopeSetting {
  model::Role role = model::Role::kReadOnly;
  std::string object;
  model::RecordScope scope = model::RecordScope::kAll;
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

  // Stores a key by the SHA-256 of its secret; the secret itself is never stored. The audit
  // entry (`api_key.create` by `actor`) commits with it.
  virtual core::Result<ApiKeyInfo> CreateApiKey(const std::string& tenant_id,
                                                const std::string& name, model::Role role,
                                                const std::string& secret_hash,
                                                std::optional<core::EpochMillis> expires_at,
                                                const model::Principal& actor) = 0;
  // kNotFound for an unknown hash. Revoked or expired keys are returned; the caller decides.
  virtual core::Result<ApiKeyInfo> FindApiKeyByHash(const std::string& secret_hash) = 0;
  // The tenant's keys, newest first (revoked ones included, marked).
  virtual core::Result<std::vector<ApiKeyInfo>> ListApiKeys(const std::string& tenant_id) = 0;
  virtual core::Result<ApiKeyInfo> FindApiKey(const std::string& tenant_id,
                                              const std::string& key_id) = 0;
  // kNotFound for another tenant's or an unknown key; revoking twice keeps the first time. The
  // audit entry (`api_key.revoke` by `actor`) commits with the revocation.
  virtual core::Result<ApiKeyInfo> RevokeApiKey(const std::string& tenant_id,
                                                const std::string& key_id,
                                                const model::Principal& actor) = 0;
  // Best effort, asynchronous: records when a key was last used.
  virtual void TouchApiKey(const std::string& key_id, core::EpochMillis at) = 0;

  // Teams decide what a `team` record scope shows. kConflict (`team_exists`) for a taken name.
  virtual core::Result<TeamInfo> CreateTeam(const std::string& tenant_id,
                                            const std::string& name) = 0;
  virtual core::Result<std::vector<TeamInfo>> ListTeams(const std::string& tenant_id) = 0;
  virtual core::Result<TeamInfo> FindTeam(const std::string& tenant_id,
                                          const std::string& team_id) = 0;
  // Replaces the name (when given) and the members (when given). Member ids must be users of
  // the tenant (kValidation `unknown_user` otherwise).
  virtual core::Result<TeamInfo> UpdateTeam(
      const std::string& tenant_id, const std::string& team_id,
      const std::optional<std::string>& name,
      const std::optional<std::vector<std::string>>& members) = 0;
  virtual core::Status DeleteTeam(const std::string& tenant_id, const std::string& team_id) = 0;
  // Everyone who shares a team with the user, the user included.
  virtual core::Result<std::vector<std::string>> TeamMates(const std::string& tenant_id,
                                                           const std::string& user_id) = 0;

  // Record scopes that differ from `all`.
  virtual core::Result<std::vector<ScopeSetting>> ListScopes(const std::string& tenant_id) = 0;
  virtual core::Status SetScope(const std::string& tenant_id, const ScopeSetting& setting) = 0;

  virtual core::Result<std::vector<CustomField>> LoadCustomFields(const std::string& tenant_id) = 0;
  // Stores a new custom field and prepares storage for it (indexes). `done` runs on a storage
  // thread once durable. kConflict when the tenant's object already has the name.
  virtual void AddCustomField(const model::Principal& principal, const std::string& object,
                              const model::Field& field,
                              std::function<void(core::Status)> done) = 0;
};

}  // namespace zebros::storage
