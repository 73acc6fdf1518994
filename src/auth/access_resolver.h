#pragma once

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/principal.h"
#include "storage/directory_store.h"

namespace zebros::auth {

// Completes an authenticated principal with what decides its record scope: the tenant's scope
// settings for its role and, when a `team` scope applies, the user's team mates. Both are cached
// briefly (kCacheTtl) so a request costs no directory read; changes made through this process
// apply at once (Invalidate), changes made elsewhere within kCacheTtl. Thread-safe.
class AccessResolver {
 public:
  AccessResolver(storage::DirectoryStore& directory, const core::Clock& clock)
      : directory_(directory), clock_(clock) {}

  core::Status Resolve(model::Principal& principal);
  void Invalidate(const std::string& tenant_id);

  static constexpr core::EpochMillis kCacheTtl = 5000;

 private:
  template <typename T>
  struct Cached {
    T value;
    core::EpochMillis at = 0;
  };
  static constexpr std::size_t kMaxCached = 10000;

  core::Result<std::vector<storage::ScopeSetting>> Scopes(const std::string& tenant_id);
  core::Result<std::vector<std::string>> Mates(const std::string& tenant_id,
                                               const std::string& user_id);

  storage::DirectoryStore& directory_;
  const core::Clock& clock_;
  std::mutex mutex_;
  // Guarded by mutex_.
  std::unordered_map<std::string, Cached<std::vector<storage::ScopeSetting>>> scopes_;
  std::unordered_map<std::string, Cached<std::vector<std::string>>> mates_;  // tenant/user
};

}  // namespace zebros::auth
