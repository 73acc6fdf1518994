#include "auth/api_keys.h"

#include <cctype>

#include "core/crypto.h"

namespace zebros::auth {
namespace {
constexpr std::string_view kKeyPrefix = "zbk_";
constexpr std::size_t kMaxCredentialLength = 4096;

core::Error Unauthenticated(std::string message) {
  return core::MakeError(core::Code::kUnauthenticated, "unauthenticated", std::move(message));
}
}  // namespace

std::string NewApiKeySecret() {
  return std::string(kKeyPrefix) + core::Base64UrlEncode(core::RandomBytes(32));
}

std::string HashApiKeySecret(std::string_view secret) { return core::Sha256Hex(secret); }

core::Result<model::Principal> ApiKeyAuthenticator::Authenticate(
    const std::string* authorization_header) {
  if (authorization_header == nullptr) {
    return Unauthenticated("This request needs a credential: Authorization: Bearer <key>.");
  }
  const std::string_view header = *authorization_header;
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() > kMaxCredentialLength || header.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Unauthenticated("The Authorization header must be 'Bearer <key>'.");
  }
  const std::string_view secret = header.substr(kScheme.size());
  if (secret.substr(0, kKeyPrefix.size()) != kKeyPrefix) {
    return Unauthenticated("The credential is not valid.");
  }
  const std::string hash = HashApiKeySecret(secret);
  const core::EpochMillis now = clock_.NowMillis();
  {
    std::lock_guard lock(mutex_);
    auto found = cache_.find(hash);
    if (found != cache_.end() && now - found->second.cached_at < kCacheTtl &&
        (!found->second.expires_at || *found->second.expires_at > now)) {
      return found->second.principal;
    }
  }
  auto key = directory_.FindApiKeyByHash(hash);
  if (!key.ok()) {
    if (key.error().code == core::Code::kNotFound) {
      return Unauthenticated("The credential is not valid.");
    }
    return std::move(key).error();
  }
  if (key->revoked_at || (key->expires_at && *key->expires_at <= now)) {
    return Unauthenticated("The credential is not valid.");
  }
  // At most one write a minute per key (and per process) keeps "last used" useful and cheap.
  if (!key->last_used_at || now - *key->last_used_at > kLastUsedResolution) {
    directory_.TouchApiKey(key->id, now);
  }
  model::Principal principal{key->tenant_id, key->tenant_name, "key:" + key->id, key->role,
                             key->tenant_number};
  std::lock_guard lock(mutex_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_[hash] = Entry{principal, key->expires_at, now};
  return principal;
}

void ApiKeyAuthenticator::Forget(const std::string& secret_hash) {
  std::lock_guard lock(mutex_);
  cache_.erase(secret_hash);
}

void ApiKeyAuthenticator::ForgetKey(const std::string& key_id) {
  const std::string subject = "key:" + key_id;
  std::lock_guard lock(mutex_);
  std::erase_if(
      cache_, [&subject](const auto& entry) { return entry.second.principal.subject == subject; });
}

}  // namespace zebros::auth
