#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/token_identity.h"
#include "core/clock.h"

namespace zebros::auth {

// Identities of tokens already verified, keyed by the SHA-256 of the token, kept until the
// token expires (exp plus the allowed skew). Bounded: when full, expired entries go first, then
// those closest to expiry. Thread-safe.
class VerifiedTokenCache {
 public:
  VerifiedTokenCache(std::size_t max_entries, core::EpochMillis skew_millis)
      : max_entries_(max_entries), skew_millis_(skew_millis) {}

  // The identity cached for `token_hash`, or nullopt when absent or expired at `now`.
  std::optional<TokenIdentity> Find(const std::string& token_hash, core::EpochMillis now);
  // Caches `identity` unless Clear() ran since `generation` was read: a verification that began
  // under an older configuration must not repopulate the cache after it was cleared.
  void Insert(const std::string& token_hash, const TokenIdentity& identity, core::EpochMillis now,
              std::uint64_t generation);
  // Drops every entry and starts a new generation.
  void Clear();
  std::uint64_t generation() const;
  std::size_t size() const;

 private:
  struct Entry {
    TokenIdentity identity;
    std::multimap<core::EpochMillis, std::string>::iterator by_expiry;
  };
  void EraseLocked(std::unordered_map<std::string, Entry>::iterator it);

  const std::size_t max_entries_;
  const core::EpochMillis skew_millis_;
  mutable std::mutex mutex_;
  std::uint64_t generation_ = 0;                                // GUARDED_BY(mutex_)
  std::unordered_map<std::string, Entry> entries_;              // GUARDED_BY(mutex_)
  std::multimap<core::EpochMillis, std::string> expiry_order_;  // GUARDED_BY(mutex_)
};

}  // namespace zebros::auth
