#include "auth/login_throttle.h"

namespace zebros::auth {

void LoginThrottle::Prune(std::deque<core::EpochMillis>& failures, core::EpochMillis now) const {
  while (!failures.empty() && failures.front() <= now - options_.window) failures.pop_front();
}

core::EpochMillis LoginThrottle::RetryAfter(const std::string& key) {
  const core::EpochMillis now = clock_.NowMillis();
  std::lock_guard lock(mutex_);
  auto found = failures_.find(key);
  if (found == failures_.end()) return 0;
  auto& failures = found->second;
  Prune(failures, now);
  if (failures.size() < options_.max_failures) return 0;
  // Allowed again once enough failures left the window to drop below the limit.
  const core::EpochMillis freed = failures[failures.size() - options_.max_failures];
  return freed + options_.window - now;
}

void LoginThrottle::RecordFailure(const std::string& key) {
  const core::EpochMillis now = clock_.NowMillis();
  std::lock_guard lock(mutex_);
  if (failures_.size() >= options_.max_keys && failures_.find(key) == failures_.end()) {
    MakeRoom(now);
  }
  auto& failures = failures_[key];
  Prune(failures, now);
  failures.push_back(now);
  // Only the newest max_failures matter for the verdict.
  while (failures.size() > options_.max_failures) failures.pop_front();
}

void LoginThrottle::Reset(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

void LoginThrottle::MakeRoom(core::EpochMillis now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    Prune(it->second, now);
    it = it->second.empty() ? failures_.erase(it) : std::next(it);
  }
  while (failures_.size() >= options_.max_keys) failures_.erase(failures_.begin());
}

}  // namespace zebros::auth
