#include "storage/sql/transfer.h"

#include <algorithm>
#include <map>
#include <optional>

#include "storage/sql/record_codec.h"
#include "storage/sql/search_index.h"
#include "storage/sql/sql_audit_store.h"

namespace zebros::storage::sql {
namespace json = boost::json;

namespace {

// Every table of an install but the object tables, tenants first so references hold. The
// search index is not copied: each dialect lays out its own from the records.
constexpr const char* kTables[] = {
    "tenants",
    "audit_keys",
    "api_keys",
    "custom_fields",
    "idempotency_keys",
    "users",
    "teams",
    "team_members",
    "record_scopes",
    "idp_sessions",
    "idp_refresh_tokens",
    "idp_auth_codes",
    "idp_signing_keys",
    "audit_log",
    "audit_heads",
};

using Row = std::vector<json::value>;

core::Error Mismatch(std::string message) {
  return core::MakeError(core::Code::kInternal, "transfer_mismatch", message, message);
}

core::Result<std::vector<std::string>> ColumnsOf(Session& session, const std::string& table) {
  auto stmt = session.Prepare(session.dialect() == Dialect::kSqlite
                                  ? "SELECT name FROM pragma_table_info(?)"
                                  : "SELECT column_name FROM information_schema.columns WHERE"
                                    " table_schema = current_schema() AND table_name = ?"
                                    " ORDER BY ordinal_position");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, table);
  std::vector<std::string> columns;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    columns.emplace_back(stmt->Text(0));
  }
  return columns;
}

core::Result<std::int64_t> CountRows(Engine& engine, const std::string& table) {
  auto reader = engine.Reader();
  if (!reader.ok()) return std::move(reader).error();
  auto stmt = (*reader)->Prepare("SELECT COUNT(*) FROM " + table);
  if (!stmt.ok()) return std::move(stmt).error();
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  return stmt->Int(0);
}

json::value ReadValue(const Statement& stmt, int column) {
  switch (stmt.Kind(column)) {
    case ColumnKind::kNull:
      return nullptr;
    case ColumnKind::kInt:
      return stmt.Int(column);
    case ColumnKind::kDouble:
      return stmt.Double(column);
    case ColumnKind::kText:
      break;
  }
  return json::string(stmt.Text(column));
}

void BindValue(Statement& stmt, int index, const json::value& value) {
  if (value.is_null()) {
    stmt.BindNull(index);
  } else if (value.is_int64()) {
    stmt.BindInt(index, value.get_int64());
  } else if (value.is_double()) {
    stmt.BindDouble(index, value.get_double());
  } else {
    stmt.BindText(index, value.get_string());
  }
}

// The columns both sides have, in the source's order (the target's object tables carry search
// columns of their own; a newer target may have columns the source lacks).
core::Result<std::vector<std::string>> SharedColumns(Engine& source, Engine& target,
                                                     const std::string& table) {
  auto source_reader = source.Reader();
  if (!source_reader.ok()) return std::move(source_reader).error();
  auto from = ColumnsOf(**source_reader, table);
  if (!from.ok()) return std::move(from).error();
  auto target_reader = target.Reader();
  if (!target_reader.ok()) return std::move(target_reader).error();
  auto to = ColumnsOf(**target_reader, table);
  if (!to.ok()) return std::move(to).error();
  std::vector<std::string> shared;
  for (const auto& column : *from) {
    for (const auto& other : *to) {
      if (column == other) shared.push_back(column);
    }
  }
  if (shared.empty()) return Mismatch("table " + table + " has no columns in common");
  return shared;
}

class TableCopier {
 public:
  TableCopier(Engine& source, Engine& target, const TransferOptions& options,
              const std::function<void(const TransferProgress&)>& progress)
      : source_(source), target_(target), options_(options), progress_(progress) {}

  // Copies `table`; for an object table (`type` set) also indexes each batch for search.
  core::Status Copy(const std::string& table, const model::ObjectType* type) {
    auto columns = SharedColumns(source_, target_, table);
    if (!columns.ok()) return std::move(columns).error();
    auto total = CountRows(source_, table);
    if (!total.ok()) return std::move(total).error();
    if (type != nullptr) {
      auto reader = source_.Reader();
      if (!reader.ok()) return std::move(reader).error();
      auto tenant_types = TenantTypes(**reader, *type);
      if (!tenant_types.ok()) return std::move(tenant_types).error();
      tenant_types_ = std::move(tenant_types).value();
    }
    // PostgreSQL keeps a record's search vectors on its row: they go in with it, computed here
    // (the related names read from the source), instead of an UPDATE of every row afterwards.
    with_vectors_ = type != nullptr && target_.dialect() == Dialect::kPostgres;
    std::string list;
    row_placeholders_ = "(";
    for (std::size_t i = 0; i < columns->size(); ++i) {
      list += (i ? ", " : "") + (*columns)[i];
      row_placeholders_ += i ? ", ?" : "?";
    }
    const std::string source_list = list;
    if (with_vectors_) {
      // A soft-deleted record has no vectors (SearchIndex::Remove): the flag before each.
      list += ", search_body, search_all";
      row_placeholders_ += ", CASE WHEN ? = 1 THEN NULL ELSE " + SearchIndex::PgBodyVectorSql() +
                           " END, CASE WHEN ? = 1 THEN NULL ELSE " + SearchIndex::PgAllVectorSql() +
                           " END";
    }
    row_placeholders_ += ")";
    insert_head_ = "INSERT INTO " + table + " (" + list + ") VALUES ";
    insert_tail_.clear();
    if (table == "audit_keys") {
      // The target made a key of its own when it was opened; the source's digests need theirs.
      insert_tail_ = " ON CONFLICT (name) DO UPDATE SET secret = excluded.secret";
    } else if (options_.resume) {
      insert_tail_ = " ON CONFLICT DO NOTHING";
    }

    auto reader = source_.Reader();
    if (!reader.ok()) return std::move(reader).error();
    // Object tables in key order, so a batch is one range of rowids to index afterwards.
    auto stmt = (*reader)->Prepare("SELECT " + source_list + " FROM " + table +
                                   (type != nullptr ? " ORDER BY rowid" : ""));
    if (!stmt.ok()) return std::move(stmt).error();
    // The same rows again, in the same order and read transaction, as records to index.
    std::optional<Statement> records;
    if (with_vectors_) {
      auto decode = (*reader)->Prepare("SELECT " + SelectColumns(*type) + ", o.tenant_id FROM " +
                                       table + " o ORDER BY o.rowid");
      if (!decode.ok()) return std::move(decode).error();
      records.emplace(std::move(decode).value());
    }
    SearchIndex search(target_.types());
    TransferProgress progress{table, 0, *total};
    progress_(progress);
    std::vector<Row> batch;
    const int width = static_cast<int>(columns->size());
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return std::move(row).error();
      if (*row) {
        Row values;
        values.reserve(columns->size() + (with_vectors_ ? 7 : 0));
        for (int column = 0; column < width; ++column) values.push_back(ReadValue(*stmt, column));
        if (with_vectors_) {
          auto status = AppendVectorParams(**reader, *records, *type, search, values);
          if (!status.ok()) return status;
        }
        batch.push_back(std::move(values));
      }
      if (batch.size() >= static_cast<std::size_t>(options_.batch_rows) ||
          (!*row && !batch.empty())) {
        auto status = WriteBatch(batch, *columns, type);
        if (!status.ok()) return status;
        progress.copied += static_cast<std::int64_t>(batch.size());
        progress_(progress);
        batch.clear();
      }
      if (!*row) break;
    }
    return core::OkStatus();
  }

 private:
  // Steps `records` to the row just read and appends its search flag and vector texts to
  // `values`, in the order row_placeholders_ takes them.
  core::Status AppendVectorParams(Session& source, Statement& records,
                                  const model::ObjectType& type, SearchIndex& search, Row& values) {
    auto row = records.Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) return Mismatch("table " + TableName(type) + " changed while it was copied");
    std::string tenant_id(records.Text(records.ColumnCount() - 1));
    const auto custom = tenant_types_.find(tenant_id);
    const model::ObjectType* tenant_type = custom == tenant_types_.end() ? &type : &custom->second;
    std::int64_t rowid = 0;
    const model::Record record = DecodeRecord(records, *tenant_type, rowid);
    const std::int64_t deleted = record.deleted_at ? 1 : 0;
    std::vector<std::string> texts(5);
    if (!deleted) {
      auto params = search.PgVectorParams(source, *tenant_type, tenant_id, record.values);
      if (!params.ok()) return std::move(params).error();
      texts = std::move(params).value();
    }
    values.push_back(deleted);
    values.push_back(json::string(texts[0]));
    values.push_back(json::string(texts[1]));
    values.push_back(deleted);
    for (std::size_t i = 2; i < texts.size(); ++i) values.push_back(json::string(texts[i]));
    return core::OkStatus();
  }

  // Inserts `rows` with multi-row INSERTs of a bounded parameter count (PostgreSQL takes at
  // most 65,535 per statement, SQLite 32,766).
  core::Status InsertRows(Session& session, const std::vector<Row>& rows) {
    if (rows.empty()) return core::OkStatus();
    const std::size_t width = rows.front().size();
    const std::size_t per_statement =
        std::max<std::size_t>(1, std::min<std::size_t>(500, 30000 / width));
    for (std::size_t first = 0; first < rows.size(); first += per_statement) {
      const std::size_t count = std::min(per_statement, rows.size() - first);
      std::string sql = insert_head_;
      for (std::size_t i = 0; i < count; ++i) sql += (i ? ", " : "") + row_placeholders_;
      sql += insert_tail_;
      auto stmt = session.Prepare(sql);
      if (!stmt.ok()) return std::move(stmt).error();
      int index = 1;
      for (std::size_t i = first; i < first + count; ++i) {
        for (const auto& value : rows[i]) BindValue(*stmt, index++, value);
      }
      auto done = stmt->Step();
      if (!done.ok()) return std::move(done).error();
    }
    return core::OkStatus();
  }

  core::Status WriteBatch(const std::vector<Row>& batch, const std::vector<std::string>& columns,
                          const model::ObjectType* type) {
    return target_.Run([&](Session& session) -> core::Status {
      auto inserted = InsertRows(session, batch);
      if (!inserted.ok()) return inserted;
      if (type == nullptr || with_vectors_) return core::OkStatus();
      std::int64_t first = 0, last = 0;
      for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i] != "rowid") continue;
        first = batch.front()[i].as_int64();
        last = batch.back()[i].as_int64();
      }
      return IndexRange(session, *type, first, last);
    });
  }

  // Lays out the search entries of the live records with rowids in [first, last].
  core::Status IndexRange(Session& session, const model::ObjectType& type, std::int64_t first,
                          std::int64_t last) {
    SearchIndex search(target_.types());
    // The tenant comes last: DecodeRecord reads the record's columns from the first on.
    auto stmt =
        session.Prepare("SELECT " + SelectColumns(type) + ", o.tenant_id FROM " + TableName(type) +
                        " o WHERE o.rowid BETWEEN ? AND ? AND o.deleted_at IS NULL");
    if (!stmt.ok()) return std::move(stmt).error();
    stmt->BindInt(1, first);
    stmt->BindInt(2, last);
    struct Entry {
      std::string tenant_id;
      std::int64_t rowid;
      json::object values;
      const model::ObjectType* type;
    };
    std::vector<Entry> entries;
    for (;;) {
      auto row = stmt->Step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) break;
      std::string tenant_id(stmt->Text(stmt->ColumnCount() - 1));
      const auto custom = tenant_types_.find(tenant_id);
      const model::ObjectType* tenant_type =
          custom == tenant_types_.end() ? &type : &custom->second;
      std::int64_t rowid = 0;
      model::Record record = DecodeRecord(*stmt, *tenant_type, rowid);
      entries.push_back({std::move(tenant_id), rowid, std::move(record.values), tenant_type});
    }
    for (const auto& entry : entries) {
      auto status =
          search.Write(session, *entry.type, entry.tenant_id, entry.rowid, entry.values, true);
      if (!status.ok()) return status;
    }
    return core::OkStatus();
  }

  Engine& source_;
  Engine& target_;
  const TransferOptions& options_;
  const std::function<void(const TransferProgress&)>& progress_;
  // One multi-row INSERT: head, row_placeholders_ once per row (comma-separated), tail.
  std::string insert_head_;
  std::string row_placeholders_;
  std::string insert_tail_;
  bool with_vectors_ = false;
  std::map<std::string, model::ObjectType> tenant_types_;
};

// Moves the target's generated keys past the copied ones, so the next insert does not collide.
core::Status AdvanceSequences(Engine& target) {
  if (target.dialect() != Dialect::kPostgres) return core::OkStatus();
  std::vector<std::pair<std::string, std::string>> keys = {{"audit_log", "seq"}};
  for (const auto& type : target.types()) keys.emplace_back(TableName(*type), "rowid");
  return target.Run([&keys](Session& session) -> core::Status {
    for (const auto& [table, column] : keys) {
      auto stmt = session.Prepare("SELECT setval(pg_get_serial_sequence('" + table + "', '" +
                                  column + "'), GREATEST(COALESCE((SELECT MAX(" + column +
                                  ") FROM " + table + "), 0), 1))");
      if (!stmt.ok()) return std::move(stmt).error();
      auto row = stmt->Step();
      if (!row.ok()) return std::move(row).error();
    }
    return core::OkStatus();
  });
}

}  // namespace

core::Result<TransferReport> Transfer(
    Engine& source, Engine& target, const TransferOptions& options,
    const std::function<void(const TransferProgress&)>& progress) {
  auto tenants = CountRows(target, "tenants");
  if (!tenants.ok()) return std::move(tenants).error();
  if (*tenants > 0 && !options.resume) {
    return core::MakeError(core::Code::kConflict, "target_not_empty",
                           "The target database already holds data; transfer into an empty "
                           "one, or pass --resume to finish an interrupted transfer.");
  }
  std::vector<std::pair<std::string, const model::ObjectType*>> tables;
  for (const char* table : kTables) tables.emplace_back(table, nullptr);
  // Built-in types are listed referenced-first (accounts before contacts), so a record's search
  // entry finds the names it points to.
  for (const auto& type : target.types()) tables.emplace_back(TableName(*type), type.get());

  TableCopier copier(source, target, options, progress);
  for (const auto& [table, type] : tables) {
    auto status = copier.Copy(table, type);
    if (!status.ok()) return std::move(status).error();
  }
  auto advanced = AdvanceSequences(target);
  if (!advanced.ok()) return std::move(advanced).error();

  TransferReport report;
  for (const auto& [table, type] : tables) {
    TableCount count{table, 0, 0};
    auto from = CountRows(source, table);
    if (!from.ok()) return std::move(from).error();
    auto to = CountRows(target, table);
    if (!to.ok()) return std::move(to).error();
    count.source = *from;
    count.target = *to;
    if (count.source != count.target) {
      return Mismatch("table " + table + ": " + std::to_string(count.source) +
                      " rows in the source, " + std::to_string(count.target) + " in the target");
    }
    report.tables.push_back(count);
  }
  SqlAuditStore audit(target);
  auto verified = audit.Verify();
  if (!verified.ok()) return std::move(verified).error();
  if (!verified->ok) {
    return Mismatch("the copied audit chain of tenant " + verified->tenant_id +
                    " breaks at entry " + std::to_string(verified->seq) + ": " + verified->reason);
  }
  report.audit_entries = verified->entries;
  return report;
}

}  // namespace zebros::storage::sql
