#include "storage/sql/search_index.h"

#include <map>

#include "storage/sql/record_codec.h"

namespace zebros::storage::sql {
namespace json = boost::json;

bool IsSearchableReference(const model::Field& field) {
  return field.type == model::FieldType::kReference && field.searchable && !field.custom;
}

const model::ObjectType* SearchIndex::FindType(const std::string& name) const {
  for (const auto& type : types_) {
    if (type->name == name) return type.get();
  }
  return nullptr;
}

core::Result<std::string> SearchIndex::RelatedText(Session& connection,
                                                   const model::ObjectType& type,
                                                   const std::string& tenant_id,
                                                   const json::object& values) {
  std::string text;
  for (const auto& field : type.fields) {
    if (!IsSearchableReference(field)) continue;
    const json::value* id = values.if_contains(field.name);
    const model::ObjectType* target = FindType(field.reference_target);
    if (id == nullptr || !id->is_string() || target == nullptr) continue;
    std::string columns;
    for (const auto& name : target->display_fields) {
      columns += (columns.empty() ? "\"" : ", \"") + name + "\"";
    }
    if (columns.empty()) continue;
    auto stmt = connection.Prepare("SELECT " + columns + " FROM " + TableName(*target) +
                                   " WHERE id = ? AND tenant_id = ?");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, id->get_string());
    stmt->BindText(2, tenant_id);
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) continue;
    for (int column = 0; column < stmt->ColumnCount(); ++column) {
      if (stmt->IsNull(column)) continue;
      if (!text.empty()) text.push_back(' ');
      text.append(stmt->Text(column));
    }
  }
  return text;
}

namespace {
// A tsvector of one parameter's terms, every lexeme of weight `weight`.
std::string PgVector(char weight) {
  return std::string("setweight(to_tsvector('simple', ?), '") + weight + "')";
}
}  // namespace

core::Result<std::vector<std::string>> SearchIndex::PgVectorParams(Session& connection,
                                                                   const model::ObjectType& type,
                                                                   const std::string& tenant_id,
                                                                   const json::object& values) {
  auto related = RelatedText(connection, type, tenant_id, values);
  if (!related.ok()) return std::move(related).error();
  const std::string body = SearchTerms(SearchText(type, values, false));
  const std::string related_terms = SearchTerms(*related);
  return std::vector<std::string>{body, related_terms, body, related_terms,
                                  SearchTerms(SearchText(type, values, true))};
}

// search_body for principals who see pii masked, search_all for the others. Weights: A own
// values, B related names, C pii; a related rename swaps out the B part alone (RefreshReferrers).
std::string SearchIndex::PgBodyVectorSql() { return PgVector('A') + " || " + PgVector('B'); }
std::string SearchIndex::PgAllVectorSql() {
  return PgVector('A') + " || " + PgVector('B') + " || " + PgVector('C');
}

core::Status SearchIndex::Write(Session& connection, const model::ObjectType& type,
                                const std::string& tenant_id, std::int64_t rowid,
                                const json::object& values, bool insert) {
  if (connection.dialect() == Dialect::kPostgres) {
    // The vectors live on the row itself (record writes set them with the row: see
    // PgVectorParams); this is for rows written without them (restore, transfer).
    auto params = PgVectorParams(connection, type, tenant_id, values);
    if (!params.ok()) return std::move(params).error();
    auto stmt =
        connection.Prepare("UPDATE " + TableName(type) + " SET search_body = " + PgBodyVectorSql() +
                           ", search_all = " + PgAllVectorSql() + " WHERE rowid = ?");
    if (!stmt.ok()) return std::move(stmt).error();
    int index = 1;
    for (const auto& param : *params) stmt->BindText(index++, param);
    stmt->BindInt(index, rowid);
    auto done = stmt->Step();
    if (!done.ok()) return std::move(done).error();
    return core::OkStatus();
  }
  auto related = RelatedText(connection, type, tenant_id, values);
  if (!related.ok()) return std::move(related).error();
  std::string body = SearchText(type, values, false);
  std::string pii = SearchText(type, values, true);
  const std::string fts = SearchTableName(type);
  return connection.RunOrDefer(
      {insert ? "INSERT INTO " + fts + " (body, related, pii, rowid) VALUES (?, ?, ?, ?)"
              : "UPDATE " + fts + " SET body = ?, related = ?, pii = ? WHERE rowid = ?",
       {std::move(body), std::move(*related), std::move(pii), rowid}});
}

core::Result<std::map<std::string, model::ObjectType>> TenantTypes(Session& session,
                                                                   const model::ObjectType& type) {
  std::map<std::string, model::ObjectType> types;
  auto stmt = session.Prepare(
      "SELECT tenant_id, definition FROM custom_fields WHERE object = ?"
      " ORDER BY tenant_id, created_at, name");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, type.name);
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    auto field = DecodeCustomField(stmt->Text(1));
    if (!field) continue;
    auto [entry, added] = types.try_emplace(std::string(stmt->Text(0)), type);
    entry->second.fields.push_back(std::move(*field));
  }
  return types;
}

core::Status SearchIndex::Rebuild(Session& connection, const model::ObjectType& type) {
  auto tenant_types = TenantTypes(connection, type);
  if (!tenant_types.ok()) return std::move(tenant_types).error();
  std::vector<std::string> tenants;
  {
    auto stmt = connection.Prepare("SELECT DISTINCT tenant_id FROM " + TableName(type));
    if (!stmt.ok()) return std::move(stmt).error();
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) break;
      tenants.emplace_back(stmt->Text(0));
    }
  }
  for (const auto& tenant_id : tenants) {
    const auto custom = tenant_types->find(tenant_id);
    const model::ObjectType& tenant_type = custom == tenant_types->end() ? type : custom->second;
    auto stmt =
        connection.Prepare("SELECT " + SelectColumns(tenant_type) + " FROM " + TableName(type) +
                           " o WHERE o.tenant_id = ? AND o.deleted_at IS NULL");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindText(1, tenant_id);
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) break;
      std::int64_t rowid = 0;
      const model::Record record = DecodeRecord(*stmt, tenant_type, rowid);
      auto status = Write(connection, tenant_type, tenant_id, rowid, record.values, true);
      if (!status.ok()) return status;
    }
  }
  return core::OkStatus();
}

core::Status SearchIndex::Remove(Session& connection, const model::ObjectType& type,
                                 std::int64_t rowid) {
  return connection.RunOrDefer(
      {connection.dialect() == Dialect::kPostgres
           ? "UPDATE " + TableName(type) +
                 " SET search_body = NULL, search_all = NULL WHERE rowid = ?"
           : "DELETE FROM " + SearchTableName(type) + " WHERE rowid = ?",
       {rowid}});
}

core::Status SearchIndex::RefreshReferrers(Session& connection, const model::ObjectType& type,
                                           const std::string& tenant_id, const std::string& id,
                                           const json::object& previous,
                                           const json::object& current) {
  bool renamed = false;
  for (const auto& name : type.display_fields) {
    const json::value* before = previous.if_contains(name);
    const json::value* after = current.if_contains(name);
    const bool before_set = before != nullptr && !before->is_null();
    const bool after_set = after != nullptr && !after->is_null();
    renamed = renamed || before_set != after_set || (before_set && *before != *after);
  }
  if (!renamed) return core::OkStatus();
  for (const auto& referrer : types_) {
    for (const auto& field : referrer->fields) {
      if (!IsSearchableReference(field) || field.reference_target != type.name) continue;
      // Every searchable reference of the referrer is read, since `related` joins them all.
      std::string columns;
      std::vector<std::string> names;
      for (const auto& other : referrer->fields) {
        if (!IsSearchableReference(other)) continue;
        columns += ", \"" + other.name + "\"";
        names.push_back(other.name);
      }
      auto stmt = connection.Prepare("SELECT rowid" + columns + " FROM " + TableName(*referrer) +
                                     " WHERE tenant_id = ? AND \"" + field.name + "\" = ?");
      if (!stmt.ok()) return std::move(stmt).error();
      stmt->BindText(1, tenant_id);
      stmt->BindText(2, id);
      std::vector<std::pair<std::int64_t, json::object>> rows;
      for (;;) {
        auto row = stmt->Step();
        if (!row.ok()) return std::move(row).error();
        if (!*row) break;
        json::object refs;
        for (std::size_t i = 0; i < names.size(); ++i) {
          const int column = static_cast<int>(i) + 1;
          if (!stmt->IsNull(column)) refs[names[i]] = json::string(stmt->Text(column));
        }
        rows.emplace_back(stmt->Int(0), std::move(refs));
      }
      const std::string fts = SearchTableName(*referrer);
      for (const auto& [rowid, refs] : rows) {
        auto related = RelatedText(connection, *referrer, tenant_id, refs);
        if (!related.ok()) return std::move(related).error();
        auto status =
            connection.dialect() == Dialect::kPostgres
                ? connection.RunOrDefer(
                      {"UPDATE " + TableName(*referrer) +
                           " SET search_body = ts_filter(search_body, '{a}') || " + PgVector('B') +
                           ", search_all = ts_filter(search_all, '{a,c}') || " + PgVector('B') +
                           " WHERE rowid = ?",
                       {SearchTerms(*related), SearchTerms(*related), rowid}})
                : connection.RunOrDefer(
                      {"UPDATE " + fts + " SET related = ? WHERE rowid = ?", {*related, rowid}});
        if (!status.ok()) return status;
      }
    }
  }
  return core::OkStatus();
}

}  // namespace zebros::storage::sql
