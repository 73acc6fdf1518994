#include "auth/authenticator.h"

#include <cctype>

#include "auth/jwt.h"
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
  // API keys keep their own, cheaper path; everything else that says Bearer is a token.
  if (header == nullptr || StartsWithNoCase(*header, kApiKeyPrefix) ||
      !StartsWithNoCase(*header, "Bearer ")) {
    return keys_.Authenticate(header);
  }
  std::string_view token = std::string_view(*header).substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return FromToken(token);
}

core::Result<model::Principal> Authenticator::FromToken(std::string_view token) {
  auto identity = tokens_.Verify(token);
  if (!identity.ok() && RegisterRealm(token)) identity = tokens_.Verify(token);
  if (!identity.ok()) {
    core::Log(core::LogLevel::kInfo, "token refused", {{"reason", identity.error().detail}});
    return std::move(identity).error();
  }
  auto tenant = Tenant(identity->tenant_name);
  if (!tenant.ok()) return std::move(tenant).error();
  return UserPrincipal(*identity, *tenant);
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
  std::erase_if(
      users_, [&user_id](const auto& entry) { return entry.second.principal.user_id == user_id; });
}

}  // namespace zebros::auth
