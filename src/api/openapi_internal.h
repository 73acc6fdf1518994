#pragma once

// Building blocks of the OpenAPI generator, shared by openapi.cc, openapi_schemas.cc,
// openapi_shared_schemas.cc, openapi_paths.cc, openapi_audit.cc and openapi_access.cc only.
// Everything here is pure: it reads model data and returns JSON. The document mirrors the
// handlers (api/record_routes.cc, api/schema_routes.cc, api/audit_routes.cc,
// api/access_routes.cc, api/api_handler.cc), so a change to a handler's shapes belongs here too.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "model/field.h"
#include "model/object_type.h"

namespace zebros::api::openapi_internal {

// Tags of the operations that do not belong to an object type.
inline constexpr std::string_view kSystemTag = "System";
inline constexpr std::string_view kSchemaTag = "Schema";
inline constexpr std::string_view kAuditTag = "Audit";
inline constexpr std::string_view kAccessTag = "Access";

// {"$ref": "#/components/<section>/<name>"}.
boost::json::object Ref(std::string_view section, std::string_view name);

// "email_template" -> "EmailTemplate"; used for schema names and operationIds.
std::string PascalCase(std::string_view snake_case);

// "account" -> "an account", "contact" -> "a contact"; for descriptions.
std::string WithArticle(std::string_view noun);

// The schema of an id of `type`'s records: `^<prefix>_` then a 26-digit Crockford ULID.
boost::json::object IdSchema(const model::ObjectType& type);

// The tag grouping `type`'s operations: its label, or its name when the label is empty.
std::string TagName(const model::ObjectType& type);

// The most operations one batch request may hold, across its sections
// (domain::RecordService::kMaxBatchOperations).
inline constexpr int kMaxBatchOperations = 200;

// The system fields a client may filter and sort on (domain/validator.cc SystemField), in the
// order the document lists them.
inline constexpr std::string_view kQueryableSystemFields[] = {"id", "created_at", "updated_at",
                                                              "created_by", "version"};

// Every filter operator's name ("eq", "ne", ...), in declaration order.
boost::json::array FilterOpNames();

// Returns `schema` widened to also accept null (`"type": [T, "null"]`, null added to `enum`).
boost::json::object Nullable(boost::json::object schema);

// The JSON schema of one value of `field` (not nullable), with `title`, `description` and an
// `x-zebros` object carrying the field's flags. `reference_target` is the type a kReference
// field points to, or nullptr when it is not among the documented types.
boost::json::object FieldSchema(const model::Field& field,
                                const model::ObjectType* reference_target);

// The components.schemas entries of one object type: <Singular>, <Singular>Create,
// <Singular>Update, <Singular>List, <Singular>BatchUpdate, <Singular>BatchRequest,
// <Singular>BatchResult. `types` resolves reference targets.
boost::json::object RecordSchemas(const model::ObjectType& type,
                                  const std::vector<model::ObjectTypePtr>& types);

// The components.schemas entries every document has: Problem, FieldError, FilterNode,
// FilterCondition, QueryFilterValue, SortKey, SearchRequest, ObjectTypeDefinition,
// FieldDefinition, FieldCreate, HealthStatus, ReadinessStatus. (openapi_shared_schemas.cc)
boost::json::object SharedSchemas();

// The path items of one object type, keyed by path.
boost::json::object ObjectPaths(const model::ObjectType& type);

// The path items that do not depend on the object types (health, OpenAPI, schema).
boost::json::object SystemPaths();

// The audit log's path (/api/v1/audit), one object type's record history path, and the
// AuditEntry and AuditPage schemas. (openapi_audit.cc)
boost::json::object AuditPaths();
boost::json::object HistoryPaths(const model::ObjectType& type);
boost::json::object AuditSchemas();

// The access paths (/api/v1/me, api-keys, users, teams, access/scopes) and the schemas of their
// bodies: Role, RecordScope, PermissionAction, Me, ApiKey, ApiKeyCreate, ApiKeyCreated,
// ApiKeyList, User, UserCreate, UserUpdate, UserList, Team, TeamCreate, TeamUpdate, TeamList,
// ScopeSetting, ScopeUpdate, ScopeSettingList. (openapi_access.cc)
boost::json::object AccessPaths();
boost::json::object AccessSchemas();

// An operation's error responses, each a $ref to components.responses. REQUIRES: every status
// is one of 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 503.
boost::json::object ErrorResponses(std::initializer_list<int> statuses);

// components.responses, components.parameters and components.headers. (openapi.cc)
boost::json::object SharedResponses();
boost::json::object SharedParameters();
boost::json::object SharedHeaders();

}  // namespace zebros::api::openapi_internal
