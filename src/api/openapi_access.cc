// The access endpoints in the OpenAPI document (api/access_routes.cc): who am I, API keys, users,
// teams and record scopes, and the schemas of their bodies.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "api/openapi_internal.h"
#include "auth/policy.h"
#include "model/principal.h"

namespace zebros::api::openapi_internal {
namespace json = boost::json;
namespace {

constexpr std::string_view kJson = "application/json";
// api/access_routes.cc kMaxLabelLength: names, e-mails, usernames and display names.
constexpr int kMaxLabelLength = 200;
constexpr std::string_view kAdminsOnly =
    "Admins only (others get 403 `forbidden`). Tenant-scoped: another tenant's id answers 404 "
    "like an unknown one.";

json::object Operation(std::string_view operation_id, std::string_view summary,
                       std::string_view description) {
  return json::object{{"operationId", operation_id},
                      {"summary", summary},
                      {"tags", json::array{kAccessTag}},
                      {"description", description}};
}

// An admin-only operation: kAdminsOnly, then `more` when given.
json::object AdminOperation(std::string_view operation_id, std::string_view summary,
                            std::string_view more = {}) {
  std::string description(kAdminsOnly);
  if (!more.empty()) description.append(" ").append(more);
  return Operation(operation_id, summary, description);
}

json::object JsonBody(std::string_view schema) {
  return json::object{
      {"required", true},
      {"content", json::object{{kJson, json::object{{"schema", Ref("schemas", schema)}}}}}};
}

json::object JsonResponse(std::string_view description, std::string_view schema) {
  return json::object{
      {"description", description},
      {"content", json::object{{kJson, json::object{{"schema", Ref("schemas", schema)}}}}}};
}

json::object CreatedResponse(std::string_view schema) {
  json::object response = JsonResponse("Created.", schema);
  response["headers"] = json::object{{"Location", Ref("headers", "Location")}};
  return response;
}

json::object NoContent(std::string_view description) {
  return json::object{{"description", description}};
}

// `success` under `status`, followed by the listed error responses.
json::object Responses(std::string_view status, json::object success,
                       std::initializer_list<int> errors) {
  json::object responses{{status, std::move(success)}};
  for (auto& entry : ErrorResponses(errors)) responses[entry.key()] = std::move(entry.value());
  return responses;
}

// An id with `prefix`, as core/ids.h makes them (like record ids).
json::object PrefixedId(std::string_view prefix) {
  return json::object{{"type", "string"},
                      {"pattern", "^" + std::string(prefix) + "_[0-7][0-9A-HJKMNP-TV-Z]{25}$"}};
}

json::object IdParameter(std::string_view prefix) {
  return json::object{
      {"name", "id"}, {"in", "path"}, {"required", true}, {"schema", PrefixedId(prefix)}};
}

json::object String() { return json::object{{"type", "string"}}; }

json::object Label(std::string_view description) {
  return json::object{{"type", "string"},
                      {"minLength", 1},
                      {"maxLength", kMaxLabelLength},
                      {"description", description}};
}

json::object DateTime() { return json::object{{"type", "string"}, {"format", "date-time"}}; }

// `schema` widened to accept null, with a description.
json::object NullableDescribed(std::string_view description, json::object schema) {
  schema = Nullable(std::move(schema));
  schema["description"] = description;
  return schema;
}

// An object schema; `required` is left out when empty.
json::object Object(json::array required, json::object properties) {
  json::object schema{{"type", "object"}};
  if (!required.empty()) schema["required"] = std::move(required);
  schema["properties"] = std::move(properties);
  return schema;
}

// A request body: only the listed members (others are 422 `unknown_field`).
json::object Body(json::array required, json::object properties) {
  json::object body = Object(std::move(required), std::move(properties));
  body["additionalProperties"] = false;
  return body;
}

// {"data": [<item>]}, plus `next_cursor` when `paged`.
json::object List(std::string_view item, bool paged) {
  json::object properties{
      {"data", json::object{{"type", "array"}, {"items", Ref("schemas", item)}}}};
  json::array required{"data"};
  if (paged) {
    properties["next_cursor"] =
        NullableDescribed("Pass back as `cursor` for the next page; null on the last.", String());
    required.emplace_back("next_cursor");
  }
  return Object(std::move(required), std::move(properties));
}

json::object EnumOf(json::array values, std::string_view description) {
  return json::object{
      {"type", "string"}, {"enum", std::move(values)}, {"description", description}};
}

json::object RoleSchema() {
  json::array names;
  for (auto role :
       {model::Role::kAdmin, model::Role::kSales, model::Role::kSupport, model::Role::kReadOnly}) {
    names.emplace_back(model::RoleName(role));
  }
  return EnumOf(std::move(names), "A role. GET /api/v1/me lists what the caller's role may do.");
}

json::object RecordScopeSchema() {
  json::array names;
  for (auto scope :
       {model::RecordScope::kAll, model::RecordScope::kTeam, model::RecordScope::kOwn}) {
    names.emplace_back(model::RecordScopeName(scope));
  }
  return EnumOf(std::move(names),
                "Which records of an object a role sees: `all` of the tenant's, those the "
                "caller owns (`own`, by `owner_id`), or those owned by anyone who shares a team "
                "with the caller (`team`). Out-of-scope records answer 404 like missing ones, on "
                "every path. API keys belong to no user: under `own` or `team` they see no "
                "records of that object.");
}

json::object ActionSchema() {
  json::array names;
  for (auth::Action action : auth::kAllActions) names.emplace_back(auth::ActionName(action));
  return EnumOf(std::move(names), "An action the policy allows or denies.");
}

json::object MeSchema() {
  std::string objects;
  for (std::string_view object : auth::PolicyObjects()) {
    objects += objects.empty() ? "" : ", ";
    objects += object;
  }
  return Object(
      json::array{"subject", "user_id", "tenant", "role", "pii_masked", "permissions", "scopes"},
      json::object{
          {"subject", json::object{{"type", "string"},
                                   {"description",
                                    "Who is calling, as the audit log names it: `key:<id>` for "
                                    "an API key, else the user's id or the external issuer's "
                                    "`sub`."}}},
          {"user_id",
           NullableDescribed("The caller's user (`usr_…`); null for an API key.", String())},
          {"tenant",
           Object(json::array{"id", "name"}, json::object{{"id", String()}, {"name", String()}})},
          {"role", Ref("schemas", "Role")},
          {"pii_masked", json::object{{"type", "boolean"},
                                      {"description",
                                       "Whether values of `pii` fields reach the caller masked "
                                       "(and may not be filtered, sorted or searched on)."}}},
          {"permissions",
           json::object{{"type", "object"},
                        {"description", "What the role may do, per object and admin area (" +
                                            objects + "); an empty array: nothing."},
                        {"additionalProperties",
                         json::object{{"type", "array"},
                                      {"uniqueItems", true},
                                      {"items", Ref("schemas", "PermissionAction")}}}}},
          {"scopes", json::object{{"type", "object"},
                                  {"description",
                                   "The objects whose records the caller sees only in part; an "
                                   "object not listed is `all`."},
                                  {"additionalProperties", Ref("schemas", "RecordScope")}}},
      });
}

json::object ApiKeySchema() {
  json::object key = Object(
      json::array{"id", "name", "role", "created_at", "expires_at", "revoked_at", "last_used_at"},
      json::object{
          {"id", PrefixedId("key")},
          {"name", String()},
          {"role", Ref("schemas", "Role")},
          {"created_at", DateTime()},
          {"expires_at",
           NullableDescribed("After this the key fails with 401; null: never.", DateTime())},
          {"revoked_at",
           NullableDescribed("When the key was revoked; null while it is not.", DateTime())},
          {"last_used_at",
           NullableDescribed("When the key was last used, to the minute; null: never.",
                             DateTime())},
      });
  key["description"] = "An API key, without its secret: only the secret's SHA-256 is stored.";
  return key;
}

json::object UserSchema() {
  json::object user = Object(
      json::array{"id", "username", "email", "display_name", "role", "status", "issuer",
                  "created_at", "updated_at", "last_login_at", "deactivated_at"},
      json::object{
          {"id", PrefixedId("usr")},
          {"username", String()},
          {"email",
           NullableDescribed("Lower case; null when an external issuer gave none.", String())},
          {"display_name", String()},
          {"role", Ref("schemas", "Role")},
          {"status", EnumOf(json::array{"active", "invited", "deactivated"},
                            "`invited` until the user has a password (users of an external "
                            "issuer are `active` at once); `deactivated` users cannot sign in.")},
          {"issuer",
           NullableDescribed("The external OpenID Connect issuer the user signs in with; null "
                             "for a built-in user.",
                             String())},
          {"created_at", DateTime()},
          {"updated_at", DateTime()},
          {"last_login_at", NullableDescribed("Null until the first sign-in.", DateTime())},
          {"deactivated_at",
           NullableDescribed("Null while the user is not deactivated.", DateTime())},
      });
  user["description"] = "A user of the tenant. Users are never erased: the audit log names them.";
  return user;
}

json::object MemberIds(std::string_view description) {
  return json::object{
      {"type", "array"}, {"items", PrefixedId("usr")}, {"description", description}};
}

json::object TeamSchema() {
  return Object(json::array{"id", "name", "created_at", "member_ids"},
                json::object{{"id", PrefixedId("team")},
                             {"name", String()},
                             {"created_at", DateTime()},
                             {"member_ids", MemberIds("The users in the team.")}});
}

}  // namespace

json::object AccessPaths() {
  json::object me = Operation(
      "getMe", "Who am I",
      "The caller's identity, tenant, role, what the role may do and the record scopes that "
      "narrow it. Any authenticated caller.");
  me["responses"] = Responses("200", JsonResponse("The caller.", "Me"), {401});

  json::object list_keys = AdminOperation("listApiKeys", "List API keys",
                                          "Newest first, revoked keys included; no secrets.");
  list_keys["responses"] =
      Responses("200", JsonResponse("The tenant's keys.", "ApiKeyList"), {401, 403, 503});
  json::object create_key = AdminOperation(
      "createApiKey", "Create an API key",
      "The secret is in `key` of this response only, shown this once; store it now. A key "
      "belongs to no user, so record scopes `own` and `team` show it nothing.");
  create_key["requestBody"] = JsonBody("ApiKeyCreate");
  create_key["responses"] =
      Responses("201", CreatedResponse("ApiKeyCreated"), {400, 401, 403, 413, 415, 422, 503});
  json::object get_key = AdminOperation("getApiKey", "Get an API key", "No secret.");
  get_key["responses"] = Responses("200", JsonResponse("The key.", "ApiKey"), {401, 403, 404, 503});
  json::object revoke_key = AdminOperation(
      "revokeApiKey", "Revoke an API key",
      "The key fails with 401 from its next request (on other nodes within 5 seconds). Revoking "
      "again keeps the first time.");
  revoke_key["responses"] = Responses("204", NoContent("Revoked."), {401, 403, 404, 503});

  json::object list_users =
      AdminOperation("listUsers", "List users", "Oldest first, deactivated users included.");
  list_users["parameters"] = json::array{Ref("parameters", "Limit"), Ref("parameters", "Cursor")};
  list_users["responses"] =
      Responses("200", JsonResponse("A page of users.", "UserList"), {400, 401, 403, 503});
  json::object create_user = AdminOperation(
      "createUser", "Invite a user",
      "The user is `invited` until a password is set. 409 `user_exists` when the username or "
      "e-mail is taken in the tenant.");
  create_user["requestBody"] = JsonBody("UserCreate");
  create_user["responses"] =
      Responses("201", CreatedResponse("User"), {400, 401, 403, 409, 413, 415, 422, 503});
  json::object get_user = AdminOperation("getUser", "Get a user");
  get_user["responses"] = Responses("200", JsonResponse("The user.", "User"), {401, 403, 404, 503});
  json::object update_user = AdminOperation(
      "updateUser", "Change a user's role, status or display name",
      "Deactivation (`active: false`) ends the user's sessions and refresh tokens at once; a "
      "role change holds from the user's next request. 409 `cannot_demote_self` when you would "
      "deactivate yourself or drop your own admin role.");
  update_user["requestBody"] = JsonBody("UserUpdate");
  update_user["responses"] = Responses("200", JsonResponse("The updated user.", "User"),
                                       {400, 401, 403, 404, 409, 413, 415, 422, 503});
  json::object deactivate_user = AdminOperation(
      "deactivateUser", "Deactivate a user",
      "Users are never erased (the audit log names them): this deactivates, ending the user's "
      "sessions and refresh tokens at once. 409 `cannot_deactivate_self` for your own id.");
  deactivate_user["responses"] =
      Responses("204", NoContent("Deactivated."), {401, 403, 404, 409, 503});

  json::object list_teams = AdminOperation("listTeams", "List teams");
  list_teams["responses"] =
      Responses("200", JsonResponse("The tenant's teams.", "TeamList"), {401, 403, 503});
  json::object create_team = AdminOperation(
      "createTeam", "Create a team",
      "Teams decide what the `team` record scope shows. 409 `team_exists` for a taken name; "
      "422 `unknown_user` (naming `member_ids[i]`) for a member who is not a user of the "
      "tenant.");
  create_team["requestBody"] = JsonBody("TeamCreate");
  create_team["responses"] =
      Responses("201", CreatedResponse("Team"), {400, 401, 403, 409, 413, 415, 422, 503});
  json::object get_team = AdminOperation("getTeam", "Get a team");
  get_team["responses"] = Responses("200", JsonResponse("The team.", "Team"), {401, 403, 404, 503});
  json::object update_team = AdminOperation(
      "updateTeam", "Rename a team or replace its members",
      "409 `team_exists` for a taken name; 422 `unknown_user` for a member who is not a user of "
      "the tenant.");
  update_team["requestBody"] = JsonBody("TeamUpdate");
  update_team["responses"] = Responses("200", JsonResponse("The updated team.", "Team"),
                                       {400, 401, 403, 404, 409, 413, 415, 422, 503});
  json::object delete_team = AdminOperation("deleteTeam", "Delete a team");
  delete_team["responses"] = Responses("204", NoContent("Deleted."), {401, 403, 404, 503});

  json::object list_scopes = AdminOperation(
      "listRecordScopes", "List record scopes",
      "The record scopes that differ from `all`, by role then object. By default every role "
      "sees all of the tenant's records it may read.");
  list_scopes["responses"] =
      Responses("200", JsonResponse("The narrowed scopes.", "ScopeSettingList"), {401, 403, 503});
  json::object set_scope = AdminOperation(
      "setRecordScope", "Set a role's record scope on an object",
      "`own` shows the role only records its caller owns (`owner_id`), `team` those owned by "
      "anyone who shares a team with the caller, `all` lifts the narrowing. It holds on every "
      "path (get, list, search, update, delete, restore, batch, upsert); out-of-scope records "
      "answer 404. API keys belong to no user, so under `own` or `team` they see no records of "
      "the object. 404 for an unknown role or object; 422 `not_scopable` for an object without "
      "`owner_id`.");
  const json::object role_parameter{
      {"name", "role"}, {"in", "path"}, {"required", true}, {"schema", Ref("schemas", "Role")}};
  set_scope["requestBody"] = JsonBody("ScopeUpdate");
  set_scope["responses"] = Responses("200", JsonResponse("The setting.", "ScopeSetting"),
                                     {400, 401, 403, 404, 413, 415, 422, 503});

  const std::string base = "/api/v1/";
  return json::object{
      {base + "me", json::object{{"get", std::move(me)}}},
      {base + "api-keys",
       json::object{{"get", std::move(list_keys)}, {"post", std::move(create_key)}}},
      {base + "api-keys/{id}", json::object{{"parameters", json::array{IdParameter("key")}},
                                            {"get", std::move(get_key)},
                                            {"delete", std::move(revoke_key)}}},
      {base + "users",
       json::object{{"get", std::move(list_users)}, {"post", std::move(create_user)}}},
      {base + "users/{id}", json::object{{"parameters", json::array{IdParameter("usr")}},
                                         {"get", std::move(get_user)},
                                         {"patch", std::move(update_user)},
                                         {"delete", std::move(deactivate_user)}}},
      {base + "teams",
       json::object{{"get", std::move(list_teams)}, {"post", std::move(create_team)}}},
      {base + "teams/{id}", json::object{{"parameters", json::array{IdParameter("team")}},
                                         {"get", std::move(get_team)},
                                         {"patch", std::move(update_team)},
                                         {"delete", std::move(delete_team)}}},
      {base + "access/scopes", json::object{{"get", std::move(list_scopes)}}},
      {base + "access/scopes/{role}/{object}",
       json::object{{"parameters", json::array{role_parameter, Ref("parameters", "ObjectName")}},
                    {"put", std::move(set_scope)}}},
  };
}

json::object AccessSchemas() {
  json::object created = Object(
      json::array{"key"},
      json::object{{"key", json::object{{"type", "string"},
                                        {"pattern", "^zbk_[A-Za-z0-9_-]+$"},
                                        {"description",
                                         "The secret, for `Authorization: Bearer <key>`. Shown "
                                         "this once: only its hash is stored."}}}});
  json::object api_key_created{{"allOf", json::array{Ref("schemas", "ApiKey"), created}},
                               {"description", "A new API key with its secret."}};

  json::object expires_at = NullableDescribed(
      "When the key stops working; must lie in the future. Null or absent: never.", DateTime());
  json::object create_key =
      Body(json::array{"name", "role"}, json::object{{"name", Label("What the key is for.")},
                                                     {"role", Ref("schemas", "Role")},
                                                     {"expires_at", std::move(expires_at)}});

  json::object email = Label("The user's e-mail address; stored in lower case.");
  email["pattern"] = "^[^ ]*@[^ ]*$";
  json::object create_user =
      Body(json::array{"email", "role"},
           json::object{
               {"email", std::move(email)},
               {"role", Ref("schemas", "Role")},
               {"username", Nullable(Label("The sign-in name; the e-mail when null or absent."))},
               {"display_name", Nullable(Label("The name shown for the user."))},
           });
  json::object update_user =
      Body(json::array{},
           json::object{
               {"role", Ref("schemas", "Role")},
               {"active",
                json::object{{"type", "boolean"},
                             {"description",
                              "false deactivates the user and ends their sessions at once; true "
                              "reactivates."}}},
               {"display_name", Label("The name shown for the user.")},
           });

  json::object create_team =
      Body(json::array{"name"},
           json::object{{"name", Label("Unique in the tenant.")},
                        {"member_ids", MemberIds("The team's members: users of the tenant.")}});
  json::object update_team = Body(
      json::array{},
      json::object{{"name", Nullable(Label("The new name; null or absent: unchanged."))},
                   {"member_ids", MemberIds("Replaces the whole membership; absent: unchanged.")}});

  json::object scope_setting = Object(
      json::array{"role", "object", "scope"},
      json::object{
          {"role", Ref("schemas", "Role")},
          {"object", json::object{{"type", "string"}, {"pattern", "^[a-z][a-z0-9_]{0,62}$"}}},
          {"scope", Ref("schemas", "RecordScope")}});
  json::object scope_update =
      Body(json::array{"scope"}, json::object{{"scope", Ref("schemas", "RecordScope")}});

  return json::object{
      {"Role", RoleSchema()},
      {"RecordScope", RecordScopeSchema()},
      {"PermissionAction", ActionSchema()},
      {"Me", MeSchema()},
      {"ApiKey", ApiKeySchema()},
      {"ApiKeyCreate", std::move(create_key)},
      {"ApiKeyCreated", std::move(api_key_created)},
      {"ApiKeyList", List("ApiKey", false)},
      {"User", UserSchema()},
      {"UserCreate", std::move(create_user)},
      {"UserUpdate", std::move(update_user)},
      {"UserList", List("User", true)},
      {"Team", TeamSchema()},
      {"TeamCreate", std::move(create_team)},
      {"TeamUpdate", std::move(update_team)},
      {"TeamList", List("Team", false)},
      {"ScopeSetting", std::move(scope_setting)},
      {"ScopeUpdate", std::move(scope_update)},
      {"ScopeSettingList", List("ScopeSetting", false)},
  };
}

}  // namespace zebros::api::openapi_internal
