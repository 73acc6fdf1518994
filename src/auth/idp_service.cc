#include "auth/idp_service.h"

#include <algorithm>
#include <cctype>

#include "auth/api_keys.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"

namespace zebros::auth {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxUsernameLength = 256;
constexpr std::size_t kMaxRedirectUriLength = 2048;
constexpr std::string_view kDefaultScope = "openid profile email";
constexpr std::string_view kKnownScopes[] = {"openid", "profile", "email", "offline_access",
                                             "roles"};

core::Error OAuthError(core::Code code, std::string error, std::string description) {
  return core::MakeError(code, std::move(error), std::move(description));
}
core::Error InvalidRequest(std::string description) {
  return OAuthError(core::Code::kBadRequest, "invalid_request", std::move(description));
}
core::Error InvalidGrant(std::string description) {
  return OAuthError(core::Code::kBadRequest, "invalid_grant", std::move(description));
}
core::Error InvalidClient() {
  return OAuthError(core::Code::kUnauthenticated, "invalid_client", "Unknown client.");
}

bool IsPublicClient(std::string_view client_id) {
  return client_id == kWebClient || client_id == kCliClient;
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// The requested scopes we know, in a canonical order; the default when none is known.
std::string GrantedScope(std::string_view requested) {
  std::vector<std::string_view> asked;
  while (!requested.empty()) {
    const auto space = requested.find(' ');
    asked.push_back(requested.substr(0, space));
    if (space == std::string_view::npos) break;
    requested.remove_prefix(space + 1);
  }
  std::string granted;
  for (const auto scope : kKnownScopes) {
    if (std::find(asked.begin(), asked.end(), scope) == asked.end()) continue;
    if (!granted.empty()) granted.push_back(' ');
    granted += scope;
  }
  return granted.empty() ? std::string(kDefaultScope) : granted;
}

bool HasScope(std::string_view scopes, std::string_view wanted) {
  while (!scopes.empty()) {
    const auto space = scopes.find(' ');
    if (scopes.substr(0, space) == wanted) return true;
    if (space == std::string_view::npos) break;
    scopes.remove_prefix(space + 1);
  }
  return false;
}

// Loopback redirects of native apps (RFC 8252 section 7.3): http, 127.0.0.1, localhost or
// [::1], any port, any path. Matched by prefix, so no userinfo or look-alike host can pass.
bool IsLoopbackRedirect(std::string_view uri) {
  for (const std::string_view origin : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    if (!uri.starts_with(origin)) continue;
    std::string_view rest = uri.substr(origin.size());
    if (rest.starts_with(':')) {
      rest.remove_prefix(1);
      std::size_t digits = 0;
      while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
        ++digits;
      }
      if (digits == 0 || digits > 5) return false;
      rest.remove_prefix(digits);
    }
    return rest.starts_with('/');
  }
  return false;
}

bool IsAllowedRedirect(std::string_view uri, const std::string& base_url) {
  if (uri.empty() || uri.size() > kMaxRedirectUriLength) return false;
  for (const char c : uri) {
    // No fragments (RFC 6749 section 3.1.2), no spaces, controls or non-ASCII.
    if (c == '#' || c == '\\' || static_cast<unsigned char>(c) <= 0x20 ||
        static_cast<unsigned char>(c) >= 0x7f) {
      return false;
    }
  }
  if (!base_url.empty() && uri.starts_with(base_url + "/")) return true;
  return IsLoopbackRedirect(uri);
}

// RFC 7636 section 4.1: 43-128 characters of [A-Za-z0-9-._~].
bool IsValidVerifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  return std::all_of(verifier.begin(), verifier.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
  });
}

std::string NewSecret() { return core::Base64UrlEncode(core::RandomBytes(32)); }

std::int64_t Seconds(core::EpochMillis millis) { return millis / 1000; }

}  // namespace

IdpService::IdpService(storage::IdentityStore& identity, storage::DirectoryStore& directory,
                       KeyRing& keys, PasswordHasher& hasher, const core::Clock& clock,
                       std::function<std::string()> base_url, IdpOptions options)
    : identity_(identity),
      directory_(directory),
      keys_(keys),
      hasher_(hasher),
      clock_(clock),
      base_url_(std::move(base_url)),
      options_(options),
      throttle_(clock, options.throttle) {}

std::string IdpService::IssuerFor(std::string_view tenant_name) const {
  return base_url_() + "/realms/" + std::string(tenant_name);
}

core::Result<Realm> IdpService::FindRealm(const std::string& tenant_name) {
  auto tenant = directory_.FindTenantByName(tenant_name);
  if (!tenant.ok()) {
    if (tenant.error().code != core::Code::kNotFound) return std::move(tenant).error();
    return core::MakeError(core::Code::kNotFound, "realm_not_found", "No such realm.");
  }
  Realm realm{std::move(tenant).value(), {}};
  realm.issuer = IssuerFor(realm.tenant.name);
  return realm;
}

std::string IdpService::DiscoveryJson(const Realm& realm) const {
  const std::string endpoints = realm.issuer + "/protocol/openid-connect";
  json::object doc{
      {"issuer", realm.issuer},
      {"authorization_endpoint", endpoints + "/auth"},
      {"token_endpoint", endpoints + "/token"},
      {"userinfo_endpoint", endpoints + "/userinfo"},
      {"jwks_uri", endpoints + "/certs"},
      {"end_session_endpoint", endpoints + "/logout"},
      {"response_types_supported", json::array{"code"}},
      {"response_modes_supported", json::array{"query"}},
      {"grant_types_supported",
       json::array{"authorization_code", "refresh_token", "password", "client_credentials"}},
      {"subject_types_supported", json::array{"public"}},
      {"id_token_signing_alg_values_supported", json::array{"RS256"}},
      {"code_challenge_methods_supported", json::array{"S256"}},
      {"token_endpoint_auth_methods_supported",
       json::array{"none", "client_secret_basic", "client_secret_post"}},
      {"scopes_supported", json::array{"openid", "profile", "email", "offline_access", "roles"}},
      {"claims_supported",
       json::array{"iss", "sub", "aud", "azp", "exp", "iat", "jti", "sid", "typ", "nonce",
                   "preferred_username", "email", "scope", "realm_access"}},
      {"authorization_response_iss_parameter_supported", true},
  };
  return core::WriteJson(doc);
}

core::Status IdpService::CheckClient(const Realm& realm, const AuthorizeRequest& request) const {
  (void)realm;  // the built-in clients exist in every realm
  if (!IsPublicClient(request.client_id)) {
    return OAuthError(core::Code::kBadRequest, "invalid_client", "Unknown client.");
  }
  if (!IsAllowedRedirect(request.redirect_uri, base_url_())) {
    return InvalidRequest("The redirect_uri is not allowed for this client.");
  }
  return core::OkStatus();
}

core::Status IdpService::CheckAuthorizeParams(const AuthorizeRequest& request) {
  if (request.response_type != "code") {
    return OAuthError(core::Code::kBadRequest, "unsupported_response_type",
                      "Only response_type=code is supported.");
  }
  if (request.code_challenge_method != "S256") {
    return InvalidRequest("PKCE is required: code_challenge_method must be S256.");
  }
  const auto decoded = core::Base64UrlDecode(request.code_challenge);
  if (request.code_challenge.size() != 43 || !decoded || decoded->size() != 32) {
    return InvalidRequest("code_challenge must be the base64url SHA-256 of the verifier.");
  }
  if (request.state.size() > 1024 || request.nonce.size() > 1024 || request.scope.size() > 1024) {
    return InvalidRequest("A parameter is too long.");
  }
  return core::OkStatus();
}

void IdpService::AuditLogin(const Realm& realm, const std::string& user_id,
                            const std::string& client_ip, std::string_view outcome) const {
  if (audit_ == nullptr) return;
  model::Principal who;
  who.tenant_id = realm.tenant.id;
  who.subject = user_id.empty() ? "anonymous" : user_id;
  who.client_ip = client_ip;
  storage::AuditEntry entry;
  entry.action = outcome == "success" ? storage::audit_action::kLoginSuccess
                                      : storage::audit_action::kLoginFailure;
  entry.object = "users";
  entry.record_id = user_id;
  // Never the attempted name: it is often an e-mail address, and may be a password typed in
  // the wrong box.
  entry.details = boost::json::object{{"outcome", outcome}};
  audit_->Append(who, std::move(entry), [](core::Status status) {
    if (!status.ok()) {
      core::Log(core::LogLevel::kWarn, "sign-in not audited", {{"reason", status.error().detail}});
    }
  });
}

core::Result<storage::UserInfo> IdpService::Login(const Realm& realm, const std::string& username,
                                                  const std::string& password,
                                                  const std::string& client_ip) {
  const std::string account_key = "acct:" + realm.tenant.id + ":" + Lower(username);
  const std::string ip_key = "ip:" + client_ip;
  if (throttle_.RetryAfter(account_key) > 0 || throttle_.RetryAfter(ip_key) > 0) {
    AuditLogin(realm, "", client_ip, "throttled");
    return core::MakeError(core::Code::kTooManyRequests, "too_many_attempts",
                           "Too many failed sign-ins. Try again in a minute.");
  }
  bool verified = false;
  std::optional<storage::UserInfo> user;
  auto found = username.empty() || username.size() > kMaxUsernameLength
                   ? core::Result<std::pair<storage::UserInfo, std::string>>(
                         core::MakeError(core::Code::kNotFound, "not_found", "No such user."))
                   : identity_.FindUserForLogin(realm.tenant.id, username);
  if (found.ok()) {
    // Users without a password (invited) cost the same time as everyone else.
    verified = found->second.empty() ? hasher_.VerifyDummy(password)
                                     : hasher_.Verify(found->second, password);
    verified = verified && found->first.active;
    user = std::move(found->first);
  } else if (found.error().code == core::Code::kNotFound) {
    hasher_.VerifyDummy(password);
  } else {
    return std::move(found).error();
  }
  if (!verified) {
    throttle_.RecordFailure(account_key);
    throttle_.RecordFailure(ip_key);
    AuditLogin(realm, user ? user->id : "", client_ip, "invalid_credentials");
    return InvalidGrant("Invalid username or password.");
  }
  throttle_.Reset(account_key);
  // A hash made at another cost (an older default) is made again at this one while the password
  // is at hand. Should hashing fail, the old hash still serves.
  std::optional<storage::PasswordRehash> rehash;
  if (hasher_.NeedsRehash(found->second)) {
    auto again = hasher_.Hash(password);
    if (again.ok()) rehash = storage::PasswordRehash{found->second, std::move(again).value()};
  }
  auto recorded = identity_.RecordLogin(realm.tenant.id, user->id, clock_.NowMillis(), rehash);
  if (!recorded.ok()) return std::move(recorded).error();
  AuditLogin(realm, user->id, client_ip, "success");
  return std::move(*user);
}

std::int64_t IdpService::RetryAfterSeconds(const Realm& realm, const std::string& username,
                                           const std::string& client_ip) {
  const core::EpochMillis wait =
      std::max(throttle_.RetryAfter("acct:" + realm.tenant.id + ":" + Lower(username)),
               throttle_.RetryAfter("ip:" + client_ip));
  return std::max<std::int64_t>(1, (wait + 999) / 1000);
}

core::Result<AuthorizationGrant> IdpService::Authorize(const Realm& realm,
                                                       const AuthorizeRequest& request,
                                                       const std::string& username,
                                                       const std::string& password,
                                                       const std::string& client_ip) {
  auto user = Login(realm, username, password, client_ip);
  if (!user.ok()) return std::move(user).error();
  MaybePurge();
  auto session = identity_.CreateSession(realm.tenant.id, user->id, request.client_id,
                                         GrantedScope(request.scope));
  if (!session.ok()) return std::move(session).error();
  AuthorizationGrant grant{NewSecret(), session->id};
  storage::AuthCode code{core::Sha256Hex(grant.code),
                         session->id,
                         request.client_id,
                         request.redirect_uri,
                         request.code_challenge,
                         request.nonce,
                         session->scope,
                         clock_.NowMillis() + options_.code_ttl};
  auto stored = identity_.StoreAuthCode(code);
  if (!stored.ok()) return std::move(stored).error();
  return grant;
}

void IdpService::MaybePurge() {
  const core::EpochMillis now = clock_.NowMillis();
  core::EpochMillis last = last_purge_.load();
  if (now - last < kPurgeInterval || !last_purge_.compare_exchange_strong(last, now)) return;
  // Sessions past their maximum age can mint nothing, and their last access token has expired
  // one access-token lifetime later.
  auto status =
      identity_.PurgeExpired(now, now - options_.session_max_ttl - options_.access_token_ttl);
  if (!status.ok()) {
    core::Log(core::LogLevel::kWarn, "idp purge failed", {{"error", status.error().detail}});
  }
}

core::EpochMillis IdpService::RefreshExpiry(const storage::SessionInfo& session,
                                            core::EpochMillis now) const {
  return std::min(now + options_.refresh_idle_ttl, session.created_at + options_.session_max_ttl);
}

core::Result<TokenSet> IdpService::Mint(const Realm& realm, const storage::UserInfo& user,
                                        const storage::SessionInfo& session,
                                        const std::string& nonce, std::string refresh_token,
                                        core::EpochMillis refresh_expires_at) {
  auto key = keys_.Current();
  if (!key.ok()) return std::move(key).error();
  const core::EpochMillis now = clock_.NowMillis();
  const std::int64_t iat = Seconds(now);
  const std::int64_t exp = iat + Seconds(options_.access_token_ttl);
  json::object access{
      {"iss", realm.issuer},
      {"sub", user.id},
      {"aud", kApiAudience},
      {"azp", session.client_id},
      {"typ", "Bearer"},
      {"iat", iat},
      {"exp", exp},
      {"jti", core::Base64UrlEncode(core::RandomBytes(16))},
      {"sid", session.id},
      {"realm_access", json::object{{"roles", json::array{model::RoleName(user.role)}}}},
      {"preferred_username", user.username},
      {"scope", session.scope},
  };
  if (!user.email.empty()) access["email"] = user.email;
  TokenSet tokens;
  tokens.access_token = key->Sign(access);
  if (HasScope(session.scope, "openid")) {
    json::object id{
        {"iss", realm.issuer},
        {"sub", user.id},
        {"aud", session.client_id},
        {"azp", session.client_id},
        {"typ", "ID"},
        {"iat", iat},
        {"exp", exp},
        {"sid", session.id},
        {"auth_time", Seconds(session.created_at)},
        {"preferred_username", user.username},
    };
    if (!nonce.empty()) id["nonce"] = nonce;
    if (!user.email.empty()) id["email"] = user.email;
    tokens.id_token = key->Sign(id);
  }
  tokens.refresh_token = std::move(refresh_token);
  tokens.expires_in = Seconds(options_.access_token_ttl);
  tokens.refresh_expires_in = std::max<std::int64_t>(0, Seconds(refresh_expires_at - now));
  tokens.scope = session.scope;
  tokens.session_id = session.id;
  return tokens;
}

core::Result<TokenSet> IdpService::StartSession(const Realm& realm, const storage::UserInfo& user,
                                                const std::string& client_id,
                                                const std::string& scope,
                                                const std::string& nonce) {
  auto session = identity_.CreateSession(realm.tenant.id, user.id, client_id, GrantedScope(scope));
  if (!session.ok()) return std::move(session).error();
  std::string refresh = NewSecret();
  const core::EpochMillis expires_at = RefreshExpiry(*session, clock_.NowMillis());
  auto stored = identity_.StoreRefreshToken(core::Sha256Hex(refresh), session->id, expires_at);
  if (!stored.ok()) return std::move(stored).error();
  return Mint(realm, user, *session, nonce, std::move(refresh), expires_at);
}

core::Result<TokenSet> IdpService::ExchangeCode(const Realm& realm, const std::string& client_id,
                                                const std::string& code,
                                                const std::string& redirect_uri,
                                                const std::string& code_verifier) {
  if (!IsPublicClient(client_id)) return InvalidClient();
  if (code.empty() || redirect_uri.empty() || code_verifier.empty()) {
    return InvalidRequest("code, redirect_uri and code_verifier are required.");
  }
  const core::EpochMillis now = clock_.NowMillis();
  auto consumed = identity_.ConsumeAuthCode(core::Sha256Hex(code), now);
  if (!consumed.ok()) {
    if (consumed.error().code != core::Code::kNotFound) return std::move(consumed).error();
    return InvalidGrant("The code is invalid, expired or used.");
  }
  if (consumed->client_id != client_id) return InvalidGrant("The code belongs to another client.");
  if (consumed->redirect_uri != redirect_uri) {
    return InvalidGrant("redirect_uri differs from the authorization request's.");
  }
  const std::string computed = core::Base64UrlEncode(core::Sha256(code_verifier));
  if (!IsValidVerifier(code_verifier) ||
      !core::ConstantTimeEquals(computed, consumed->code_challenge)) {
    return InvalidGrant("The code_verifier does not match the code_challenge.");
  }
  auto session = identity_.FindSession(consumed->session_id);
  if (!session.ok()) return std::move(session).error();
  if (session->tenant_id != realm.tenant.id) return InvalidGrant("The code is invalid.");
  auto user = identity_.FindUser(realm.tenant.id, session->user_id);
  if (!user.ok() || !user->active) return InvalidGrant("The user is not active.");
  std::string refresh = NewSecret();
  const core::EpochMillis expires_at = RefreshExpiry(*session, now);
  auto stored = identity_.StoreRefreshToken(core::Sha256Hex(refresh), session->id, expires_at);
  if (!stored.ok()) return std::move(stored).error();
  return Mint(realm, *user, *session, consumed->nonce, std::move(refresh), expires_at);
}

core::Result<TokenSet> IdpService::Refresh(const Realm& realm, const std::string& client_id,
                                           const std::string& refresh_token) {
  if (!IsPublicClient(client_id)) return InvalidClient();
  if (refresh_token.empty()) return InvalidRequest("refresh_token is required.");
  const std::string hash = core::Sha256Hex(refresh_token);
  // Checked before rotating: a token shown to the wrong realm or client must not be consumed,
  // or its rightful owner's next refresh would look like a reuse.
  auto owner = identity_.FindSessionByRefreshToken(hash);
  if (!owner.ok()) {
    if (owner.error().code != core::Code::kNotFound) return std::move(owner).error();
    return InvalidGrant("The refresh token is not active.");
  }
  if (owner->tenant_id != realm.tenant.id || owner->client_id != client_id) {
    return InvalidGrant("The refresh token was issued to another client.");
  }
  const core::EpochMillis now = clock_.NowMillis();
  if (now >= owner->created_at + options_.session_max_ttl) {
    auto revoked = identity_.RevokeSession(owner->id);
    if (!revoked.ok()) return std::move(revoked).error();
    return InvalidGrant("The session has expired; sign in again.");
  }
  std::string next = NewSecret();
  const core::EpochMillis expires_at = RefreshExpiry(*owner, now);
  auto session = identity_.RotateRefreshToken(hash, core::Sha256Hex(next), expires_at, now);
  if (!session.ok()) {
    const auto code = session.error().code;
    if (code == core::Code::kUnauthenticated) {
      return InvalidGrant("The refresh token was used before; the session is revoked.");
    }
    if (code == core::Code::kNotFound) return InvalidGrant("The refresh token is not active.");
    return std::move(session).error();
  }
  auto user = identity_.FindUser(realm.tenant.id, session->user_id);
  if (!user.ok() || !user->active) return InvalidGrant("The user is not active.");
  return Mint(realm, *user, *session, {}, std::move(next), expires_at);
}

core::Result<TokenSet> IdpService::PasswordGrant(const Realm& realm, const std::string& client_id,
                                                 const std::string& username,
                                                 const std::string& password,
                                                 const std::string& scope,
                                                 const std::string& client_ip) {
  if (!IsPublicClient(client_id)) return InvalidClient();
  if (client_id != kCliClient) {
    return OAuthError(core::Code::kBadRequest, "unauthorized_client",
                      "This client may not use the password grant.");
  }
  if (username.empty() || password.empty()) {
    return InvalidRequest("username and password are required.");
  }
  auto user = Login(realm, username, password, client_ip);
  if (!user.ok()) return std::move(user).error();
  MaybePurge();
  return StartSession(realm, *user, client_id, scope, {});
}

core::Result<TokenSet> IdpService::ClientCredentials(const Realm& realm,
                                                     const std::string& client_id,
                                                     const std::string& client_secret) {
  if (client_id.empty() || client_secret.empty()) return InvalidClient();
  auto key = directory_.FindApiKeyByHash(HashApiKeySecret(client_secret));
  if (!key.ok()) {
    if (key.error().code != core::Code::kNotFound) return std::move(key).error();
    return InvalidClient();
  }
  const core::EpochMillis now = clock_.NowMillis();
  if (key->id != client_id || key->tenant_id != realm.tenant.id || key->revoked_at ||
      (key->expires_at && *key->expires_at <= now)) {
    return InvalidClient();
  }
  auto signing = keys_.Current();
  if (!signing.ok()) return std::move(signing).error();
  const std::int64_t iat = Seconds(now);
  json::object access{
      {"iss", realm.issuer},
      {"sub", key->id},
      {"aud", kApiAudience},
      {"azp", key->id},
      {"typ", "Bearer"},
      {"iat", iat},
      {"exp", iat + Seconds(options_.access_token_ttl)},
      {"jti", core::Base64UrlEncode(core::RandomBytes(16))},
      {"realm_access", json::object{{"roles", json::array{model::RoleName(key->role)}}}},
      {"preferred_username", "service-account-" + key->id},
      {"scope", "profile"},
  };
  TokenSet tokens;
  tokens.access_token = signing->Sign(access);
  tokens.expires_in = Seconds(options_.access_token_ttl);
  tokens.scope = "profile";
  return tokens;
}

core::Result<std::string> IdpService::UserInfo(const Realm& realm,
                                               const std::string& access_token) {
  auto jwt = DecodeJwt(access_token);
  if (!jwt.ok()) return std::move(jwt).error();
  const auto keys = keys_.PublicKeys();
  const auto key = std::find_if(keys.begin(), keys.end(),
                                [&](const Jwk& candidate) { return candidate.kid == jwt->kid; });
  if (key == keys.end() || !VerifySignature(*jwt, *key)) {
    return InvalidToken("unknown kid or bad signature");
  }
  auto valid =
      ValidateClaims(*jwt, ClaimRules{realm.issuer, std::string(kApiAudience), clock_.NowMillis()});
  if (!valid.ok()) return std::move(valid).error();
  const auto* sub = jwt->claims.if_contains("sub");
  if (sub == nullptr || !sub->is_string()) return InvalidToken("no sub");
  const std::string subject(sub->get_string());
  const auto* sid = jwt->claims.if_contains("sid");
  if (sid == nullptr) {
    // A service account (client credentials): nothing beyond the token itself.
    const auto* name = jwt->claims.if_contains("preferred_username");
    json::object info{{"sub", subject}};
    if (name != nullptr) info["preferred_username"] = *name;
    return core::WriteJson(info);
  }
  if (!sid->is_string()) return InvalidToken("sid is not a string");
  auto session = identity_.FindSession(std::string(sid->get_string()));
  if (!session.ok() || session->revoked_at || session->tenant_id != realm.tenant.id ||
      session->user_id != subject) {
    return InvalidToken("session not active");
  }
  auto user = identity_.FindUser(realm.tenant.id, subject);
  if (!user.ok() || !user->active) return InvalidToken("user not active");
  json::object info{
      {"sub", user->id},
      {"preferred_username", user->username},
      {"realm_access", json::object{{"roles", json::array{model::RoleName(user->role)}}}},
  };
  if (!user->email.empty()) info["email"] = user->email;
  if (!user->display_name.empty()) info["name"] = user->display_name;
  return core::WriteJson(info);
}

core::Status IdpService::Logout(const Realm& realm, const std::string& client_id,
                                const std::string& refresh_token) {
  if (!IsPublicClient(client_id)) return InvalidClient();
  if (refresh_token.empty()) return InvalidRequest("refresh_token is required.");
  auto session = identity_.FindSessionByRefreshToken(core::Sha256Hex(refresh_token));
  if (!session.ok()) {
    if (session.error().code != core::Code::kNotFound) return std::move(session).error();
    return InvalidGrant("Invalid refresh token.");
  }
  if (session->tenant_id != realm.tenant.id || session->client_id != client_id) {
    return InvalidGrant("Invalid refresh token.");
  }
  return identity_.RevokeSession(session->id);
}

}  // namespace zebros::auth
