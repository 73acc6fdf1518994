#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/result.h"
#include "model/principal.h"
#include "storage/directory_store.h"

namespace zebros::auth {

// A new API key secret: "zbk_" + 256 random bits, base64url.
std::string NewApiKeySecret();
// What is stored for a secret: its SHA-256 (the secret has 256 bits of entropy, so a fast hash
// is safe here, unlike for passwords).
std::string HashApiKeySecret(std::string_view secret);

// Turns an `Authorization` header into a Principal. Caches verified keys briefly so the hot path
// does no database read; a revoked key stops working within kCacheTtl across processes, at once
// within this one (Forget). Thread-safe.
class ApiKeyAuthenticator {
 public:
  ApiKeyAuthenticator(storage::DirectoryStore& directory, const core::Clock& clock)
      : directory_(directory), clock_(clock) {}

  // kUnauthenticated (`unauthenticated`) for a missing, malformed, unknown, expired or revoked
  // credential; kUnavailable when the directory cannot be read.
  core::Result<model::Principal> Authenticate(const std::string* authorization_header);
  void Forget(const std::string& secret_hash);
  // Drops the cached entry of the key with this id (after a revocation).
  void ForgetKey(const std::string& key_id);

  static constexpr core::EpochMillis kCacheTtl = 5000;
  static constexpr core::EpochMillis kLastUsedResolution = 60000;

 private:
  struct Entry {
    model::Principal principal;
    std::optional<core::EpochMillis> expires_at;
    core::EpochMillis cached_at = 0;
  };
  static constexpr std::size_t kMaxCached = 10000;

  storage::DirectoryStore& directory_;
  const core::Clock& clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;  // by secret hash; guarded by mutex_
};

}  // namespace zebros::auth
