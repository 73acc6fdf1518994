#include "auth/authenticator.h"

#include <algorithm>
#include <cctype>

#include "auth/jwt.h"
#include "core/crypto.h"
#include "core/log.h"

namespace zebros::auth {
namespace {

constexpr std::string_view kApiKeyPrefix = "Bearer zbk_";

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

core::Error NoRole() {
  return core::MakeError(core::Code::kForbidden, "forbidden",
                         "Your token carries no role that Zebros knows.");
}

}  // namespace

core::Result<model::Principal> Authenticator::Authenticate(const std::string* header) {
  // A credential with a dot is meant as a JWT (API keys have none): any fault is invalid_token.
  // Anything else is judged as an API key, with its own, cheaper path and `unauthenticated`.
  if (header == nullptr || StartsWithNoCase(*header, kApiKeyPrefix) ||
      !StartsWithNoCase(*header, "Bearer ")) {
    return keys_.Authenticate(header);
  }
  std::string_view token = std::string_view(*header).substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (token.find('.') == std::string_view::npos) return keys_.Authenticate(header);
  return FromToken(token);
}

core::Result<model::Principal> Authenticator::FromToken(std::string_view token) {
  const core::EpochMillis now = clock_.NowMillis();
  const std::string hash = core::Sha256Hex(token);
  const std::uint64_t generation = tokens_.CacheGeneration();
  {
    std::lock_guard lock(mutex_);
    auto found = token_principals_.find(hash);
    if (found != token_principals_.end()) {
      const CachedToken& cached = found->second;
      if (now < cached.expires_at && now - cached.at < kUserCacheTtl &&
          cached.generation == generation) {
        return cached.principal;
      }
      token_principals_.erase(found);
    }
  }
  auto verified = FromTokenUncached(token);
  if (!verified.ok()) return std::move(verified).error();
  verified->at = now;
  verified->generation = generation;
  std::lock_guard lock(mutex_);
  if (token_principals_.size() >= kMaxCached) token_principals_.clear();
  token_principals_[hash] = *verified;
  return verified->principal;
}

core::Result<Authenticator::CachedToken> Authenticator::FromTokenUncached(std::string_view token) {
  auto identity = tokens_.Verify(token);
  if (!identity.ok() && RegisterRealm(token)) identity = tokens_.Verify(token);
  if (!identity.ok()) {
    core::Log(core::LogLevel::kInfo, "token refused", {{"reason", identity.error().detail}});
    return std::move(identity).error();
  }
  auto tenant = Tenant(identity->tenant_name);
  if (!tenant.ok()) return std::move(tenant).error();
  auto principal = UserPrincipal(*identity, *tenant);
  if (!principal.ok()) return std::move(principal).error();
  CachedToken verified;
  verified.principal = std::move(principal).value();
  verified.expires_at = identity->expires_at;
  return verified;
}

bool Authenticator::RegisterRealm(std::string_view token) {
  auto jwt = DecodeJwt(token);
  if (!jwt.ok()) return false;
  const auto* iss = jwt->claims.if_contains("iss");
  if (iss == nullptr || !iss->is_string()) return false;
  const std::string issuer(iss->get_string());
  const std::string prefix = builtin_.realms_prefix();
  if (!issuer.starts_with(prefix)) return false;
  const std::string tenant_name = issuer.substr(prefix.size());
  if (tenant_name.empty() || tenant_name.find('/') != std::string::npos) return false;
  {
    std::lock_guard lock(mutex_);
    if (realms_.count(issuer)) return false;
  }
  // Only realms of existing tenants: a flood of made-up issuers must not grow the verifier.
  if (!Tenant(tenant_name).ok()) return false;
  {
    std::lock_guard lock(mutex_);
    if (!realms_.insert(issuer).second) return false;
  }
  tokens_.AddIssuer(OidcIssuer{issuer, tenant_name, /*built_in=*/true}, builtin_.keys());
  return true;
}

core::Result<storage::TenantInfo> Authenticator::Tenant(const std::string& name) {
  const core::EpochMillis now = clock_.NowMillis();
  {
    std::lock_guard lock(mutex_);
    auto found = tenants_.find(name);
    if (found != tenants_.end() && now - found->second.second < kUserCacheTtl) {
      return found->second.first;
    }
  }
  auto tenant = directory_.FindTenantByName(name);
  if (!tenant.ok()) {
    if (tenant.error().code == core::Code::kNotFound) {
      return InvalidToken("the token's tenant does not exist");
    }
    return std::move(tenant).error();
  }
  std::lock_guard lock(mutex_);
  if (tenants_.size() >= kMaxCached) tenants_.clear();
  tenants_[name] = {*tenant, now};
  return tenant;
}

core::Result<model::Principal> Authenticator::UserPrincipal(const TokenIdentity& identity,
                                                            const storage::TenantInfo& tenant) {
  const core::EpochMillis now = clock_.NowMillis();
  const std::string cache_key = identity.issuer + "\n" + identity.subject + "\n" +
                                (identity.role ? std::string(model::RoleName(*identity.role)) : "");
  {
    std::lock_guard lock(mutex_);
    auto found = users_.find(cache_key);
    if (found != users_.end() && now - found->second.at < kUserCacheTtl &&
        found->second.principal.tenant_id == tenant.id) {
      return found->second.principal;
    }
  }
  model::Principal principal;
  principal.tenant_id = tenant.id;
  principal.tenant_name = tenant.name;
  principal.tenant_number = tenant.number;
  const bool builtin = identity.issuer.starts_with(builtin_.realms_prefix());
  if (builtin && identity.subject.starts_with("key_")) {
    // A service account: the client_credentials grant of an API key.
    auto key = directory_.FindApiKey(tenant.id, identity.subject);
    if (!key.ok() || key->revoked_at || (key->expires_at && *key->expires_at <= now)) {
      return InvalidToken("the token's API key is revoked, expired or unknown");
    }
    principal.subject = "key:" + key->id;
    principal.role = key->role;
  } else if (builtin) {
    auto user = identities_.FindUser(tenant.id, identity.subject);
    if (!user.ok() || !user->active) return InvalidToken("the token's user is unknown or inactive");
    principal.subject = user->id;
    principal.user_id = user->id;
    principal.role = user->role;
  } else {
    if (!identity.role) return NoRole();
    storage::NewUser seen;
    seen.tenant_id = tenant.id;
    seen.issuer = identity.issuer;
    seen.external_subject = identity.subject;
    seen.username = identity.username.empty() ? identity.subject : identity.username;
    seen.email = identity.email;
    seen.role = *identity.role;
    auto user = identities_.UpsertExternalUser(seen);
    if (!user.ok()) return std::move(user).error();
    if (!user->active) return InvalidToken("the token's user is deactivated");
    principal.subject = identity.subject;
    principal.user_id = user->id;
    principal.role = *identity.role;
  }
  std::lock_guard lock(mutex_);
  if (users_.size() >= kMaxCached) users_.clear();
  users_[cache_key] = {principal, now};
  return principal;
}

void Authenticator::ForgetUser(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  auto theirs = [&user_id](const auto& entry) { return entry.second.principal.user_id == user_id; };
  std::erase_if(users_, theirs);
  std::erase_if(token_principals_, theirs);
}

void Authenticator::ForgetKey(const std::string& key_id) {
  keys_.ForgetKey(key_id);
  // Service-account tokens of the key (client credentials) die with it.
  const std::string subject = "key:" + key_id;
  std::lock_guard lock(mutex_);
  auto its = [&subject](const auto& entry) { return entry.second.principal.subject == subject; };
  std::erase_if(users_, its);
  std::erase_if(token_principals_, its);
}

}  // namespace zebros::auth
