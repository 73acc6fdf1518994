#include "auth/token_cache.h"

namespace zebros::auth {

std::optional<TokenIdentity> VerifiedTokenCache::Find(const std::string& token_hash,
                                                      core::EpochMillis now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(token_hash);
  if (it == entries_.end()) return std::nullopt;
  if (now >= it->second.identity.expires_at + skew_millis_) {
    EraseLocked(it);
    return std::nullopt;
  }
  return it->second.identity;
}

void VerifiedTokenCache::Insert(const std::string& token_hash, const TokenIdentity& identity,
                                core::EpochMillis now, std::uint64_t generation) {
  if (max_entries_ == 0) return;
  std::lock_guard lock(mutex_);
  if (generation != generation_) return;
  auto existing = entries_.find(token_hash);
  if (existing != entries_.end()) EraseLocked(existing);
  // Expired entries first; then, if still full, the ones that would expire soonest.
  while (!expiry_order_.empty() &&
         (expiry_order_.begin()->first + skew_millis_ <= now || entries_.size() >= max_entries_)) {
    EraseLocked(entries_.find(expiry_order_.begin()->second));
  }
  auto order = expiry_order_.emplace(identity.expires_at, token_hash);
  entries_.emplace(token_hash, Entry{identity, order});
}

void VerifiedTokenCache::Clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  expiry_order_.clear();
  ++generation_;
}

std::uint64_t VerifiedTokenCache::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

std::size_t VerifiedTokenCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void VerifiedTokenCache::EraseLocked(std::unordered_map<std::string, Entry>::iterator it) {
  expiry_order_.erase(it->second.by_expiry);
  entries_.erase(it);
}

}  // namespace zebros::auth
