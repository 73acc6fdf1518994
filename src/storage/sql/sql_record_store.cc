#include "storage/sql/sql_record_store.h"

#include <memory>

#include "storage/sql/audit_log.h"
#include "storage/sql/change_applier.h"
#include "storage/sql/index_intersection.h"
#include "storage/sql/query_compiler.h"
#include "storage/sql/record_codec.h"
#include "storage/sql/record_scope.h"

namespace zebros::storage::sql {
namespace json = boost::json;

namespace {

// The read of one live record by id, within the principal's scope.
struct GetQuery {
  std::string sql;
  std::vector<json::value> params;
};

GetQuery GetQueryFor(const model::Principal& principal, const model::ObjectType& type,
                     std::string_view id) {
  GetQuery query;
  query.params = {json::value(json::string(id)), json::value(principal.tenant_id)};
  const std::string scope = ScopeCondition(type, principal, query.params);
  query.sql = "SELECT " + SelectColumns(type) + " FROM " + TableName(type) +
              " o WHERE o.id = ? AND o.tenant_id = ? AND o.deleted_at IS NULL" + scope;
  return query;
}

core::Result<model::Record> GotRecord(core::Result<Statement> stmt, const model::ObjectType& type) {
  if (!stmt.ok()) return std::move(stmt).error();
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) {
    return core::MakeError(core::Code::kNotFound, "not_found",
                           "No " + type.singular + " has this id.");
  }
  std::int64_t rowid = 0;
  return DecodeRecord(*stmt, type, rowid);
}

// The page a compiled list or search statement reads, with the cursor to the next one.
core::Result<Page> ReadPage(core::Result<Statement> stmt, const model::ObjectType& type,
                            const CompiledQuery& compiled) {
  if (!stmt.ok()) return std::move(stmt).error();
  Page page;
  json::array last_keys;
  page.records.reserve(static_cast<std::size_t>(compiled.limit));
  const json::storage_ptr arena = PageArena(compiled.limit);
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    if (static_cast<int>(page.records.size()) == compiled.limit) {
      page.next_cursor = compiled.rank_order
                             ? EncodeOffsetCursor(compiled.signature,
                                                  compiled.offset + compiled.limit, compiled.window)
                             : EncodeKeysetCursor(compiled.signature, last_keys);
      break;
    }
    std::int64_t rowid = 0;
    page.records.push_back(DecodeRecord(*stmt, type, rowid, arena));
    if (compiled.sort_key_count > 0) {
      last_keys.clear();
      const int first = stmt->ColumnCount() - compiled.sort_key_count;
      for (int column = first; column < stmt->ColumnCount(); ++column) {
        switch (stmt->Kind(column)) {
          case ColumnKind::kInt:
            last_keys.emplace_back(stmt->Int(column));
            break;
          case ColumnKind::kDouble:
            last_keys.emplace_back(stmt->Double(column));
            break;
          case ColumnKind::kNull:
            last_keys.emplace_back(nullptr);
            break;
          case ColumnKind::kText:
            last_keys.emplace_back(json::string(stmt->Text(column)));
            break;
        }
      }
    }
  }
  return page;
}

}  // namespace

core::Result<model::Record> SqlRecordStore::Get(const model::Principal& principal,
                                                const model::ObjectType& type,
                                                std::string_view id) {
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  const GetQuery query = GetQueryFor(principal, type, id);
  return GotRecord(PrepareBound(**reader, query.sql, query.params), type);
}

void SqlRecordStore::GetAsync(const model::Principal& principal, const model::ObjectType& type,
                              std::string_view id,
                              std::function<void(core::Result<model::Record>)> done) {
  const GetQuery query = GetQueryFor(principal, type, id);
  // `type` outlives the read: object types are shared and kept by whoever called.
  database_.ReadAsync(query.sql, query.params,
                      [&type, done = std::move(done)](core::Result<Statement> stmt) {
                        // The statement is reset here, not after `done` has answered the request
                        // (SQLite: it would keep its read open meanwhile).
                        auto record = GotRecord(std::move(stmt), type);
                        done(std::move(record));
                      });
}

core::Result<Page> SqlRecordStore::List(const model::Principal& principal,
                                        const model::ObjectType& type, const model::Query& query) {
  auto compiled = CompileQuery(type, principal, query, database_.dialect());
  if (!compiled.ok()) return std::move(compiled).error();
  return ListCompiled(principal, type, query, *compiled);
}

core::Result<Page> SqlRecordStore::ListCompiled(const model::Principal& principal,
                                                const model::ObjectType& type,
                                                const model::Query& query,
                                                const CompiledQuery& compiled) {
  if (compiled.empty_result) return Page{};
  auto reader = compiled.rank_order ? database_.SearchReader() : database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  if (auto plan = PlanIntersection(type, principal, query, database_.dialect())) {
    return ListByIntersection(**reader, type, principal, *plan, compiled);
  }
  return ReadPage(PrepareBound(**reader, compiled.sql, compiled.params), type, compiled);
}

void SqlRecordStore::ListAsync(const model::Principal& principal, const model::ObjectType& type,
                               const model::Query& query, core::WorkPool* workers,
                               std::function<void(core::Result<Page>)> done) {
  auto compiled = CompileQuery(type, principal, query, database_.dialect());
  if (!compiled.ok()) return done(std::move(compiled).error());
  if (compiled->empty_result) return done(Page{});
  auto shared = std::make_shared<const CompiledQuery>(std::move(compiled).value());
  // A ranked search is one statement (index intersections are SQLite's plans for filtered
  // lists), sent without a thread waiting for it when the engine can; lists hold one.
  if (shared->rank_order) {
    Engine::ReadDone read = [&type, shared, done](core::Result<Statement> stmt) {
      auto page = ReadPage(std::move(stmt), type, *shared);  // the statement is reset here
      done(std::move(page));
    };
    if (database_.SearchAsync(shared->sql, shared->params, std::move(read))) return;
  }
  ReadOn(
      workers,
      [this, principal, &type, query, shared] {
        return ListCompiled(principal, type, query, *shared);
      },
      std::move(done));
}

void SqlRecordStore::Apply(const model::Principal& principal, std::vector<Change> changes,
                           std::optional<Idempotency> idempotency,
                           std::function<void(ApplyOutcome)> done) {
  auto applier =
      std::make_shared<ChangeApplier>(principal, std::move(changes), std::move(idempotency),
                                      database_.clock(), database_.types(), database_.audit_log());
  database_.SubmitForTenant(
      principal.tenant_id, [applier](Session& connection) { return applier->Run(connection); },
      [this, applier, tenant = principal.tenant_id, done = std::move(done)](core::Status status) {
        // Moved on whatever the outcome (a failed group changes nothing; a spare miss is cheap),
        // and before `done`, so a reader told of the write never trusts an older result.
        GenerationSlot(tenant).fetch_add(1, std::memory_order_acq_rel);
        done(applier->TakeOutcome(std::move(status)));
      });
}

std::atomic<std::uint64_t>& SqlRecordStore::GenerationSlot(const std::string& tenant_id) const {
  return generations_[std::hash<std::string>{}(tenant_id) % kGenerationSlots];
}

core::Result<std::uint64_t> SqlRecordStore::WriteGeneration(const std::string& tenant_id) const {
  if (database_.dialect() == Dialect::kSqlite) {
    return GenerationSlot(tenant_id).load(std::memory_order_acquire);
  }
  auto reader = database_.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare("SELECT seq FROM audit_heads WHERE tenant_id = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, tenant_id);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  return *row ? static_cast<std::uint64_t>(stmt->Int(0)) : std::uint64_t{0};
}

}  // namespace zebros::storage::sql
