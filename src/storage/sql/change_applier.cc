#include "storage/sql/change_applier.h"

#include <boost/json/parse.hpp>

#include "core/json.h"
#include "model/presence.h"
#include "storage/audit_diff.h"
#include "storage/sql/dialect.h"
#include "storage/sql/record_codec.h"
#include "storage/sql/record_scope.h"

namespace zebros::storage::sql {
namespace json = boost::json;

namespace {
constexpr core::EpochMillis kIdempotencyWindowMs = 24LL * 3600 * 1000;

core::Error NotFound(const model::ObjectType& type) {
  return core::MakeError(core::Code::kNotFound, "not_found",
                         "No " + type.singular + " has this id.");
}

core::Error Validation(std::vector<core::FieldError> errors) {
  core::Error error =
      core::MakeError(core::Code::kValidation, "validation_failed", "The record is invalid.");
  error.field_errors = std::move(errors);
  return error;
}

int IndexOfLabel(const std::string& label) {
  const auto open = label.find('[');
  if (open == std::string::npos) return -1;
  try {
    return std::stoi(label.substr(open + 1));
  } catch (...) {
    return -1;
  }
}
}  // namespace

ChangeApplier::ChangeApplier(model::Principal principal, std::vector<Change> changes,
                             std::optional<Idempotency> idempotency, const core::Clock& clock,
                             const std::vector<model::ObjectTypePtr>& builtin_types,
                             const AuditLog& audit_log)
    : search_(builtin_types),
      principal_(std::move(principal)),
      changes_(std::move(changes)),
      idempotency_(std::move(idempotency)),
      clock_(clock),
      audit_log_(audit_log) {}

core::Status ChangeApplier::Run(Session& connection) {
  results_.clear();
  replay_.reset();
  now_ = clock_.NowMillis();
  if (idempotency_) {
    auto replayed = CheckIdempotency(connection);
    if (!replayed.ok()) return std::move(replayed).error();
    if (*replayed) return core::OkStatus();
  }
  for (const auto& change : changes_) {
    auto status = ApplyOne(connection, change);
    if (!status.ok()) return status;
  }
  if (idempotency_) return StoreIdempotency(connection);
  return core::OkStatus();
}

ApplyOutcome ChangeApplier::TakeOutcome(core::Status commit_status) {
  ApplyOutcome outcome;
  if (!commit_status.ok()) {
    outcome.results = std::move(commit_status).error();
    return outcome;
  }
  outcome.replay = std::move(replay_);
  outcome.results = std::move(results_);
  return outcome;
}

core::Status ChangeApplier::ApplyOne(Session& connection, const Change& change) {
  switch (change.kind) {
    case Change::Kind::kCreate:
      return Create(connection, change, change.id);
    case Change::Kind::kUpdate: {
      auto row = Load(connection, *change.type, change.id, false, change);
      if (!row.ok()) return std::move(row).error();
      return Update(connection, change, std::move(row).value(), change.values);
    }
    case Change::Kind::kDelete:
      return SetDeleted(connection, change, true);
    case Change::Kind::kRestore:
      return SetDeleted(connection, change, false);
    case Change::Kind::kUpsert:
      return Upsert(connection, change);
  }
  return core::OkStatus();
}

core::Error ChangeApplier::LabelledError(const Change& change, core::Error error) const {
  if (change.label.empty()) return error;
  const int index = IndexOfLabel(change.label);
  if (error.field_errors.empty()) {
    error.field_errors.push_back({change.label, error.problem_code, error.public_message, index});
  } else {
    for (auto& field_error : error.field_errors) {
      field_error.field = change.label + "." + field_error.field;
      field_error.index = index;
    }
  }
  return error;
}

core::Status ChangeApplier::TakeTurn(Session& connection, std::string_view what) const {
  return LockKey(connection, "turn:" + principal_.tenant_id + ":" + std::string(what));
}

core::Status ChangeApplier::TakeValueTurn(Session& connection, const model::ObjectType& type,
                                          std::string_view field,
                                          const json::value& sql_value) const {
  return TakeTurn(connection, "value:" + type.name + ":" + std::string(field) + ":" +
                                  core::WriteJson(sql_value));
}

PiiDigester ChangeApplier::Digester() const {
  return [this](const json::value& value) { return audit_log_.DigestPii(value); };
}

core::Status ChangeApplier::Audit(Session& connection, const char* action,
                                  const model::ObjectType& type, const model::Record& record,
                                  json::object details) {
  AuditEntry entry;
  entry.tenant_id = principal_.tenant_id;
  entry.at = now_;
  entry.actor = principal_.subject;
  entry.action = action;
  entry.object = type.name;
  entry.record_id = record.id;
  entry.request_id = principal_.request_id;
  entry.ip = principal_.client_ip;
  entry.details = std::move(details);
  return audit_log_.Append(connection, entry);
}

core::Status ChangeApplier::Create(Session& connection, const Change& change,
                                   const std::string& id) {
  const auto& type = *change.type;
  auto presence = model::CheckPresence(type, change.values);
  if (!presence.empty()) return LabelledError(change, Validation(std::move(presence)));
  core::Result<LoadedRow> row = core::Error{};
  if (connection.dialect() == Dialect::kPostgres) {
    // The checks ride on the INSERT; only a row they refuse or flag is looked at again, for the
    // same errors as below (the piece is then rolled back with what it wrote).
    auto checks = InsertChecks(connection, type, change.values);
    if (!checks.ok()) return std::move(checks).error();
    row = WriteRow(connection, type, change.values, -1, id, &*checks);
    if (row.ok() && (row->refused || row->flagged)) {
      auto integrity = CheckIntegrity(connection, change, change.values,
                                      row->refused ? -1 : row->rowid, nullptr);
      if (!integrity.ok()) return integrity;
      return LabelledError(change, core::MakeError(core::Code::kConflict, "conflict",
                                                   "A unique value is already taken."));
    }
  } else {
    auto integrity = CheckIntegrity(connection, change, change.values, -1, nullptr);
    if (!integrity.ok()) return integrity;
    row = WriteRow(connection, type, change.values, -1, id);
  }
  if (!row.ok()) return LabelledError(change, std::move(row).error());
  auto audited = Audit(connection, audit_action::kRecordCreate, type, row->record,
                       CreateDetails(type, row->record.values, row->record.version, Digester()));
  if (!audited.ok()) return audited;
  results_.push_back({std::move(row->record), true});
  return core::OkStatus();
}

core::Status ChangeApplier::Update(Session& connection, const Change& change, LoadedRow row,
                                   const json::object& patch) {
  const auto& type = *change.type;
  if (change.expected_version && *change.expected_version != row.record.version) {
    return core::MakeError(core::Code::kPreconditionFailed, "precondition_failed",
                           "The record has changed since you read it (version " +
                               std::to_string(row.record.version) + ").");
  }
  json::object merged = row.record.values;
  for (const auto& member : patch) merged[member.key()] = member.value();
  auto presence = model::CheckPresence(type, merged);
  if (!presence.empty()) return LabelledError(change, Validation(std::move(presence)));
  auto integrity = CheckIntegrity(connection, change, merged, row.rowid, &row.record.values);
  if (!integrity.ok()) return integrity;
  auto updated = WriteRow(connection, type, merged, row.rowid, row.record.id);
  if (!updated.ok()) return LabelledError(change, std::move(updated).error());
  // Referrers' search text only: the record itself is as WriteRow returned it.
  auto status = search_.RefreshReferrers(connection, type, principal_.tenant_id, row.record.id,
                                         row.record.values, merged);
  if (!status.ok()) return status;
  auto audited = Audit(connection, audit_action::kRecordUpdate, type, updated->record,
                       UpdateDetails(type, row.record.values, updated->record.values,
                                     updated->record.version, Digester()));
  if (!audited.ok()) return audited;
  results_.push_back({std::move(updated->record), false});
  return core::OkStatus();
}

core::Status ChangeApplier::SetDeleted(Session& connection, const Change& change, bool deleted) {
  const auto& type = *change.type;
  // Restore accepts a live record too (it is then a no-op apart from the version).
  auto row = Load(connection, type, change.id, !deleted, change);
  if (!row.ok()) return std::move(row).error();
  if (change.expected_version && *change.expected_version != row->record.version) {
    return core::MakeError(core::Code::kPreconditionFailed, "precondition_failed",
                           "The record has changed since you read it.");
  }
  if (!deleted) {
    auto integrity = CheckIntegrity(connection, change, row->record.values, row->rowid, nullptr);
    if (!integrity.ok()) return integrity;
  }
  auto stmt = connection.Prepare("UPDATE " + TableName(type) +
                                 " SET deleted_at = ?, version = version + 1, updated_at = ?"
                                 " WHERE rowid = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  if (deleted) {
    stmt->BindInt(1, now_);
  } else {
    stmt->BindNull(1);
  }
  stmt->BindInt(2, now_);
  stmt->BindInt(3, row->rowid);
  auto done = stmt->Step();
  if (!done.ok()) return LabelledError(change, std::move(done).error());
  // Deleted records leave the search index, so ranked search can skip them without a lookup.
  core::Status indexed = core::OkStatus();
  if (deleted) {
    indexed = search_.Remove(connection, type, row->rowid);
  } else if (row->record.deleted_at) {
    indexed =
        search_.Write(connection, type, principal_.tenant_id, row->rowid, row->record.values, true);
  }
  if (!indexed.ok()) return indexed;
  auto updated = LoadByRowId(connection, type, row->rowid);
  if (!updated.ok()) return std::move(updated).error();
  auto audited =
      Audit(connection, deleted ? audit_action::kRecordDelete : audit_action::kRecordRestore, type,
            updated->record, StateDetails(updated->record.version));
  if (!audited.ok()) return audited;
  results_.push_back({std::move(updated->record), false});
  return core::OkStatus();
}

core::Status ChangeApplier::Upsert(Session& connection, const Change& change) {
  const auto& type = *change.type;
  auto ref = ResolveColumn(type, change.upsert_key, connection.dialect());
  const json::value* key_value = change.values.if_contains(change.upsert_key);
  if (!ref || key_value == nullptr || key_value->is_null()) {
    return LabelledError(change, Validation({{change.upsert_key, "required",
                                              "An upsert record needs a value for its key.", -1}}));
  }
  // Two upserts of one key on two nodes would both find nothing and both create.
  auto locked = TakeValueTurn(connection, type, change.upsert_key, ToSqlValue(*ref, *key_value));
  if (!locked.ok()) return locked;
  std::vector<json::value> params;
  const std::string scope = ScopeCondition(type, principal_, params);
  auto stmt = connection.Prepare("SELECT o.id FROM " + TableName(type) +
                                 " o WHERE o.tenant_id = ?"
                                 " AND o.deleted_at IS NULL AND " +
                                 ref->expr + " = ?" + scope + " LIMIT 2");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, principal_.tenant_id);
  BindSqlValue(*stmt, 2, ToSqlValue(*ref, *key_value));
  for (std::size_t i = 0; i < params.size(); ++i) {
    BindSqlValue(*stmt, static_cast<int>(i) + 3, params[i]);
  }
  std::vector<std::string> matches;
  for (;;) {
    auto row = stmt->Step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    matches.emplace_back(stmt->Text(0));
  }
  if (matches.size() > 1) {
    return LabelledError(change, Validation({{change.upsert_key, "ambiguous_key",
                                              "More than one record has this value.", -1}}));
  }
  if (matches.empty()) return Create(connection, change, change.id);
  auto row = Load(connection, type, matches.front(), false, change);
  if (!row.ok()) return std::move(row).error();
  return Update(connection, change, std::move(row).value(), change.values);
}

core::Result<ChangeApplier::LoadedRow> ChangeApplier::Load(Session& connection,
                                                           const model::ObjectType& type,
                                                           const std::string& id, bool deleted,
                                                           const Change& change) {
  // `deleted` = also accept soft-deleted rows (restore).
  std::vector<json::value> params;
  const std::string scope = ScopeCondition(type, principal_, params);
  auto stmt = connection.Prepare("SELECT " + SelectColumns(type) + " FROM " + TableName(type) +
                                 " o WHERE o.id = ? AND o.tenant_id = ?" +
                                 (deleted ? "" : " AND o.deleted_at IS NULL") + scope +
                                 std::string(ForUpdate(connection.dialect())));
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, id);
  stmt->BindText(2, principal_.tenant_id);
  for (std::size_t i = 0; i < params.size(); ++i) {
    BindSqlValue(*stmt, static_cast<int>(i) + 3, params[i]);
  }
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return LabelledError(change, NotFound(type));
  LoadedRow loaded;
  loaded.record = DecodeRecord(*stmt, type, loaded.rowid);
  return loaded;
}

core::Result<ChangeApplier::LoadedRow> ChangeApplier::LoadByRowId(Session& connection,
                                                                  const model::ObjectType& type,
                                                                  std::int64_t rowid) {
  auto stmt = connection.Prepare("SELECT " + SelectColumns(type) + " FROM " + TableName(type) +
                                 " o WHERE o.rowid = ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindInt(1, rowid);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return NotFound(type);
  LoadedRow loaded;
  loaded.record = DecodeRecord(*stmt, type, loaded.rowid);
  return loaded;
}

core::Result<ChangeApplier::Probe> ChangeApplier::UniqueProbe(Session& connection,
                                                              const model::ObjectType& type,
                                                              const model::Field& field,
                                                              const json::value& value) const {
  auto ref = ResolveColumn(type, field.name, connection.dialect());
  json::value stored = ToSqlValue(*ref, value);
  // Custom unique fields have no unique index (see EnsureCustomFieldIndex): writers of one value
  // take turns between the check and the write.
  auto locked = TakeValueTurn(connection, type, field.name, stored);
  if (!locked.ok()) return std::move(locked).error();
  return Probe{"SELECT 1 FROM " + TableName(type) +
                   " o WHERE o.tenant_id = ? AND o.deleted_at IS NULL AND " + ref->expr + " = ?",
               {json::value(principal_.tenant_id), std::move(stored)}};
}

ChangeApplier::Probe ChangeApplier::ReferenceProbe(const model::Field& field,
                                                   const json::value& value) const {
  return {"SELECT 1 FROM obj_" + field.reference_target +
              " WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL",
          {value, json::value(principal_.tenant_id)}};
}

bool ChangeApplier::IsCheckedReference(const model::Field& field, const json::value& value) {
  return field.type == model::FieldType::kReference && value.is_string();
}

core::Result<bool> ChangeApplier::Finds(Session& connection, const Probe& probe) {
  auto stmt = PrepareBound(connection, probe.sql, probe.params);
  if (!stmt.ok()) return std::move(stmt).error();
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  return *row;
}

core::Status ChangeApplier::CheckIntegrity(Session& connection, const Change& change,
                                           const json::object& values, std::int64_t own_rowid,
                                           const json::object* previous) {
  const auto& type = *change.type;
  std::vector<core::FieldError> conflicts;
  std::vector<core::FieldError> dangling;
  for (const auto& field : type.fields) {
    const json::value* value = values.if_contains(field.name);
    if (value == nullptr || value->is_null()) continue;
    if (previous != nullptr) {
      const json::value* old = previous->if_contains(field.name);
      if (old != nullptr && *old == *value) continue;  // unchanged values were checked before
    }
    if (field.unique) {
      auto unique_probe = UniqueProbe(connection, type, field, *value);
      if (!unique_probe.ok()) return std::move(unique_probe).error();
      Probe probe = std::move(unique_probe).value();
      probe.sql += " AND o.rowid <> ? LIMIT 1";
      probe.params.emplace_back(own_rowid);
      auto found = Finds(connection, probe);
      if (!found.ok()) return std::move(found).error();
      if (*found) {
        conflicts.push_back(
            {field.name, "unique", "Another " + type.singular + " already has this value.", -1});
      }
    }
    if (IsCheckedReference(field, *value)) {
      auto found = Finds(connection, ReferenceProbe(field, *value));
      if (!found.ok()) return std::move(found).error();
      if (!*found) {
        dangling.push_back({field.name, "reference_not_found",
                            "No " + field.reference_target + " record has this id.", -1});
      }
    }
  }
  if (!conflicts.empty()) {
    core::Error error =
        core::MakeError(core::Code::kConflict, "conflict", "A unique value is already taken.");
    error.field_errors = std::move(conflicts);
    return LabelledError(change, std::move(error));
  }
  if (!dangling.empty()) return LabelledError(change, Validation(std::move(dangling)));
  return core::OkStatus();
}

core::Result<ChangeApplier::RowChecks> ChangeApplier::InsertChecks(Session& connection,
                                                                   const model::ObjectType& type,
                                                                   const json::object& values) {
  RowChecks checks;
  auto add = [&checks](const std::string& condition, std::vector<json::value> params) {
    checks.sql += (checks.sql.empty() ? "" : " OR ") + condition;
    for (auto& param : params) checks.params.push_back(std::move(param));
  };
  for (const auto& field : type.fields) {
    const json::value* value = values.if_contains(field.name);
    if (value == nullptr || value->is_null()) continue;
    if (field.unique) {
      auto probe = UniqueProbe(connection, type, field, *value);
      if (!probe.ok()) return std::move(probe).error();
      add("EXISTS (" + probe->sql + " AND o.rowid <> n.rowid)", std::move(probe->params));
    }
    if (IsCheckedReference(field, *value)) {
      Probe probe = ReferenceProbe(field, *value);
      add("NOT EXISTS (" + probe.sql + ")", std::move(probe.params));
    }
  }
  if (checks.sql.empty()) checks.sql = "false";
  return checks;
}

core::Result<ChangeApplier::LoadedRow> ChangeApplier::WriteRow(
    Session& connection, const model::ObjectType& type, const json::object& values,
    std::int64_t rowid, const std::string& id, const RowChecks* checks) {
  const bool insert = rowid < 0;
  // On update, start from the stored custom values: the type used for this write may predate a
  // custom field added meanwhile, and its values must survive.
  json::object custom;
  if (!insert) {
    auto stored = connection.Prepare("SELECT custom FROM " + TableName(type) + " WHERE rowid = ?");
    if (!stored.ok()) return std::move(stored).error();
    stored->BindInt(1, rowid);
    auto row = stored->Step();
    if (!row.ok()) return std::move(row).error();
    if (*row && !stored->IsNull(0)) {
      boost::system::error_code ec;
      json::value parsed = json::parse(stored->Text(0), ec);
      if (!ec && parsed.is_object()) custom = std::move(parsed.get_object());
    }
  }
  std::vector<const model::Field*> columns;
  for (const auto& field : type.fields) {
    if (field.custom) {
      const json::value* value = values.if_contains(field.name);
      if (value != nullptr && !value->is_null()) {
        custom[field.name] = *value;
      } else {
        custom.erase(field.name);
      }
    } else {
      columns.push_back(&field);
    }
  }
  // PostgreSQL: the search vectors are set with the row, and a new row's key comes from the
  // table's identity column (RETURNING rowid).
  const bool postgres = connection.dialect() == Dialect::kPostgres;
  std::vector<std::string> vectors;
  if (postgres) {
    auto params = search_.PgVectorParams(connection, type, principal_.tenant_id, values);
    if (!params.ok()) return std::move(params).error();
    vectors = std::move(params).value();
  }
  std::string sql;
  if (insert) {
    sql = "INSERT INTO " + TableName(type) + (checks != nullptr ? " AS n" : "") + " (" +
          (postgres ? "" : "rowid, ") +
          "id, tenant_id, version, created_at, updated_at, created_by, custom";
    std::string placeholders = postgres ? "?, ?, 1, ?, ?, ?, ?" : "?, ?, ?, 1, ?, ?, ?, ?";
    for (const auto* field : columns) {
      sql += ", \"" + field->name + "\"";
      placeholders += ", ?";
    }
    if (postgres) {
      sql += ", search_body, search_all";
      placeholders += ", " + SearchIndex::PgBodyVectorSql() + ", " + SearchIndex::PgAllVectorSql();
    }
    sql += ") VALUES (" + placeholders + ")";
  } else {
    sql = "UPDATE " + TableName(type) + " SET version = version + 1, updated_at = ?, custom = ?";
    for (const auto* field : columns) sql += ", \"" + field->name + "\" = ?";
    if (postgres) {
      sql += ", search_body = " + SearchIndex::PgBodyVectorSql() +
             ", search_all = " + SearchIndex::PgAllVectorSql();
    }
    sql += " WHERE rowid = ?";
  }
  // PostgreSQL returns the row as written (its key from the identity column with it) and saves
  // the round trip of reading it back. Not SQLite: RETURNING is a trigger there, so the statement
  // opens a statement journal, whose release walks the whole sub-journal of the open savepoint —
  // a batch's inserts got slower with every row (measured: seeding at half speed).
  if (postgres && checks != nullptr) sql += " ON CONFLICT DO NOTHING";
  if (postgres) sql += " RETURNING " + SelectColumns(type, checks != nullptr ? "n." : "");
  if (postgres && checks != nullptr) sql += ", (" + checks->sql + ")";
  std::int64_t new_rowid = 0;
  if (insert && !postgres) {
    auto next = NextRowid(connection, type);
    if (!next.ok()) return std::move(next).error();
    new_rowid = *next;
  }
  auto stmt = connection.Prepare(sql);
  if (!stmt.ok()) return std::move(stmt).error();
  int index = 1;
  if (insert) {
    if (!postgres) stmt->BindInt(index++, new_rowid);
    stmt->BindText(index++, id);
    stmt->BindText(index++, principal_.tenant_id);
    stmt->BindInt(index++, now_);
  }
  stmt->BindInt(index++, now_);
  if (insert) stmt->BindText(index++, principal_.subject);
  if (custom.empty()) {
    stmt->BindNull(index++);
  } else {
    stmt->BindText(index++, core::WriteJson(custom));
  }
  for (const auto* field : columns) {
    const json::value* value = values.if_contains(field->name);
    ColumnRef ref{"", field->type, false};
    BindSqlValue(*stmt, index++, value ? ToSqlValue(ref, *value) : json::value(nullptr));
  }
  for (const auto& text : vectors) stmt->BindText(index++, text);
  if (!insert) stmt->BindInt(index++, rowid);
  if (checks != nullptr) {
    for (const auto& param : checks->params) BindSqlValue(*stmt, index++, param);
  }
  auto done = stmt->Step();
  if (!done.ok()) return std::move(done).error();
  if (postgres) {
    LoadedRow written;
    if (!*done) {
      if (checks == nullptr) return NotFound(type);
      written.refused = true;
      return written;
    }
    written.record = DecodeRecord(*stmt, type, written.rowid);
    if (checks != nullptr) written.flagged = stmt->Int(stmt->ColumnCount() - 1) != 0;
    return written;  // the vectors were written with the row
  }
  const std::int64_t target_rowid = insert ? new_rowid : rowid;
  auto indexed =
      search_.Write(connection, type, principal_.tenant_id, target_rowid, values, insert);
  if (!indexed.ok()) return std::move(indexed).error();
  return LoadByRowId(connection, type, target_rowid);
}

core::Result<std::int64_t> ChangeApplier::NextRowid(Session& connection,
                                                    const model::ObjectType& type) {
  if (principal_.tenant_number < 1) {
    return core::MakeError(core::Code::kInternal, "internal", "An internal error occurred.",
                           "principal without a tenant number");
  }
  const RowidRange range = TenantRowids(principal_.tenant_number);
  auto stmt = connection.Prepare("SELECT MAX(rowid) FROM " + TableName(type) +
                                 " WHERE rowid BETWEEN ? AND ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindInt(1, range.first);
  stmt->BindInt(2, range.last);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  const std::int64_t next = stmt->IsNull(0) ? range.first : stmt->Int(0) + 1;
  if (next > range.last) {
    return core::MakeError(core::Code::kUnavailable, "storage_full",
                           "The tenant has no storage keys left for this object.");
  }
  return next;
}

core::Result<bool> ChangeApplier::CheckIdempotency(Session& connection) {
  // A retry racing the first request on another node waits here, then replays its response.
  auto locked = TakeTurn(connection, "idempotency:" + idempotency_->key);
  if (!locked.ok()) return std::move(locked).error();
  auto stmt = connection.Prepare(
      "SELECT request_hash, status, body, location, etag FROM idempotency_keys"
      " WHERE tenant_id = ? AND key = ? AND created_at > ?");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, principal_.tenant_id);
  stmt->BindText(2, idempotency_->key);
  stmt->BindInt(3, now_ - kIdempotencyWindowMs);
  auto row = stmt->Step();
  if (!row.ok()) return std::move(row).error();
  if (!*row) return false;
  if (stmt->Text(0) != idempotency_->request_hash) {
    return core::MakeError(core::Code::kValidation, "idempotency_key_reused",
                           "This Idempotency-Key was already used with a different request.");
  }
  replay_ = StoredResponse{static_cast<int>(stmt->Int(1)), std::string(stmt->Text(2)),
                           std::string(stmt->Text(3)), std::string(stmt->Text(4))};
  return true;
}

core::Status ChangeApplier::StoreIdempotency(Session& connection) {
  StoredResponse response = idempotency_->render(results_);
  auto stmt = connection.Prepare(
      "INSERT INTO idempotency_keys"
      " (tenant_id, key, request_hash, status, body, location, etag, created_at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, key) DO UPDATE SET"
      " request_hash = excluded.request_hash, status = excluded.status, body = excluded.body,"
      " location = excluded.location, etag = excluded.etag, created_at = excluded.created_at");
  if (!stmt.ok()) return std::move(stmt).error();
  stmt->BindText(1, principal_.tenant_id);
  stmt->BindText(2, idempotency_->key);
  stmt->BindText(3, idempotency_->request_hash);
  stmt->BindInt(4, response.status);
  stmt->BindText(5, response.body);
  stmt->BindText(6, response.location);
  stmt->BindText(7, response.etag);
  stmt->BindInt(8, now_);
  auto done = stmt->Step();
  if (!done.ok()) return std::move(done).error();
  return core::OkStatus();
}

}  // namespace zebros::storage::sql
