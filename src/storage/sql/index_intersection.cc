#include "storage/sql/index_intersection.h"

#include <cstdint>
#include <limits>
#include <set>
#include <tuple>

#include "storage/sql/record_codec.h"
#include "storage/sql/record_scope.h"

namespace zebros::storage::sql {
namespace json = boost::json;

namespace {

// How many entries a stream steps through before it seeks instead: a seek costs a statement
// reset and a B-tree descent, a step a few hundred nanoseconds.
constexpr int kStepsBeforeSeek = 8;

// An index entry's place in the list order.
struct Key {
  std::int64_t created_at = 0;
  std::int64_t rowid = 0;
  bool operator==(const Key&) const = default;
};

// Whether `a` comes before `b` in the list order.
bool Before(const Key& a, const Key& b, bool descending) {
  const auto ta = std::tie(a.created_at, a.rowid), tb = std::tie(b.created_at, b.rowid);
  return descending ? ta > tb : ta < tb;
}

// One field's index entries, in list order, from a bound on.
class IndexStream {
 public:
  IndexStream(Session& session, const std::string& table, const std::string& tenant_id,
              const IntersectionPlan::Stream& spec, bool descending)
      : session_(session), tenant_id_(tenant_id), value_(spec.value), descending_(descending) {
    const char* dir = descending ? " DESC" : "";
    sql_ = "SELECT o.created_at, o.rowid FROM " + table + " o INDEXED BY " + spec.index +
           " WHERE o.tenant_id = ? AND o.deleted_at IS NULL AND " + spec.column +
           " = ? AND (o.created_at, o.rowid) " + (descending ? "<=" : ">=") +
           " (?, ?) ORDER BY o.created_at" + dir + ", o.rowid" + dir;
  }

  const Key& key() const { return key_; }

  // Positions at the first entry at or after `bound`; false when there is none.
  core::Result<bool> Seek(const Key& bound) {
    statement_.reset();  // finishes the previous scan before the same text is prepared again
    auto stmt = session_.Prepare(sql_);
    if (!stmt.ok()) return std::move(stmt).error();
    statement_.emplace(std::move(stmt).value());
    statement_->BindText(1, tenant_id_);
    BindSqlValue(*statement_, 2, value_);
    statement_->BindInt(3, bound.created_at);
    statement_->BindInt(4, bound.rowid);
    return Step();
  }

  core::Result<bool> Step() {
    auto row = statement_->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return false;
    key_ = {statement_->Int(0), statement_->Int(1)};
    return true;
  }

  // Moves to the first entry at or after `target`: a few steps, then a seek.
  core::Result<bool> AdvanceTo(const Key& target) {
    for (int i = 0; i < kStepsBeforeSeek; ++i) {
      if (!Before(key_, target, descending_)) return true;
      auto stepped = Step();
      if (!stepped.ok() || !*stepped) return stepped;
    }
    if (!Before(key_, target, descending_)) return true;
    return Seek(target);
  }

 private:
  Session& session_;
  const std::string& tenant_id_;
  const json::value& value_;
  const bool descending_;
  std::string sql_;
  std::optional<Statement> statement_;
  Key key_;
};

// The ANDed conditions of `node`, flattened; false when it holds anything else (an OR).
bool CollectConjuncts(const model::FilterNode& node, std::vector<const model::Condition*>& into) {
  switch (node.kind) {
    case model::FilterNode::Kind::kCondition:
      into.push_back(&node.condition);
      return true;
    case model::FilterNode::Kind::kAnd:
      for (const auto& child : node.children) {
        if (!CollectConjuncts(child, into)) return false;
      }
      return true;
    case model::FilterNode::Kind::kOr:
      return false;
  }
  return false;
}

// The keys of the common entries, in list order: up to `want` of them, from `start` on.
core::Result<std::vector<Key>> CommonEntries(std::vector<IndexStream>& streams, const Key& start,
                                             std::size_t want, bool descending) {
  std::vector<Key> found;
  for (auto& stream : streams) {
    auto positioned = stream.Seek(start);
    if (!positioned.ok()) return std::move(positioned).error();
    if (!*positioned) return found;
  }
  while (found.size() < want) {
    // Aim at the stream furthest along: no common entry lies before it.
    Key target = streams.front().key();
    for (const auto& stream : streams) {
      if (Before(target, stream.key(), descending)) target = stream.key();
    }
    bool aligned = true;
    for (auto& stream : streams) {
      auto advanced = stream.AdvanceTo(target);
      if (!advanced.ok()) return std::move(advanced).error();
      if (!*advanced) return found;                    // a field has no more entries
      if (!(stream.key() == target)) aligned = false;  // it passed the target: aim further
    }
    if (!aligned) continue;
    found.push_back(target);
    for (auto& stream : streams) {
      auto stepped = stream.Step();
      if (!stepped.ok()) return std::move(stepped).error();
      if (!*stepped) return found;
    }
  }
  return found;
}

}  // namespace

std::optional<IntersectionPlan> PlanIntersection(const model::ObjectType& type,
                                                 const model::Principal& principal,
                                                 const model::Query& query, Dialect dialect) {
  if (dialect != Dialect::kSqlite || !query.text.empty() || !query.filter) return std::nullopt;
  std::vector<json::value> scope_params;
  if (!ScopeCondition(type, principal, scope_params).empty()) return std::nullopt;
  IntersectionPlan plan;
  if (query.sort.size() > 1) return std::nullopt;
  if (query.sort.size() == 1) {
    if (query.sort.front().field != "created_at") return std::nullopt;
    plan.descending = query.sort.front().descending;
  }
  std::vector<const model::Condition*> conditions;
  if (!CollectConjuncts(*query.filter, conditions) || conditions.size() < 2) return std::nullopt;
  std::set<std::string_view> fields;
  for (const auto* condition : conditions) {
    const model::Field* field = type.FindField(condition->field);
    if (field == nullptr || field->custom || !field->indexed || field->unique ||
        field->type == model::FieldType::kTags || condition->op != model::FilterOp::kEq ||
        condition->value.is_null() || !fields.insert(field->name).second) {
      return std::nullopt;
    }
    auto ref = ResolveColumn(type, field->name, dialect);
    if (!ref || ref->custom) return std::nullopt;
    plan.streams.push_back(
        {"ix_" + type.name + "_" + field->name, ref->expr, ToSqlValue(*ref, condition->value)});
  }
  return plan;
}

core::Result<Page> ListByIntersection(Session& session, const model::ObjectType& type,
                                      const model::Principal& principal,
                                      const IntersectionPlan& plan, const CompiledQuery& compiled) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  // After a cursor's row comes the first entry strictly past it, i.e. at or past the next rowid.
  Key start = plan.descending ? Key{kMax, kMax} : Key{kMin, kMin};
  if (!compiled.cursor_keys.empty()) {
    const auto& keys = compiled.cursor_keys;
    if (keys.size() != 2 || !keys[0].is_int64() || !keys[1].is_int64()) {
      return core::MakeError(core::Code::kBadRequest, "invalid_cursor",
                             "The cursor does not belong to this query.");
    }
    const std::int64_t rowid = keys[1].get_int64();
    if (rowid == kMin || rowid == kMax) {
      return core::MakeError(core::Code::kBadRequest, "invalid_cursor",
                             "The cursor does not belong to this query.");
    }
    start = {keys[0].get_int64(), plan.descending ? rowid - 1 : rowid + 1};
  }
  // One snapshot for the index walk and the rows it leads to.
  auto begun = session.Exec("BEGIN");
  if (!begun.ok()) return std::move(begun).error();
  auto finish = [&session](core::Result<Page> page) -> core::Result<Page> {
    auto ended = session.Exec(page.ok() ? "COMMIT" : "ROLLBACK");
    if (page.ok() && !ended.ok()) return std::move(ended).error();
    return page;
  };
  const std::string table = TableName(type);
  std::vector<Key> keys;
  {
    std::vector<IndexStream> streams;
    streams.reserve(plan.streams.size());
    for (const auto& spec : plan.streams) {
      streams.emplace_back(session, table, principal.tenant_id, spec, plan.descending);
    }
    auto common = CommonEntries(streams, start, static_cast<std::size_t>(compiled.limit) + 1,
                                plan.descending);
    if (!common.ok()) return finish(std::move(common).error());
    keys = std::move(common).value();
  }
  Page page;
  const std::size_t rows = std::min(keys.size(), static_cast<std::size_t>(compiled.limit));
  page.records.reserve(rows);
  const std::string fetch = "SELECT " + SelectColumns(type) + " FROM " + table +
                            " o WHERE o.rowid = ? AND o.tenant_id = ? AND o.deleted_at IS NULL";
  {
    // One statement for every row (reset in between), finished before the transaction ends.
    auto stmt = session.Prepare(fetch);
    if (!stmt.ok()) return finish(std::move(stmt).error());
    const json::storage_ptr arena = PageArena(compiled.limit);
    for (std::size_t i = 0; i < rows; ++i) {
      if (i > 0) stmt->Reset();
      stmt->BindInt(1, keys[i].rowid);
      stmt->BindText(2, principal.tenant_id);
      auto row = stmt->Step();
      if (!row.ok()) {
        stmt->Reset();
        return finish(std::move(row).error());
      }
      if (*row) {
        std::int64_t rowid = 0;
        page.records.push_back(DecodeRecord(*stmt, type, rowid, arena));
      }
    }
  }
  if (keys.size() > rows) {
    json::array last{keys[rows - 1].created_at, keys[rows - 1].rowid};
    page.next_cursor = EncodeKeysetCursor(compiled.signature, last);
  }
  return finish(std::move(page));
}

}  // namespace zebros::storage::sql
