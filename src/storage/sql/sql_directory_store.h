#pragma once

#include "core/ids.h"
#include "storage/directory_store.h"
#include "storage/sql/engine.h"

namespace zebros::storage::sql {

// DirectoryStore over an Engine (SQLite or PostgreSQL). Thread-safe.
class SqlDirectoryStore final : public DirectoryStore {
 public:
  SqlDirectoryStore(Engine& database, core::IdGenerator& ids,
                    std::vector<model::ObjectTypePtr> builtin_types)
      : database_(database), ids_(ids), builtin_types_(std::move(builtin_types)) {}

  core::Result<TenantInfo> CreateTenant(const std::string& name) override;
  core::Result<TenantInfo> FindTenantByName(const std::string& name) override;
  core::Result<std::vector<TenantInfo>> ListTenants() override;
  core::Result<ApiKeyInfo> CreateApiKey(const std::string& tenant_id, const std::string& name,
                                        model::Role role, const std::string& secret_hash,
                                        std::optional<core::EpochMillis> expires_at,
                                        const model::Principal& actor) override;
  core::Result<ApiKeyInfo> FindApiKeyByHash(const std::string& secret_hash) override;
  core::Result<std::vector<ApiKeyInfo>> ListApiKeys(const std::string& tenant_id) override;
  core::Result<ApiKeyInfo> FindApiKey(const std::string& tenant_id,
                                      const std::string& key_id) override;
  core::Result<ApiKeyInfo> RevokeApiKey(const std::string& tenant_id, const std::string& key_id,
                                        const model::Principal& actor) override;
  void TouchApiKey(const std::string& key_id, core::EpochMillis at) override;
  // Teams and scopes: sql_directory_access.cc.
  core::Result<TeamInfo> CreateTeam(const std::string& tenant_id, const std::string& name) override;
  core::Result<std::vector<TeamInfo>> ListTeams(const std::string& tenant_id) override;
  core::Result<TeamInfo> FindTeam(const std::string& tenant_id,
                                  const std::string& team_id) override;
  core::Result<TeamInfo> UpdateTeam(
      const std::string& tenant_id, const std::string& team_id,
      const std::optional<std::string>& name,
      const std::optional<std::vector<std::string>>& members) override;
  core::Status DeleteTeam(const std::string& tenant_id, const std::string& team_id) override;
  core::Result<std::vector<std::string>> TeamMates(const std::string& tenant_id,
                                                   const std::string& user_id) override;
  core::Result<std::vector<ScopeSetting>> ListScopes(const std::string& tenant_id) override;
  core::Status SetScope(const std::string& tenant_id, const ScopeSetting& setting) override;
  core::Result<std::vector<CustomField>> LoadCustomFields(const std::string& tenant_id) override;
  void AddCustomField(const model::Principal& principal, const std::string& object,
                      const model::Field& field, std::function<void(core::Status)> done) override;

 private:
  Engine& database_;
  core::IdGenerator& ids_;
  std::vector<model::ObjectTypePtr> builtin_types_;
};

}  // namespace zebros::storage::sql
