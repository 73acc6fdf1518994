// The audit endpoints in the OpenAPI document (api/audit_routes.cc): the tenant's log and each
// object type's record history, and the schemas of their entries.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "api/openapi_internal.h"

namespace zebros::api::openapi_internal {
namespace json = boost::json;
namespace {

json::object Operation(std::string_view operation_id, std::string_view summary,
                       std::string_view tag, std::string_view description) {
  return json::object{{"operationId", operation_id},
                      {"summary", summary},
                      {"tags", json::array{tag}},
                      {"description", description}};
}

json::object QueryString(std::string_view name, std::string_view description,
                         json::object schema = json::object{{"type", "string"}}) {
  return json::object{
      {"name", name}, {"in", "query"}, {"description", description}, {"schema", schema}};
}

json::object PageResponse() {
  return json::object{
      {"description", "A page of audit entries, newest first."},
      {"content",
       json::object{{"application/json", json::object{{"schema", Ref("schemas", "AuditPage")}}}}}};
}

json::array CommonParameters() {
  const json::object date_time{{"type", "string"}, {"format", "date-time"}};
  return json::array{
      QueryString("actor", "Only entries of this actor (`key:<id>` or a user's subject)."),
      QueryString("action", "Only entries of this action, e.g. `record.update`."),
      QueryString("since", "Only entries at or after this RFC 3339 time.", date_time),
      QueryString("until", "Only entries before this RFC 3339 time.", date_time),
      Ref("parameters", "Cursor"),
      Ref("parameters", "Limit"),
  };
}

json::object Responses(std::initializer_list<int> errors) {
  json::object responses{{"200", PageResponse()}};
  for (auto& entry : ErrorResponses(errors)) responses[entry.key()] = std::move(entry.value());
  return responses;
}

}  // namespace

json::object AuditPaths() {
  json::object list = Operation(
      "listAuditEntries", "List the tenant's audit log", kAuditTag,
      "Admins only (others get 403 `forbidden`). Newest first, keyset-paged by `seq`. Unknown "
      "parameters and bad times are 400 `invalid_parameter`.");
  json::array parameters{
      QueryString("object", "Only entries about this object type (or area, e.g. `audit_log`)."),
      QueryString("record_id", "Only entries about this record."),
  };
  for (auto& parameter : CommonParameters()) parameters.push_back(std::move(parameter));
  list["parameters"] = std::move(parameters);
  list["responses"] = Responses({400, 401, 403});
  return json::object{{"/api/v1/audit", json::object{{"get", std::move(list)}}}};
}

json::object HistoryPaths(const model::ObjectType& type) {
  json::object history = Operation(
      "get" + PascalCase(type.singular) + "History",
      "The audit history of " + WithArticle(type.singular), TagName(type),
      "Every audited change of the record, newest first, for roles that may read the object. 404 "
      "when the caller cannot read such a record; a deleted record's history is served to "
      "admins only.");
  history["parameters"] = CommonParameters();
  history["responses"] = Responses({400, 401, 403, 404});
  const json::object id_parameter{
      {"name", "id"}, {"in", "path"}, {"required", true}, {"schema", IdSchema(type)}};
  return json::object{
      {"/api/v1/" + type.name + "/{id}/history",
       json::object{{"parameters", json::array{id_parameter}}, {"get", std::move(history)}}}};
}

json::object AuditSchemas() {
  const json::object nullable_string{{"type", json::array{"string", "null"}}};
  const json::object hash{{"type", "string"}, {"pattern", "^[0-9a-f]{64}$"}};
  json::object entry{
      {"type", "object"},
      {"description",
       "One audit entry. `hash` is SHA-256 over the entry's content and `prev_hash` (the "
       "tenant's previous entry's hash; 64 zeros for the first). Values of personal-data fields "
       "appear in `details` as `hmac-sha256:<hex>`."},
      {"required", json::array{"seq", "at", "actor", "action", "object", "record_id", "request_id",
                               "ip", "details", "prev_hash", "hash"}},
      {"properties",
       json::object{
           {"seq", json::object{{"type", "integer"}, {"minimum", 1}}},
           {"at", json::object{{"type", "string"}, {"format", "date-time"}}},
           {"actor", nullable_string},
           {"action",
            json::object{{"type", "string"},
                         {"description",
                          "record.create, record.update, record.delete, record.restore, "
                          "login.success, login.failure, permission.denied, user.role_change, "
                          "user.create, user.deactivate, api_key.create, api_key.revoke, "
                          "schema.field_add."}}},
           {"object", nullable_string},
           {"record_id", nullable_string},
           {"request_id", nullable_string},
           {"ip", nullable_string},
           {"details",
            json::object{{"type", "object"},
                         {"description",
                          "Record changes: `version`, and `fields` — on create every set value, "
                          "on update `{\"field\": {\"from\": …, \"to\": …}}` for changed fields "
                          "only."}}},
           {"prev_hash", hash},
           {"hash", hash},
       }},
  };
  json::object page{
      {"type", "object"},
      {"required", json::array{"data", "next_cursor"}},
      {"properties", json::object{{"data", json::object{{"type", "array"},
                                                        {"items", Ref("schemas", "AuditEntry")}}},
                                  {"next_cursor", nullable_string}}},
  };
  return json::object{{"AuditEntry", std::move(entry)}, {"AuditPage", std::move(page)}};
}

}  // namespace zebros::api::openapi_internal
