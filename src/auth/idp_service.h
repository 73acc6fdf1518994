#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "auth/idp_keys.h"
#include "auth/login_throttle.h"
#include "auth/passwords.h"
#include "core/clock.h"
#include "core/result.h"
#include "storage/audit_store.h"
#include "storage/directory_store.h"
#include "storage/identity_store.h"

namespace zebros::auth {

// The built-in public clients (no secret).
inline constexpr std::string_view kWebClient = "zebros-web";
inline constexpr std::string_view kCliClient = "zebros-cli";
// The `aud` of every access token: the Zebros API.
inline constexpr std::string_view kApiAudience = "zebros-api";

struct IdpOptions {
  core::EpochMillis access_token_ttl = 5 * 60 * 1000;
  // A refresh token dies when unused this long; each use rotates it and restarts the clock.
  core::EpochMillis refresh_idle_ttl = 30 * 60 * 1000;
  // No refresh beyond this age of the session (sign in again).
  core::EpochMillis session_max_ttl = 10 * 60 * 60 * 1000;
  core::EpochMillis code_ttl = 60 * 1000;
  // Applied per account and per client IP.
  ThrottleOptions throttle;
};

// A realm is a tenant; its issuer is `{base}/realms/{tenant name}`.
struct Realm {
  storage::TenantInfo tenant;
  std::string issuer;
};

// The parameters of an authorization request (the query of GET …/auth, or the login form).
struct AuthorizeRequest {
  std::string client_id;
  std::string redirect_uri;
  std::string response_type;
  std::string scope;
  std::string state;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string nonce;
};

// What a successful sign-in at the authorization endpoint yields: the code to send back to the
// client's redirect URI, and the session it belongs to (`session_state`).
struct AuthorizationGrant {
  std::string code;
  std::string session_id;
};

// A token endpoint answer (RFC 6749 section 5.1). Lifetimes in seconds.
struct TokenSet {
  std::string access_token;
  std::string id_token;       // when the scope has `openid` and a user signed in
  std::string refresh_token;  // empty for client credentials
  std::int64_t expires_in = 0;
  std::int64_t refresh_expires_in = 0;
  std::string scope;
  std::string session_id;
};

// The built-in OpenID Connect provider, without HTTP: validates authorization requests, signs
// users in (argon2id, throttled per account and per IP), issues codes, and mints, refreshes and
// revokes tokens. Refresh tokens and codes are random strings stored by their SHA-256.
//
// Errors carry an OAuth error code (RFC 6749 section 5.2) as `problem_code`: `invalid_request`,
// `invalid_client` (kUnauthenticated), `unauthorized_client`, `invalid_grant`, `invalid_scope`,
// `unsupported_grant_type`, `unsupported_response_type`, `access_denied`; throttled sign-ins are
// kTooManyRequests (`too_many_attempts`, see RetryAfterSeconds); storage failures keep theirs.
//
// Thread-safe. Calls may block on the database writer and on password hashing: run them off
// the I/O threads.
class IdpService {
 public:
  // `base_url` returns the server's external base URL without a trailing slash (known only once
  // the server listens, hence a function).
  IdpService(storage::IdentityStore& identity, storage::DirectoryStore& directory, KeyRing& keys,
             PasswordHasher& hasher, const core::Clock& clock,
             std::function<std::string()> base_url, IdpOptions options = {});

  // `{base}/realms/{tenant_name}`: what the resource server registers per tenant.
  std::string IssuerFor(std::string_view tenant_name) const;
  // kNotFound (`realm_not_found`) when no tenant has the name.
  core::Result<Realm> FindRealm(const std::string& tenant_name);
  // The discovery document (/.well-known/openid-configuration) of the realm.
  std::string DiscoveryJson(const Realm& realm) const;
  // The published keys as a JWK Set (the same for every realm).
  std::string JwksJson() { return keys_.JwksJson(); }
  KeyRing& keys() { return keys_; }
  // Where sign-ins and failed sign-ins are audited (none when null). Call before serving.
  void SetAudit(storage::AuditStore* audit) { audit_ = audit; }

  // Step one of the authorization endpoint: the client and its redirect URI. A failure here
  // must be shown to the user, never sent to the redirect URI (it is not trusted).
  core::Status CheckClient(const Realm& realm, const AuthorizeRequest& request) const;
  // Step two: everything else (response_type code, S256 PKCE). A failure may be sent to the
  // (now trusted) redirect URI.
  static core::Status CheckAuthorizeParams(const AuthorizeRequest& request);
  // Signs the user in, starts a session and issues a one-time code (valid code_ttl).
  // `invalid_grant` for a wrong username or password (the same for unknown users, who cost the
  // same time), `too_many_attempts` when throttled. REQUIRES: both checks passed.
  core::Result<AuthorizationGrant> Authorize(const Realm& realm, const AuthorizeRequest& request,
                                             const std::string& username,
                                             const std::string& password,
                                             const std::string& client_ip);
  // Seconds the account or IP must wait after a kTooManyRequests (at least 1).
  std::int64_t RetryAfterSeconds(const Realm& realm, const std::string& username,
                                 const std::string& client_ip);

  // grant_type=authorization_code: the code, once, by the client it was issued to, with the
  // same redirect_uri and the PKCE verifier whose S256 matches the challenge.
  core::Result<TokenSet> ExchangeCode(const Realm& realm, const std::string& client_id,
                                      const std::string& code, const std::string& redirect_uri,
                                      const std::string& code_verifier);
  // grant_type=refresh_token, with rotation; a reused token revokes its session.
  core::Result<TokenSet> Refresh(const Realm& realm, const std::string& client_id,
                                 const std::string& refresh_token);
  // grant_type=password (the CLI and scripts; client zebros-cli only).
  core::Result<TokenSet> PasswordGrant(const Realm& realm, const std::string& client_id,
                                       const std::string& username, const std::string& password,
                                       const std::string& scope, const std::string& client_ip);
  // grant_type=client_credentials: the client is an API key of the realm's tenant (client_id
  // `key_…`, client_secret `zbk_…`). No refresh token.
  core::Result<TokenSet> ClientCredentials(const Realm& realm, const std::string& client_id,
                                           const std::string& client_secret);
  // The userinfo claims (JSON) for a valid access token of this realm whose session is live.
  // kUnauthenticated (`invalid_token`) otherwise.
  core::Result<std::string> UserInfo(const Realm& realm, const std::string& access_token);
  // Revokes the session of `refresh_token` (and so all its refresh tokens). `invalid_grant`
  // when the token is unknown or belongs to another client or realm.
  core::Status Logout(const Realm& realm, const std::string& client_id,
                      const std::string& refresh_token);

 private:
  void AuditLogin(const Realm& realm, const std::string& user_id, const std::string& client_ip,
                  std::string_view outcome) const;
  core::Result<storage::UserInfo> Login(const Realm& realm, const std::string& username,
                                        const std::string& password, const std::string& client_ip);
  core::Result<TokenSet> Mint(const Realm& realm, const storage::UserInfo& user,
                              const storage::SessionInfo& session, const std::string& nonce,
                              std::string refresh_token, core::EpochMillis refresh_expires_at);
  core::Result<TokenSet> StartSession(const Realm& realm, const storage::UserInfo& user,
                                      const std::string& client_id, const std::string& scope,
                                      const std::string& nonce);
  core::EpochMillis RefreshExpiry(const storage::SessionInfo& session, core::EpochMillis now) const;
  // Deletes dead codes, tokens and sessions at most once per kPurgeInterval (the caller's thread
  // pays for it; failures are logged and retried next time).
  void MaybePurge();

  storage::IdentityStore& identity_;
  storage::DirectoryStore& directory_;
  KeyRing& keys_;
  PasswordHasher& hasher_;
  const core::Clock& clock_;
  std::function<std::string()> base_url_;
  const IdpOptions options_;
  LoginThrottle throttle_;
  storage::AuditStore* audit_ = nullptr;
  static constexpr core::EpochMillis kPurgeInterval = 60 * 60 * 1000;
  std::atomic<core::EpochMillis> last_purge_{0};
};

}  // namespace zebros::auth
