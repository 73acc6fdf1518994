#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "model/object_type.h"
#include "model/principal.h"
#include "storage/directory_store.h"

namespace zebros::domain {

// The object types as each tenant sees them: the built-in definitions plus the tenant's custom
// fields. Types are immutable snapshots; adding a field publishes a new snapshot at once on this
// node. Other nodes sharing the database reload a tenant's snapshot once it is kFreshness old, so
// a field added anywhere is usable everywhere within that time. Thread-safe.
class SchemaRegistry {
 public:
  SchemaRegistry(storage::DirectoryStore& directory, std::vector<model::ObjectTypePtr> builtin);

  // kNotFound for an unknown object name.
  core::Result<model::ObjectTypePtr> Find(const model::Principal& principal,
                                          std::string_view object);
  core::Result<std::vector<model::ObjectTypePtr>> All(const model::Principal& principal);

  // Validates and stores a custom field definition; `done` (on a storage thread) gets the field
  // as stored. kValidation for a bad definition, kConflict for a name in use, kNotFound for an
  // unknown object.
  void AddField(const model::Principal& principal, const std::string& object,
                const boost::json::object& definition,
                std::function<void(core::Result<model::Field>)> done);

  static constexpr std::size_t kMaxCustomFields = 200;
  static constexpr std::chrono::milliseconds kFreshness{1000};

 private:
  using TypeSet = std::shared_ptr<const std::vector<model::ObjectTypePtr>>;
  core::Result<TypeSet> TypesFor(const std::string& tenant_id);
  void Invalidate(const std::string& tenant_id);

  storage::DirectoryStore& directory_;
  const std::vector<model::ObjectTypePtr> builtin_;
  std::mutex mutex_;
  struct Cached {
    TypeSet types;
    std::chrono::steady_clock::time_point loaded_at;
  };
  std::unordered_map<std::string, Cached> by_tenant_;  // guarded by mutex_
  std::uint64_t generation_ = 0;                       // guarded by mutex_; bumped by Invalidate
};

}  // namespace zebros::domain
