#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/work_pool.h"
#include "model/object_type.h"
#include "model/principal.h"
#include "model/query.h"
#include "model/record.h"

namespace zebros::storage {

// One write inside an atomic set of writes.
struct Change {
  enum class Kind { kCreate, kUpdate, kDelete, kRestore, kUpsert };
  Kind kind = Kind::kCreate;
  model::ObjectTypePtr type;
  // kCreate: the new record's id (issued by the caller). kUpsert: the id to use if no record
  // matches. Others: the target record.
  std::string id;
  // kCreate/kUpsert: the full set of values, already validated. kUpdate: a patch (null clears),
  // already validated field by field; presence rules are re-checked after the merge.
  boost::json::object values;
  // kUpdate/kDelete: when set, the record's current version must equal it (If-Match).
  std::optional<std::int64_t> expected_version;
  // kUpsert: the unique or indexed field that identifies the existing record.
  std::string upsert_key;
  // Where the change sits in the caller's request ("create[3]"); prefixes field errors.
  std::string label;
};

struct ChangeResult {
  model::Record record;  // the record after the change (deleted ones carry deleted_at)
  bool created = false;  // kUpsert: whether it created
};

// A response stored with an Idempotency-Key, replayed for a retry with the same key and body.
struct StoredResponse {
  int status = 0;
  std::string body;
  std::string location;
  std::string etag;
};

struct Idempotency {
  std::string key;
  std::string request_hash;  // of method, path and body
  // Renders the response for the results; runs on the writer thread inside the transaction, so
  // the stored response and the data commit together.
  std::function<StoredResponse(const std::vector<ChangeResult>&)> render;
};

struct ApplyOutcome {
  // The results in the order of the changes, or the error that rolled all of them back. Field
  // errors carry the change's label.
  core::Result<std::vector<ChangeResult>> results = std::vector<ChangeResult>{};
  // Set when an earlier request with the same idempotency key already did this work.
  std::optional<StoredResponse> replay;
};

struct Page {
  std::vector<model::Record> records;
  std::string next_cursor;  // empty on the last page
};

// Reads and writes records of any object type. Thread-safe. Every call is scoped to
// `principal.tenant_id`; records of other tenants behave exactly as missing ones.
class RecordStore {
 public:
  virtual ~RecordStore() = default;

  // kNotFound when no live record of `type` has `id` in the tenant.
  virtual core::Result<model::Record> Get(const model::Principal& principal,
                                          const model::ObjectType& type, std::string_view id) = 0;
  // Get, answered through `done`: later on an event loop thread when the store can wait for
  // its database without holding a thread (PostgreSQL), else before GetAsync returns. `type`
  // must live until `done` has run.
  virtual void GetAsync(const model::Principal& principal, const model::ObjectType& type,
                        std::string_view id,
                        std::function<void(core::Result<model::Record>)> done) {
    done(Get(principal, type, id));
  }
  // Filters, sorts and pages live records. kBadRequest (`invalid_cursor`) for a cursor that this
  // query did not issue.
  virtual core::Result<Page> List(const model::Principal& principal, const model::ObjectType& type,
                                  const model::Query& query) = 0;
  // List, answered through `done`. A read that holds a thread while its database works runs on
  // `workers` (nullptr: on the calling thread, before ListAsync returns; a full queue:
  // WorkPool::BusyError); one the store sends without holding a thread (PostgreSQL's ranked
  // searches) is answered later on an event loop thread. `type` must live until `done` has run.
  virtual void ListAsync(const model::Principal& principal, const model::ObjectType& type,
                         const model::Query& query, core::WorkPool* workers,
                         std::function<void(core::Result<Page>)> done) {
    ReadOn(
        workers, [this, principal, &type, query] { return List(principal, type, query); },
        std::move(done));
  }
  // Applies `changes` atomically: all or none. `done` runs once, on a storage thread, after the
  // outcome is durable. Errors: kNotFound (a target is missing), kPreconditionFailed (version),
  // kConflict (unique value taken), kValidation (presence after merge, dangling reference).
  virtual void Apply(const model::Principal& principal, std::vector<Change> changes,
                     std::optional<Idempotency> idempotency,
                     std::function<void(ApplyOutcome)> done) = 0;

  // A number that moves on with every committed write of the tenant's records, for caches of
  // read results: a result read after loading generation G reflects every write that moved it
  // up to G, on any node. The database's error when it cannot be told: then cache nothing.
  virtual core::Result<std::uint64_t> WriteGeneration(const std::string& tenant_id) const = 0;

 protected:
  // Runs `read` on one of `workers` (nullptr: here) and hands its page to `done`, for ListAsync.
  static void ReadOn(core::WorkPool* workers, std::function<core::Result<Page>()> read,
                     std::function<void(core::Result<Page>)> done) {
    if (workers == nullptr) return done(read());
    if (!workers->Post([read, done] { done(read()); })) done(core::WorkPool::BusyError());
  }
};

}  // namespace zebros::storage
