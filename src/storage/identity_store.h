#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/principal.h"

namespace zebros::storage {

// A person who signs in. `issuer` is empty for users of the built-in identity provider; users
// of an external OIDC issuer are created on first sign-in and carry its `sub` as
// `external_subject`.
struct UserInfo {
  std::string id;  // usr_…
  std::string tenant_id;
  std::string username;  // unique in the tenant; `preferred_username` in tokens
  std::string email;     // lower case; may be empty for external users without one
  std::string display_name;
  model::Role role = model::Role::kReadOnly;
  std::string issuer;
  std::string external_subject;
  bool active = true;
  bool has_password = false;
  core::EpochMillis created_at = 0;
  core::EpochMillis updated_at = 0;
  std::optional<core::EpochMillis> last_login_at;
  std::optional<core::EpochMillis> deactivated_at;
};

struct NewUser {
  std::string tenant_id;
  std::string username;
  std::string email;
  std::string display_name;
  model::Role role = model::Role::kReadOnly;
  std::string issuer;
  std::string external_subject;
  std::string password_hash;  // argon2id encoded string; empty: no password (invited, external)
};

struct UserChange {
  std::optional<model::Role> role;
  std::optional<bool> active;  // false deactivates: the user's sessions and refresh tokens die
  std::optional<std::string> display_name;
};

// A password hash made again at the current cost, replacing the one that verified.
struct PasswordRehash {
  std::string from;
  std::string to;
};

struct UserPage {
  std::vector<UserInfo> users;
  std::string next_cursor;  // empty on the last page
};

// A one-time authorization code of the built-in identity provider (stored by its hash).
struct AuthCode {
  std::string code_hash;
  std::string session_id;
  std::string client_id;
  std::string redirect_uri;
  std::string code_challenge;  // S256
  std::string nonce;
  std::string scope;
  core::EpochMillis expires_at = 0;
};

struct SessionInfo {
  std::string id;
  std::string tenant_id;
  std::string user_id;
  std::string client_id;
  std::string scope;  // granted at sign-in; refreshed tokens carry it too
  core::EpochMillis created_at = 0;
  std::optional<core::EpochMillis> revoked_at;
};

// Users and the built-in identity provider's sessions, codes and refresh tokens. Thread-safe.
// Writers block until the change is durable: call them off the I/O threads.
// A signing key of the built-in identity provider: a secret (the private key as PEM).
struct StoredSigningKey {
  std::string kid;  // idk_…, time-ordered
  std::string pem;
  core::EpochMillis created_at = 0;
};

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;

  // kConflict (`user_exists`) when the username or e-mail is taken in the tenant.
  // The audit entry (`user.create` by `actor`) commits with the user.
  virtual core::Result<UserInfo> CreateUser(const NewUser& user, const model::Principal& actor) = 0;
  // kNotFound for an unknown id or another tenant's user.
  virtual core::Result<UserInfo> FindUser(const std::string& tenant_id,
                                          const std::string& user_id) = 0;
  // By username or e-mail (case-insensitive), with the password hash (empty when none).
  virtual core::Result<std::pair<UserInfo, std::string>> FindUserForLogin(
      const std::string& tenant_id, const std::string& username_or_email) = 0;
  // Just-in-time user of an external issuer: creates it on first sight; afterwards keeps its
  // role, e-mail and username in step with the token. Inactive users stay inactive.
  virtual core::Result<UserInfo> UpsertExternalUser(const NewUser& user) = 0;
  virtual core::Result<UserPage> ListUsers(const std::string& tenant_id, const std::string& cursor,
                                           int limit) = 0;
  // Deactivation revokes every session (and so every refresh token) of the user in the same
  // transaction.
  // A role change (`user.role_change`, from and to) and a deactivation (`user.deactivate`) are
  // audited as `actor`'s in the same transaction.
  virtual core::Result<UserInfo> UpdateUser(const std::string& tenant_id,
                                            const std::string& user_id, const UserChange& change,
                                            const model::Principal& actor) = 0;
  // Replaces the password hash and revokes the user's sessions (a password change signs out
  // everywhere). kNotFound for an unknown id or another tenant's user.
  virtual core::Status SetPassword(const std::string& tenant_id, const std::string& user_id,
                                   const std::string& password_hash) = 0;
  // Records a successful sign-in. With `rehash`, the password hash becomes `rehash->to` if it is
  // still `rehash->from` (the hash that just verified): the same password hashed at the current
  // cost. A password changed meanwhile is kept, and sessions stay (nothing was changed).
  virtual core::Status RecordLogin(const std::string& tenant_id, const std::string& user_id,
                                   core::EpochMillis at,
                                   const std::optional<PasswordRehash>& rehash) = 0;

  virtual core::Result<SessionInfo> CreateSession(const std::string& tenant_id,
                                                  const std::string& user_id,
                                                  const std::string& client_id,
                                                  const std::string& scope) = 0;
  // kNotFound for an unknown id. Revoked sessions are returned; the caller decides.
  virtual core::Result<SessionInfo> FindSession(const std::string& session_id) = 0;
  // Revokes the session and all its refresh tokens.
  virtual core::Status RevokeSession(const std::string& session_id) = 0;

  virtual core::Status StoreAuthCode(const AuthCode& code) = 0;
  // Marks the code used and returns it; kNotFound when unknown, used before, expired or its
  // session revoked. A second use also revokes the session the first use started (RFC 6749
  // section 4.1.2: tokens issued from a replayed code should die).
  virtual core::Result<AuthCode> ConsumeAuthCode(const std::string& code_hash,
                                                 core::EpochMillis now) = 0;

  virtual core::Status StoreRefreshToken(const std::string& token_hash,
                                         const std::string& session_id,
                                         core::EpochMillis expires_at) = 0;
  // Rotation: marks `token_hash` used and stores `next_hash` for the same session, atomically;
  // returns the session. A token used before is a reuse: the whole session is revoked and
  // kUnauthenticated (`refresh_token_reused`) returned. Unknown, expired or revoked: kNotFound.
  virtual core::Result<SessionInfo> RotateRefreshToken(const std::string& token_hash,
                                                       const std::string& next_hash,
                                                       core::EpochMillis next_expires_at,
                                                       core::EpochMillis now) = 0;
  // The session a refresh token (current, used or expired) belongs to, for logout and
  // revocation; kNotFound for an unknown hash.
  virtual core::Result<SessionInfo> FindSessionByRefreshToken(const std::string& token_hash) = 0;

  // The built-in identity provider's signing keys, newest first. They live in the database so
  // that every node signs and verifies with the same keys.
  virtual core::Result<std::vector<StoredSigningKey>> ListSigningKeys() = 0;
  // A kid already stored is left as it is.
  virtual core::Status AddSigningKey(const StoredSigningKey& key) = 0;
  virtual core::Status RemoveSigningKeys(const std::vector<std::string>& kids) = 0;
  // Changes whenever a key is added or removed; reads no key material.
  virtual core::Result<std::string> SigningKeysVersion() = 0;

  // Housekeeping: deletes codes and refresh tokens expired by `now`, and sessions created before
  // `sessions_created_before` (with their tokens). A deleted token or code behaves as unknown.
  virtual core::Status PurgeExpired(core::EpochMillis now,
                                    core::EpochMillis sessions_created_before) = 0;
};

}  // namespace zebros::storage
