#include "domain/schema_registry.h"

#include "model/field_json.h"

namespace zebros::domain {

SchemaRegistry::SchemaRegistry(storage::DirectoryStore& directory,
                               std::vector<model::ObjectTypePtr> builtin)
    : directory_(directory), builtin_(std::move(builtin)) {}

core::Result<SchemaRegistry::TypeSet> SchemaRegistry::TypesFor(const std::string& tenant_id) {
  std::uint64_t generation = 0;
  TypeSet previous;
  {
    std::lock_guard lock(mutex_);
    auto found = by_tenant_.find(tenant_id);
    if (found != by_tenant_.end()) {
      if (std::chrono::steady_clock::now() - found->second.loaded_at < kFreshness) {
        return found->second.types;
      }
      previous = found->second.types;
    }
    generation = generation_;
  }
  auto custom = directory_.LoadCustomFields(tenant_id);
  if (!custom.ok()) return std::move(custom).error();
  auto types = std::make_shared<std::vector<model::ObjectTypePtr>>();
  for (const auto& base : builtin_) {
    bool extended = false;
    auto type = std::make_shared<model::ObjectType>(*base);
    for (const auto& entry : *custom) {
      if (entry.object != base->name || type->FindField(entry.field.name) != nullptr) continue;
      type->fields.push_back(entry.field);
      extended = true;
    }
    model::ObjectTypePtr chosen = extended ? model::ObjectTypePtr(type) : base;
    // A type that did not change keeps its identity across reloads, so what is kept per schema
    // snapshot (the API's page cache) outlives the reload.
    if (extended && previous) {
      for (const auto& old : *previous) {
        if (old->name == type->name && old->fields == type->fields) chosen = old;
      }
    }
    types->push_back(std::move(chosen));
  }
  TypeSet snapshot = std::move(types);
  std::lock_guard lock(mutex_);
  // A field added while this snapshot loaded may be missing from it: serve it, don't cache it.
  if (generation == generation_) {
    by_tenant_[tenant_id] = Cached{snapshot, std::chrono::steady_clock::now()};
  }
  return snapshot;
}

void SchemaRegistry::Invalidate(const std::string& tenant_id) {
  std::lock_guard lock(mutex_);
  ++generation_;
  by_tenant_.erase(tenant_id);
}

core::Result<model::ObjectTypePtr> SchemaRegistry::Find(const model::Principal& principal,
                                                        std::string_view object) {
  auto types = TypesFor(principal.tenant_id);
  if (!types.ok()) return std::move(types).error();
  for (const auto& type : **types) {
    if (type->name == object) return type;
  }
  return core::MakeError(core::Code::kNotFound, "not_found", "No such object type.");
}

core::Result<std::vector<model::ObjectTypePtr>> SchemaRegistry::All(
    const model::Principal& principal) {
  auto types = TypesFor(principal.tenant_id);
  if (!types.ok()) return std::move(types).error();
  return **types;
}

void SchemaRegistry::AddField(const model::Principal& principal, const std::string& object,
                              const boost::json::object& definition,
                              std::function<void(core::Result<model::Field>)> done) {
  auto type = Find(principal, object);
  if (!type.ok()) return done(std::move(type).error());
  auto parsed = model::FieldFromJson(definition);
  if (!parsed.ok()) return done(std::move(parsed).error());
  model::Field field = std::move(parsed).value();
  field.custom = true;
  field.required = false;  // existing records have no value, so a custom field cannot require one
  if (model::IsSystemField(field.name) || (*type)->FindField(field.name) != nullptr) {
    return done(core::MakeError(core::Code::kConflict, "conflict",
                                "The object already has a field named '" + field.name + "'."));
  }
  std::size_t custom_count = 0;
  for (const auto& existing : (*type)->fields) custom_count += existing.custom;
  if (custom_count >= kMaxCustomFields) {
    return done(core::MakeError(core::Code::kConflict, "too_many_fields",
                                "The object has the maximum number of custom fields."));
  }
  if (field.type == model::FieldType::kReference) {
    bool known = false;
    for (const auto& base : builtin_) known = known || base->name == field.reference_target;
    if (!known) {
      core::Error error = core::MakeError(core::Code::kValidation, "validation_failed",
                                          "The field definition is invalid.");
      error.field_errors.push_back(
          {"reference_target", "invalid_enum", "Must name an object type.", -1});
      return done(std::move(error));
    }
  }
  const std::string tenant_id = principal.tenant_id;
  directory_.AddCustomField(principal, object, field,
                            [this, tenant_id, field, done = std::move(done)](core::Status status) {
                              if (!status.ok()) return done(std::move(status).error());
                              Invalidate(tenant_id);
                              done(field);
                            });
}

}  // namespace zebros::domain
