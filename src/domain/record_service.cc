#include "domain/record_service.h"

#include "core/crypto.h"
#include "domain/pii_mask.h"
#include "domain/validator.h"

namespace zebros::domain {
namespace json = boost::json;
using storage::Change;

namespace {

void Fail(const RecordService::Done& done, core::Error error) {
  storage::ApplyOutcome outcome;
  outcome.results = std::move(error);
  done(std::move(outcome));
}

core::Error NoSuchRecord(const model::ObjectType& type) {
  return core::MakeError(core::Code::kNotFound, "not_found",
                         "No " + type.singular + " has this id.");
}

core::Error BatchError(std::string message) {
  return core::MakeError(core::Code::kValidation, "validation_failed", std::move(message));
}

// Prefixes each field error with the operation's label and index.
void Label(std::vector<core::FieldError>& into, const std::string& section, int index,
           std::vector<core::FieldError> errors) {
  for (auto& error : errors) {
    error.field = section + "[" + std::to_string(index) + "]" +
                  (error.field.empty() ? "" : "." + error.field);
    error.index = index;
    into.push_back(std::move(error));
  }
}

// A record a user creates without naming an owner is theirs, so `own` and `team` scopes show
// it to them. API keys belong to no user: their records stay unowned unless the body says.
void DefaultOwner(const model::Principal& principal, const model::ObjectType& type,
                  json::object& values) {
  if (principal.user_id.empty() || values.contains("owner_id")) return;
  const model::Field* owner = type.FindField("owner_id");
  if (owner != nullptr && !owner->custom) values["owner_id"] = principal.user_id;
}

bool IsRecordId(const json::value& value, const model::ObjectType& type) {
  return value.is_string() && core::IsWellFormedId(value.get_string(), type.id_prefix);
}

void MaskResults(const model::ObjectType& type, std::vector<storage::ChangeResult>& results) {
  for (auto& result : results) MaskRecord(type, result.record);
}

// For a masking principal, the records a write hands back to `done` are masked.
RecordService::Done MaskingDone(const model::Principal& principal, const model::ObjectTypePtr& type,
                                RecordService::Done done) {
  if (!principal.mask_pii) return done;
  return [type, done = std::move(done)](storage::ApplyOutcome outcome) {
    if (outcome.results.ok()) MaskResults(*type, *outcome.results);
    done(std::move(outcome));
  };
}

// For a masking principal, the response stored with an Idempotency-Key is rendered from masked
// records, and the request hash is salted so that a masking principal's retry never replays a
// response stored in clear for another principal (it gets `idempotency_key_reused` instead).
void MaskStoredResponse(const model::Principal& principal, const model::ObjectTypePtr& type,
                        std::optional<storage::Idempotency>& idempotency) {
  if (!principal.mask_pii || !idempotency) return;
  idempotency->request_hash = core::Sha256Hex(idempotency->request_hash + "\nmask_pii");
  idempotency->render = [type, render = std::move(idempotency->render)](
                            const std::vector<storage::ChangeResult>& results) {
    std::vector<storage::ChangeResult> masked = results;
    MaskResults(*type, masked);
    return render(masked);
  };
}

}  // namespace

core::Result<model::Record> RecordService::Get(const model::Principal& principal,
                                               const model::ObjectType& type, std::string_view id) {
  if (!core::IsWellFormedId(id, type.id_prefix)) return NoSuchRecord(type);
  auto record = store_.Get(principal, type, id);
  if (record.ok() && principal.mask_pii) MaskRecord(type, *record);
  return record;
}

void RecordService::GetAsync(const model::Principal& principal, const model::ObjectType& type,
                             std::string_view id,
                             std::function<void(core::Result<model::Record>)> done) {
  if (!core::IsWellFormedId(id, type.id_prefix)) return done(NoSuchRecord(type));
  store_.GetAsync(principal, type, id,
                  [&type, mask = principal.mask_pii,
                   done = std::move(done)](core::Result<model::Record> record) {
                    if (record.ok() && mask) MaskRecord(type, *record);
                    done(std::move(record));
                  });
}

core::Status RecordService::CheckListQuery(const model::Principal& principal,
                                           const model::ObjectType& type, model::Query& query,
                                           bool text_values) {
  if (principal.mask_pii) {
    // Before validation, so not even a value's format check runs on a masked field.
    auto allowed = CheckQueryAvoidsPii(type, query);
    if (!allowed.ok()) return allowed;
  }
  return NormalizeQuery(type, query, text_values);
}

core::Result<storage::Page> RecordService::List(const model::Principal& principal,
                                                const model::ObjectType& type, model::Query query,
                                                bool text_values) {
  auto status = CheckListQuery(principal, type, query, text_values);
  if (!status.ok()) return std::move(status).error();
  auto page = store_.List(principal, type, query);
  if (page.ok() && principal.mask_pii) {
    for (auto& record : page->records) MaskRecord(type, record);
  }
  return page;
}

void RecordService::ListAsync(const model::Principal& principal, const model::ObjectType& type,
                              model::Query query, bool text_values, core::WorkPool* workers,
                              std::function<void(core::Result<storage::Page>)> done) {
  auto status = CheckListQuery(principal, type, query, text_values);
  if (!status.ok()) return done(std::move(status).error());
  store_.ListAsync(
      principal, type, query, workers,
      [&type, mask = principal.mask_pii, done = std::move(done)](core::Result<storage::Page> page) {
        if (page.ok() && mask) {
          for (auto& record : page->records) MaskRecord(type, record);
        }
        done(std::move(page));
      });
}

void RecordService::Create(const model::Principal& principal, const model::ObjectTypePtr& type,
                           const json::object& body,
                           std::optional<storage::Idempotency> idempotency, Done done) {
  done = MaskingDone(principal, type, std::move(done));
  MaskStoredResponse(principal, type, idempotency);
  auto values = ValidateCreate(*type, body);
  if (!values.ok()) return Fail(done, std::move(values).error());
  Change change;
  change.kind = Change::Kind::kCreate;
  change.type = type;
  change.id = ids_.Next(type->id_prefix);
  change.values = std::move(values).value();
  DefaultOwner(principal, *type, change.values);
  std::vector<Change> changes;
  changes.push_back(std::move(change));
  store_.Apply(principal, std::move(changes), std::move(idempotency), std::move(done));
}

void RecordService::Update(const model::Principal& principal, const model::ObjectTypePtr& type,
                           const std::string& id, const json::object& body,
                           std::optional<std::int64_t> expected_version, Done done) {
  done = MaskingDone(principal, type, std::move(done));
  if (!core::IsWellFormedId(id, type->id_prefix)) {
    return Fail(done, NoSuchRecord(*type));
  }
  auto patch = ValidatePatch(*type, body);
  if (!patch.ok()) return Fail(done, std::move(patch).error());
  Change change;
  change.kind = Change::Kind::kUpdate;
  change.type = type;
  change.id = id;
  change.values = std::move(patch).value();
  change.expected_version = expected_version;
  std::vector<Change> changes;
  changes.push_back(std::move(change));
  store_.Apply(principal, std::move(changes), std::nullopt, std::move(done));
}

void RecordService::Delete(const model::Principal& principal, const model::ObjectTypePtr& type,
                           const std::string& id, std::optional<std::int64_t> expected_version,
                           Done done) {
  done = MaskingDone(principal, type, std::move(done));
  if (!core::IsWellFormedId(id, type->id_prefix)) {
    return Fail(done, NoSuchRecord(*type));
  }
  Change change;
  change.kind = Change::Kind::kDelete;
  change.type = type;
  change.id = id;
  change.expected_version = expected_version;
  std::vector<Change> changes;
  changes.push_back(std::move(change));
  store_.Apply(principal, std::move(changes), std::nullopt, std::move(done));
}

void RecordService::Restore(const model::Principal& principal, const model::ObjectTypePtr& type,
                            const std::string& id, Done done) {
  done = MaskingDone(principal, type, std::move(done));
  if (!core::IsWellFormedId(id, type->id_prefix)) {
    return Fail(done, NoSuchRecord(*type));
  }
  Change change;
  change.kind = Change::Kind::kRestore;
  change.type = type;
  change.id = id;
  std::vector<Change> changes;
  changes.push_back(std::move(change));
  store_.Apply(principal, std::move(changes), std::nullopt, std::move(done));
}

void RecordService::Batch(const model::Principal& principal, const model::ObjectTypePtr& type,
                          const json::object& body, std::optional<storage::Idempotency> idempotency,
                          Done done) {
  done = MaskingDone(principal, type, std::move(done));
  MaskStoredResponse(principal, type, idempotency);
  std::vector<core::FieldError> errors;
  std::vector<Change> changes;
  for (const auto& member : body) {
    const std::string_view key = member.key();
    if (key != "create" && key != "update" && key != "upsert" && key != "delete") {
      errors.push_back(
          {std::string(key), "unknown_field", "Use create, update, upsert and delete.", -1});
    }
  }
  auto section_array = [&](std::string_view name) -> const json::array* {
    const json::value* value = body.if_contains(name);
    if (value == nullptr || value->is_null()) return nullptr;
    if (!value->is_array()) {
      errors.push_back({std::string(name), "invalid_type", "Must be an array.", -1});
      return nullptr;
    }
    return &value->get_array();
  };
  const json::array* creates = section_array("create");
  const json::array* updates = section_array("update");
  const json::array* deletes = section_array("delete");
  const json::array* upsert_records = nullptr;
  std::string upsert_key;
  if (const json::value* upsert = body.if_contains("upsert"); upsert && !upsert->is_null()) {
    const json::object* spec = upsert->if_object();
    const json::value* key = spec ? spec->if_contains("key") : nullptr;
    const json::value* records = spec ? spec->if_contains("records") : nullptr;
    if (spec == nullptr || key == nullptr || !key->is_string() || records == nullptr ||
        !records->is_array()) {
      errors.push_back(
          {"upsert", "invalid_type", "Must be {\"key\": field name, \"records\": [...]}.", -1});
    } else {
      upsert_key = std::string(key->get_string());
      if (principal.mask_pii) {
        // Whether an upsert creates or updates would tell a masked value apart.
        auto allowed = CheckFieldUseAvoidsPii(*type, upsert_key, "upsert by");
        if (!allowed.ok()) return Fail(done, std::move(allowed).error());
      }
      const model::Field* field = type->FindField(upsert_key);
      if (field == nullptr || !(field->unique || field->indexed)) {
        errors.push_back(
            {"upsert.key", "invalid_upsert_key", "The key must be a unique or indexed field.", -1});
      }
      upsert_records = &records->get_array();
    }
  }
  const std::size_t total = (creates ? creates->size() : 0) + (updates ? updates->size() : 0) +
                            (deletes ? deletes->size() : 0) +
                            (upsert_records ? upsert_records->size() : 0);
  if (total > kMaxBatchOperations) {
    core::Error error = BatchError("A batch holds at most 200 operations.");
    error.problem_code = "batch_too_large";
    return Fail(done, std::move(error));
  }
  if (total == 0 && errors.empty()) {
    return Fail(done, BatchError("The batch has no operations."));
  }

  auto object_at = [&](const json::value& item, const std::string& section,
                       int index) -> const json::object* {
    if (!item.is_object()) {
      Label(errors, section, index, {{"", "invalid_type", "Must be an object.", -1}});
      return nullptr;
    }
    return &item.get_object();
  };
  if (creates) {
    for (std::size_t i = 0; i < creates->size(); ++i) {
      const int index = static_cast<int>(i);
      const json::object* record = object_at((*creates)[i], "create", index);
      if (record == nullptr) continue;
      auto values = ValidateCreate(*type, *record);
      if (!values.ok()) {
        Label(errors, "create", index, std::move(values).error().field_errors);
        continue;
      }
      DefaultOwner(principal, *type, *values);
      Change change{Change::Kind::kCreate,
                    type,
                    ids_.Next(type->id_prefix),
                    std::move(values).value(),
                    std::nullopt,
                    {},
                    "create[" + std::to_string(i) + "]"};
      changes.push_back(std::move(change));
    }
  }
  if (updates) {
    for (std::size_t i = 0; i < updates->size(); ++i) {
      const int index = static_cast<int>(i);
      const json::object* record = object_at((*updates)[i], "update", index);
      if (record == nullptr) continue;
      const json::value* id = record->if_contains("id");
      if (id == nullptr || !IsRecordId(*id, *type)) {
        Label(errors, "update", index,
              {{"id", "not_found", "Needs the id of a " + type->singular + ".", -1}});
        continue;
      }
      json::object patch_body = *record;
      patch_body.erase("id");
      auto patch = ValidatePatch(*type, patch_body);
      if (!patch.ok()) {
        Label(errors, "update", index, std::move(patch).error().field_errors);
        continue;
      }
      changes.push_back(Change{Change::Kind::kUpdate,
                               type,
                               std::string(id->get_string()),
                               std::move(patch).value(),
                               std::nullopt,
                               {},
                               "update[" + std::to_string(i) + "]"});
    }
  }
  if (upsert_records) {
    for (std::size_t i = 0; i < upsert_records->size(); ++i) {
      const int index = static_cast<int>(i);
      const json::object* record = object_at((*upsert_records)[i], "upsert", index);
      if (record == nullptr) continue;
      // Validated as a patch (absent fields stay as they are on a match); presence rules are
      // checked after the merge, or on creation.
      auto values = ValidatePatch(*type, *record);
      if (!values.ok()) {
        Label(errors, "upsert", index, std::move(values).error().field_errors);
        continue;
      }
      const json::value* key_value = values->if_contains(upsert_key);
      if (key_value == nullptr || key_value->is_null()) {
        Label(errors, "upsert", index,
              {{upsert_key, "required", "The upsert key is required.", -1}});
        continue;
      }
      changes.push_back(Change{Change::Kind::kUpsert, type, ids_.Next(type->id_prefix),
                               std::move(values).value(), std::nullopt, upsert_key,
                               "upsert[" + std::to_string(i) + "]"});
    }
  }
  if (deletes) {
    for (std::size_t i = 0; i < deletes->size(); ++i) {
      const int index = static_cast<int>(i);
      if (!IsRecordId((*deletes)[i], *type)) {
        Label(errors, "delete", index,
              {{"", "not_found", "Needs the id of a " + type->singular + ".", -1}});
        continue;
      }
      changes.push_back(Change{Change::Kind::kDelete,
                               type,
                               std::string((*deletes)[i].get_string()),
                               {},
                               std::nullopt,
                               {},
                               "delete[" + std::to_string(i) + "]"});
    }
  }
  if (!errors.empty()) {
    core::Error error = BatchError("The batch is invalid; nothing was applied.");
    error.field_errors = std::move(errors);
    return Fail(done, std::move(error));
  }
  store_.Apply(principal, std::move(changes), std::move(idempotency), std::move(done));
}

}  // namespace zebros::domain
