#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "model/object_type.h"

namespace zebros::api {

// Rendered list and search pages, answered again while nothing they could show has changed.
// An entry is good only for the tenant's write generation it was read at
// (RecordService::WriteGeneration, loaded before the read) and the very schema snapshot it was
// rendered with (the entry keeps the type alive, so its address cannot be reused). The key
// names everything else a page depends on (see ApiHandler's PageKey). Bounded by the bytes of
// the bodies it holds; least recently used entries go first. Thread-safe. Correct with many
// nodes: on PostgreSQL the generation is the tenant's audit head, which every node's record
// writes move.
class PageCache {
 public:
  explicit PageCache(std::size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  std::optional<std::string> Find(const std::string& key, std::uint64_t generation,
                                  const model::ObjectTypePtr& type);
  void Store(const std::string& key, std::uint64_t generation, model::ObjectTypePtr type,
             std::string body);

  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Entry {
    std::string key;
    std::uint64_t generation = 0;
    model::ObjectTypePtr type;
    std::string body;
  };
  using Lru = std::list<Entry>;  // most recently used first

  void EraseLocked(Lru::iterator entry);
  static std::size_t Cost(const Entry& entry) { return entry.key.size() + entry.body.size(); }

  const std::size_t capacity_bytes_;
  mutable std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // views into lru_'s keys
  std::size_t bytes_ = 0;
};

}  // namespace zebros::api
