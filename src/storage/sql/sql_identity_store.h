#pragma once

#include "core/ids.h"
#include "storage/identity_store.h"
#include "storage/sql/engine.h"

namespace zebros::storage::sql {

// IdentityStore over an Engine (SQLite or PostgreSQL): writes run through Engine::Run (so they
// block until durable), reads borrow a read session. Thread-safe.
class SqlIdentityStore final : public IdentityStore {
 public:
  SqlIdentityStore(Engine& database, core::IdGenerator& ids) : database_(database), ids_(ids) {}

  core::Result<UserInfo> CreateUser(const NewUser& user, const model::Principal& actor) override;
  core::Result<UserInfo> FindUser(const std::string& tenant_id,
                                  const std::string& user_id) override;
  core::Result<std::pair<UserInfo, std::string>> FindUserForLogin(
      const std::string& tenant_id, const std::string& username_or_email) override;
  core::Result<UserInfo> UpsertExternalUser(const NewUser& user) override;
  core::Result<UserPage> ListUsers(const std::string& tenant_id, const std::string& cursor,
                                   int limit) override;
  core::Result<UserInfo> UpdateUser(const std::string& tenant_id, const std::string& user_id,
                                    const UserChange& change,
                                    const model::Principal& actor) override;
  core::Status SetPassword(const std::string& tenant_id, const std::string& user_id,
                           const std::string& password_hash) override;
  core::Status RecordLogin(const std::string& tenant_id, const std::string& user_id,
                           core::EpochMillis at,
                           const std::optional<PasswordRehash>& rehash) override;

  core::Result<SessionInfo> CreateSession(const std::string& tenant_id, const std::string& user_id,
                                          const std::string& client_id,
                                          const std::string& scope) override;
  core::Result<SessionInfo> FindSession(const std::string& session_id) override;
  core::Status RevokeSession(const std::string& session_id) override;

  core::Status StoreAuthCode(const AuthCode& code) override;
  core::Result<AuthCode> ConsumeAuthCode(const std::string& code_hash,
                                         core::EpochMillis now) override;

  core::Status StoreRefreshToken(const std::string& token_hash, const std::string& session_id,
                                 core::EpochMillis expires_at) override;
  core::Result<SessionInfo> RotateRefreshToken(const std::string& token_hash,
                                               const std::string& next_hash,
                                               core::EpochMillis next_expires_at,
                                               core::EpochMillis now) override;
  core::Result<SessionInfo> FindSessionByRefreshToken(const std::string& token_hash) override;
  core::Result<std::vector<StoredSigningKey>> ListSigningKeys() override;
  core::Status AddSigningKey(const StoredSigningKey& key) override;
  core::Status RemoveSigningKeys(const std::vector<std::string>& kids) override;
  core::Result<std::string> SigningKeysVersion() override;
  core::Status PurgeExpired(core::EpochMillis now,
                            core::EpochMillis sessions_created_before) override;

 private:
  Engine& database_;
  core::IdGenerator& ids_;
};

}  // namespace zebros::storage::sql
