#include "api/page_cache.h"

#include <iterator>

namespace zebros::api {

std::optional<std::string> PageCache::Find(const std::string& key, std::uint64_t generation,
                                           const model::ObjectTypePtr& type) {
  std::lock_guard lock(mutex_);
  auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  auto entry = found->second;
  if (entry->generation != generation || entry->type != type) {
    EraseLocked(entry);  // it can never be good again: generations only grow
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, entry);
  return entry->body;
}

void PageCache::Store(const std::string& key, std::uint64_t generation, model::ObjectTypePtr type,
                      std::string body) {
  // One page may not crowd out the rest.
  if (key.size() + body.size() > capacity_bytes_ / 8) return;
  std::lock_guard lock(mutex_);
  auto found = index_.find(key);
  if (found != index_.end()) {
    // A reader that loaded an older generation must not replace a newer page.
    if (found->second->generation > generation) return;
    EraseLocked(found->second);
  }
  lru_.push_front(Entry{key, generation, std::move(type), std::move(body)});
  index_.emplace(lru_.front().key, lru_.begin());
  bytes_ += Cost(lru_.front());
  while (bytes_ > capacity_bytes_ && !lru_.empty()) EraseLocked(std::prev(lru_.end()));
}

void PageCache::EraseLocked(Lru::iterator entry) {
  bytes_ -= Cost(*entry);
  index_.erase(entry->key);
  lru_.erase(entry);
}

std::size_t PageCache::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

std::size_t PageCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace zebros::api
