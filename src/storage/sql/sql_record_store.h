#pragma once

#include "core/ids.h"
#include "storage/record_store.h"
#include "storage/sql/engine.h"

namespace zebros::storage::sql {

// RecordStore over an Engine (SQLite or PostgreSQL): reads borrow a read session, writes are
// submitted per tenant and commit in groups (Engine::SubmitForTenant).
class SqlRecordStore final : public RecordStore {
 public:
  explicit SqlRecordStore(Engine& database) : database_(database) {}

  core::Result<model::Record> Get(const model::Principal& principal, const model::ObjectType& type,
                                  std::string_view id) override;
  core::Result<Page> List(const model::Principal& principal, const model::ObjectType& type,
                          const model::Query& query) override;
  void Apply(const model::Principal& principal, std::vector<Change> changes,
             std::optional<Idempotency> idempotency,
             std::function<void(ApplyOutcome)> done) override;

 private:
  Engine& database_;
};

}  // namespace zebros::storage::sql
