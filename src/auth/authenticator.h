#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "auth/api_keys.h"
#include "auth/oidc_verifier.h"
#include "core/clock.h"
#include "core/result.h"
#include "model/principal.h"
#include "storage/directory_store.h"
#include "storage/identity_store.h"

namespace zebros::auth {

// Turns an `Authorization: Bearer …` header into a Principal, whatever the credential: an API
// key (`zbk_…`), or an access token of an OIDC issuer — the built-in identity provider's realms
// or a configured external issuer (Keycloak). The tenant always comes from the credential: an
// API key's tenant, the realm of the issuer, or the configured tenant claim.
//
// Token holders are users: a built-in user must exist and be active, with the role stored for
// it (a role change applies on the next request, not after the token expires); an external
// user is created on first sight (just in time) with the role its token carries. Thread-safe.
class Authenticator {
 public:
  // The built-in provider's realms are registered with `tokens` on first sight of a token
  // whose issuer is `builtin_realms()` + tenant name; `builtin_keys` makes the key source for
  // one realm (the provider's key ring, in process).
  struct BuiltinProvider {
    std::function<std::string()> realms_prefix;  // "{base}/realms/"
    std::function<std::unique_ptr<JwksSource>()> keys;
  };

  Authenticator(ApiKeyAuthenticator& keys, TokenVerifier& tokens, BuiltinProvider builtin,
                storage::DirectoryStore& directory, storage::IdentityStore& identities,
                const core::Clock& clock)
      : keys_(keys),
        tokens_(tokens),
        builtin_(std::move(builtin)),
        directory_(directory),
        identities_(identities),
        clock_(clock) {}

  // kUnauthenticated (`unauthenticated` for a missing or malformed header or an unknown key,
  // `invalid_token` for any token failure); kForbidden (`forbidden`) for a valid token whose
  // roles map to no Zebros role.
  core::Result<model::Principal> Authenticate(const std::string* authorization_header);

  // Drops what is cached about a user (after a role change or a deactivation).
  void ForgetUser(const std::string& user_id);
  // Drops what is cached about an API key (after a revocation).
  void ForgetKey(const std::string& key_id);

  static constexpr core::EpochMillis kUserCacheTtl = 5000;

 private:
  struct CachedUser {
    model::Principal principal;
    core::EpochMillis at = 0;
  };
  // A token's whole verdict, so a repeated token costs one hash and one lookup like an API key.
  struct CachedToken {
    model::Principal principal;
    core::EpochMillis expires_at = 0;  // the token's exp
    core::EpochMillis at = 0;          // trusted for kUserCacheTtl (role changes, deactivation)
    std::uint64_t generation = 0;      // TokenVerifier::CacheGeneration() when cached
  };
  static constexpr std::size_t kMaxCached = 10000;

  core::Result<model::Principal> FromToken(std::string_view token);
  // Verifies and maps a token without the verdict cache; fills principal and expires_at.
  core::Result<CachedToken> FromTokenUncached(std::string_view token);
  // Registers the built-in realm a failed token names, if it is one; true when it did.
  bool RegisterRealm(std::string_view token);
  core::Result<storage::TenantInfo> Tenant(const std::string& name);
  core::Result<model::Principal> UserPrincipal(const TokenIdentity& identity,
                                               const storage::TenantInfo& tenant);

  ApiKeyAuthenticator& keys_;
  TokenVerifier& tokens_;
  BuiltinProvider builtin_;
  storage::DirectoryStore& directory_;
  storage::IdentityStore& identities_;
  const core::Clock& clock_;
  std::mutex mutex_;
  // Guarded by mutex_: by issuer + "\n" + subject.
  std::unordered_map<std::string, CachedUser> users_;
  std::unordered_map<std::string, std::pair<storage::TenantInfo, core::EpochMillis>> tenants_;
  std::unordered_set<std::string> realms_;  // built-in issuers registered with tokens_
  std::unordered_map<std::string, CachedToken> token_principals_;  // by SHA-256 of the token
};

}  // namespace zebros::auth
