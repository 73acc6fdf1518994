#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace zebros::auth {

struct ThrottleOptions {
  // This many failures within `window` lock the key until the oldest of them leaves the window.
  std::size_t max_failures = 5;
  core::EpochMillis window = 60000;
  // Bound on tracked keys; when full, keys whose failures all left the window are dropped
  // first, then arbitrary ones (memory stays bounded under a spray of usernames).
  std::size_t max_keys = 100000;
};

// Counts failed logins per key (an account, an IP) in a sliding window. Thread-safe; time comes
// from the injected clock.
class LoginThrottle {
 public:
  explicit LoginThrottle(const core::Clock& clock, ThrottleOptions options = {})
      : clock_(clock), options_(options) {}

  // Milliseconds until `key` may try again; 0 when it may try now.
  core::EpochMillis RetryAfter(const std::string& key);
  void RecordFailure(const std::string& key);
  // Forgets the key's failures (after a successful login).
  void Reset(const std::string& key);

 private:
  void Prune(std::deque<core::EpochMillis>& failures, core::EpochMillis now) const;
  void MakeRoom(core::EpochMillis now);  // REQUIRES: mutex_ held

  const core::Clock& clock_;
  const ThrottleOptions options_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<core::EpochMillis>> failures_;  // guarded by mutex_
};

}  // namespace zebros::auth
