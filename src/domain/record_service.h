#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>

#include "core/ids.h"
#include "core/result.h"
#include "model/object_type.h"
#include "model/principal.h"
#include "model/query.h"
#include "storage/record_store.h"

namespace zebros::domain {

// The generic engine's entry point for every object type: validates input against the type's
// schema, issues ids, and hands atomic change sets to the RecordStore. Knows nothing of HTTP.
// Thread-safe. Completion callbacks run on a storage thread.
//
// PII: for a principal with `mask_pii`, every record this class returns — from Get and List, in
// the outcome of every write, and in a response stored with an Idempotency-Key — has its pii
// fields masked (domain/pii_mask.h), and queries that filter or sort on a pii field, or batch
// upserts keyed by one, fail with kForbidden `forbidden`.
class RecordService {
 public:
  using Done = std::function<void(storage::ApplyOutcome)>;

  RecordService(storage::RecordStore& store, core::IdGenerator& ids) : store_(store), ids_(ids) {}

  core::Result<model::Record> Get(const model::Principal& principal, const model::ObjectType& type,
                                  std::string_view id);
  // Get, answered through `done` (see RecordStore::GetAsync: `type` must live until then).
  void GetAsync(const model::Principal& principal, const model::ObjectType& type,
                std::string_view id, std::function<void(core::Result<model::Record>)> done);
  // `text_values`: condition values came from a query string (see NormalizeQuery).
  core::Result<storage::Page> List(const model::Principal& principal, const model::ObjectType& type,
                                   model::Query query, bool text_values);
  // List, answered through `done`; reads that hold a thread run on `workers` (see
  // RecordStore::ListAsync: `type` must live until `done` has run).
  void ListAsync(const model::Principal& principal, const model::ObjectType& type,
                 model::Query query, bool text_values, core::WorkPool* workers,
                 std::function<void(core::Result<storage::Page>)> done);

  void Create(const model::Principal& principal, const model::ObjectTypePtr& type,
              const boost::json::object& body, std::optional<storage::Idempotency> idempotency,
              Done done);
  void Update(const model::Principal& principal, const model::ObjectTypePtr& type,
              const std::string& id, const boost::json::object& body,
              std::optional<std::int64_t> expected_version, Done done);
  void Delete(const model::Principal& principal, const model::ObjectTypePtr& type,
              const std::string& id, std::optional<std::int64_t> expected_version, Done done);
  void Restore(const model::Principal& principal, const model::ObjectTypePtr& type,
               const std::string& id, Done done);

  // {"create":[…],"update":[{"id":…,…}],"upsert":{"key":…,"records":[…]},"delete":[ids]}:
  // at most kMaxBatchOperations, applied in that order, all or nothing. Results come back in the
  // same order. Field errors are labelled "create[2].email", with the operation's index.
  void Batch(const model::Principal& principal, const model::ObjectTypePtr& type,
             const boost::json::object& body, std::optional<storage::Idempotency> idempotency,
             Done done);

  // Moves on after each committed write of the caller's tenant (RecordStore::WriteGeneration).
  core::Result<std::uint64_t> WriteGeneration(const model::Principal& principal) const {
    return store_.WriteGeneration(principal.tenant_id);
  }

  static constexpr std::size_t kMaxBatchOperations = 200;

 private:
  // Refuses what the principal may not query and normalises the rest, for List and ListAsync.
  static core::Status CheckListQuery(const model::Principal& principal,
                                     const model::ObjectType& type, model::Query& query,
                                     bool text_values);

  storage::RecordStore& store_;
  core::IdGenerator& ids_;
};

}  // namespace zebros::domain
