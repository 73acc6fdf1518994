#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "core/ids.h"
#include "storage/record_store.h"
#include "storage/sql/engine.h"

namespace zebros::storage::sql {

struct CompiledQuery;

// RecordStore over an Engine (SQLite or PostgreSQL): reads borrow a read session, writes are
// submitted per tenant and commit in groups (Engine::SubmitForTenant).
class SqlRecordStore final : public RecordStore {
 public:
  explicit SqlRecordStore(Engine& database) : database_(database) {}

  core::Result<model::Record> Get(const model::Principal& principal, const model::ObjectType& type,
                                  std::string_view id) override;
  void GetAsync(const model::Principal& principal, const model::ObjectType& type,
                std::string_view id,
                std::function<void(core::Result<model::Record>)> done) override;
  core::Result<Page> List(const model::Principal& principal, const model::ObjectType& type,
                          const model::Query& query) override;
  // Ranked searches through Engine::SearchAsync when it takes them; the rest as ListAsync says.
  void ListAsync(const model::Principal& principal, const model::ObjectType& type,
                 const model::Query& query, core::WorkPool* workers,
                 std::function<void(core::Result<Page>)> done) override;
  void Apply(const model::Principal& principal, std::vector<Change> changes,
             std::optional<Idempotency> idempotency,
             std::function<void(ApplyOutcome)> done) override;
  // SQLite: a counter of this process's commits, complete because `serve` is the database's one
  // writer (app/serve_lock.h). PostgreSQL: the tenant's audit head, which every record write
  // moves in its own transaction on whichever node (other audited writes move it too: a spare
  // miss) — one primary-key read.
  core::Result<std::uint64_t> WriteGeneration(const std::string& tenant_id) const override;

 private:
  // List once the query is compiled (List compiles it; ListAsync did already).
  core::Result<Page> ListCompiled(const model::Principal& principal, const model::ObjectType& type,
                                  const model::Query& query, const CompiledQuery& compiled);

  // Tenants share slots by hash: a write of one only costs its slot-mates a cache miss.
  static constexpr std::size_t kGenerationSlots = 64;
  std::atomic<std::uint64_t>& GenerationSlot(const std::string& tenant_id) const;

  Engine& database_;
  mutable std::array<std::atomic<std::uint64_t>, kGenerationSlots> generations_{};
};

}  // namespace zebros::storage::sql
