#include "api/openapi.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <set>
#include <string>

#include "api/openapi_internal.h"
#include "model/query.h"

namespace zebros::api {
namespace json = boost::json;

namespace openapi_internal {

json::object Ref(std::string_view section, std::string_view name) {
  std::string target = "#/components/";
  target.append(section);
  target.push_back('/');
  target.append(name);
  return json::object{{"$ref", target}};
}

std::string PascalCase(std::string_view snake_case) {
  std::string out;
  out.reserve(snake_case.size());
  bool start_of_word = true;
  for (char c : snake_case) {
    if (c == '_') {
      start_of_word = true;
      continue;
    }
    out.push_back(start_of_word && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
    start_of_word = false;
  }
  return out;
}

std::string WithArticle(std::string_view noun) {
  const bool vowel = !noun.empty() && std::string_view("aeiou").find(noun[0]) != noun.npos;
  std::string out = vowel ? "an " : "a ";
  out.append(noun);
  return out;
}

json::object IdSchema(const model::ObjectType& type) {
  // Prefixes are plain letters today; escape ECMA-262 syntax characters anyway so an odd
  // prefix can never produce a broken pattern.
  constexpr std::string_view kSyntaxChars = "^$\\.*+?()[]{}|/";
  std::string pattern = "^";
  for (char c : type.id_prefix) {
    if (kSyntaxChars.find(c) != std::string_view::npos) pattern.push_back('\\');
    pattern.push_back(c);
  }
  // 128 bits in 26 base-32 digits: the first digit carries 3 bits (see core::IsWellFormedId).
  pattern += "_[0-7][0-9A-HJKMNP-TV-Z]{25}$";
  return json::object{{"type", "string"},
                      {"pattern", pattern},
                      {"description", "Id of " + WithArticle(type.singular) + " record."}};
}

std::string TagName(const model::ObjectType& type) {
  return type.label.empty() ? type.name : type.label;
}

json::array FilterOpNames() {
  json::array names;
  // FilterOp's enumerators are contiguous from 0 and kIsNull is the last.
  for (int op = 0; op <= static_cast<int>(model::FilterOp::kIsNull); ++op) {
    names.emplace_back(model::FilterOpName(static_cast<model::FilterOp>(op)));
  }
  return names;
}

json::object Nullable(json::object schema) {
  if (auto* type = schema.if_contains("type"); type != nullptr && type->is_string()) {
    *type = json::array{type->get_string(), "null"};
  }
  if (auto* values = schema.if_contains("enum"); values != nullptr && values->is_array()) {
    values->get_array().emplace_back(nullptr);
  }
  return schema;
}

namespace {

struct ErrorResponse {
  int status;
  std::string_view name;
  std::string_view description;
  std::string_view header;  // a components.headers entry the response carries, or empty
};
constexpr ErrorResponse kErrorResponses[] = {
    {400, "BadRequest",
     "The request is malformed: `malformed_json`, `json_limit_exceeded`, `invalid_body` (not a "
     "JSON object), `invalid_parameter` (unknown or bad query parameter, search key, limit or "
     "Idempotency-Key), `invalid_filter` (bad filter or sort) or `invalid_cursor`.",
     ""},
    {401, "Unauthorized",
     "No credential, or an unknown, expired or revoked one (`unauthenticated`).",
     "WWW-Authenticate"},
    {403, "Forbidden", "Authenticated, but your role may not do this (`forbidden`).", ""},
    {404, "NotFound",
     "No such record, object type, user, API key, team or role in your tenant (`not_found`); "
     "another tenant's ids answer the same.",
     ""},
    {405, "MethodNotAllowed",
     "The path does not take this method (`method_not_allowed`); `Allow` lists the ones it "
     "takes.",
     "Allow"},
    {409, "Conflict",
     "A unique value is already taken (`conflict`, with an `errors` entry of code `unique` per "
     "field), the object already has a field of that name (`conflict`) or has the most custom "
     "fields it may have (`too_many_fields`), a username or e-mail is taken (`user_exists`), a "
     "team name is taken (`team_exists`), an admin would deactivate or demote themself "
     "(`cannot_deactivate_self`, `cannot_demote_self`), or, on PostgreSQL, the write collided "
     "with a concurrent one on another node and was undone (`write_conflict`: retry it).",
     ""},
    {412, "PreconditionFailed",
     "`If-Match` is neither `*` nor the record's current ETag (`precondition_failed`).", ""},
    {413, "PayloadTooLarge", "The request body is over the size limit (`payload_too_large`).", ""},
    {415, "UnsupportedMediaType",
     "The request body is not `application/json` (`unsupported_media_type`).", ""},
    {422, "ValidationFailed",
     "The body is well-formed but invalid (`validation_failed`): `errors` lists each field's "
     "problem. Also a batch over the operation limit (`batch_too_large`) and an Idempotency-Key "
     "reused with a different request (`idempotency_key_reused`).",
     ""},
    {503, "ServiceUnavailable",
     "Not ready, shutting down, too busy to take the work (`unavailable`), or the database "
     "cannot be reached (`database_unavailable`); retry after "
     "`Retry-After` seconds.",
     "Retry-After"},
};

json::object StringHeader(std::string_view description, json::object schema = {}) {
  schema["type"] = "string";
  return json::object{{"description", description}, {"schema", std::move(schema)}};
}

}  // namespace

json::object ErrorResponses(std::initializer_list<int> statuses) {
  json::object responses;
  for (int status : statuses) {
    for (const auto& error : kErrorResponses) {
      if (error.status == status) responses[std::to_string(status)] = Ref("responses", error.name);
    }
  }
  return responses;
}

json::object SharedResponses() {
  json::object responses;
  for (const auto& error : kErrorResponses) {
    json::object response{
        {"description", error.description},
        {"content", json::object{{"application/problem+json",
                                  json::object{{"schema", Ref("schemas", "Problem")}}}}},
    };
    if (!error.header.empty()) {
      response["headers"] = json::object{{error.header, Ref("headers", error.header)}};
    }
    responses[error.name] = std::move(response);
  }
  return responses;
}

json::object SharedParameters() {
  auto header = [](std::string_view name, std::string_view description) {
    return json::object{{"name", name},
                        {"in", "header"},
                        {"description", description},
                        {"schema", json::object{{"type", "string"}}}};
  };
  json::object idempotency_key =
      header("Idempotency-Key",
             "A client-chosen unique key. Retrying the same request with the same key within 24 "
             "hours returns the first response (with `Idempotent-Replayed: true`) instead of "
             "writing twice; the same key with a different request is a 422 "
             "`idempotency_key_reused`, and a key outside 1..255 characters a 400.");
  idempotency_key["schema"] =
      json::object{{"type", "string"}, {"minLength", 1}, {"maxLength", 255}};
  return json::object{
      {"Limit", json::object{{"name", "limit"},
                             {"in", "query"},
                             {"description", "Page size; outside 1..500 is a 400."},
                             {"schema", json::object{{"type", "integer"},
                                                     {"minimum", 1},
                                                     {"maximum", model::kMaxPageSize},
                                                     {"default", model::kDefaultPageSize}}}}},
      {"Cursor", json::object{{"name", "cursor"},
                              {"in", "query"},
                              {"description",
                               "`next_cursor` of the previous page, with the same filter and "
                               "sort; any other value is a 400 `invalid_cursor`."},
                              {"schema", json::object{{"type", "string"}}}}},
      {"Q", json::object{{"name", "q"},
                         {"in", "query"},
                         {"description",
                          "Full-text search over the searchable fields; without `sort`, results "
                          "come by rank: the newest 200 matches (or `limit`, if larger) are "
                          "ranked, and the pages of one search end there."},
                         {"schema", json::object{{"type", "string"}, {"maxLength", 256}}}}},
      {"IfMatch", header("If-Match",
                         "`\"<id>-v<version>\"` (the record's ETag, `W/` tolerated) or `*`. "
                         "Apply only if it names the record's current version; otherwise 412.")},
      {"IfNoneMatch", header("If-None-Match",
                             "ETags, comma-separated, or `*`: answer 304 without a body when one "
                             "matches the record's.")},
      {"IdempotencyKey", std::move(idempotency_key)},
      {"CacheControl",
       header("Cache-Control",
              "A page may come from the server's page cache, which every write of the tenant's "
              "records invalidates first, so it is always current. `no-cache` reads the page "
              "from the database (and caches it anew); `no-store` reads it and keeps nothing.")},
      {"ObjectName", json::object{{"name", "object"},
                                  {"in", "path"},
                                  {"required", true},
                                  {"description", "An object type's name, e.g. contacts."},
                                  {"schema", json::object{{"type", "string"},
                                                          {"pattern", "^[a-z][a-z0-9_]{0,62}$"}}}}},
  };
}

json::object SharedHeaders() {
  return json::object{
      {"ETag",
       StringHeader(
           "The record's current version: `\"<id>-v<version>\"`, for If-Match "
           "and If-None-Match.",
           json::object{{"pattern", "^\"[a-z][a-z0-9]*_[0-7][0-9A-HJKMNP-TV-Z]{25}-v[0-9]+\"$"},
                        {"examples", json::array{"\"con_01JABCDEFGHJKMNPQRSTVWXYZ0-v3\""}}})},
      {"Location",
       StringHeader("The URL of the created resource.", json::object{{"format", "uri-reference"}})},
      {"Idempotent-Replayed",
       StringHeader("Present, as `true`, when the response is the replay of an earlier request "
                    "with the same Idempotency-Key.",
                    json::object{{"enum", json::array{"true"}}})},
      {"X-Request-Id", StringHeader("The request's id: the client's own `X-Request-Id` when it "
                                    "sent a sane one, else a generated one. Quote it in support "
                                    "requests.")},
      {"WWW-Authenticate", StringHeader("The authentication scheme: `Bearer realm=\"zebros\"`.")},
      {"Allow", StringHeader("The methods the path takes, e.g. `GET, POST`.")},
      {"Retry-After",
       StringHeader("Seconds to wait before retrying.", json::object{{"pattern", "^[0-9]+$"}})},
  };
}

}  // namespace openapi_internal

namespace {
using namespace openapi_internal;

json::object Info() {
  return json::object{
      {"title", "Zebros CRM API"},
      {"version", "1.0.0"},
      {"description",
       "REST API of the Zebros CRM. Every object type (accounts, contacts, ...) is served by the "
       "same generic endpoints, generated from the tenant's object schemas, custom fields "
       "included. Requests and responses are JSON; errors are RFC 9457 "
       "`application/problem+json` with a stable `code`. Lists use cursor pagination. Records "
       "carry a `version`; their ETag is `\"<id>-v<version>\"` (send it as `If-Match` for safe "
       "updates and deletes). Deletes are soft and can be restored. Every response carries "
       "`X-Request-Id` (a sane incoming one is echoed); a path called with a method it does not "
       "take answers 405 with `Allow`."},
  };
}

json::object SecuritySchemes() {
  return json::object{
      {"bearerAuth",
       json::object{
           {"type", "http"},
           {"scheme", "bearer"},
           {"description",
            "An API key, or an access token (JWT) from the configured OpenID Connect issuer, "
            "sent as `Authorization: Bearer <token>`."},
       }},
  };
}

json::array Tags(const std::vector<model::ObjectTypePtr>& types) {
  json::array tags;
  std::set<std::string> seen;
  for (const auto& type : types) {
    std::string name = TagName(*type);
    if (!seen.insert(name).second) continue;
    tags.push_back(json::object{
        {"name", name}, {"description", "Records of the `" + type->name + "` object type."}});
  }
  tags.push_back(json::object{{"name", kSchemaTag},
                              {"description", "Object types and their fields, custom fields."}});
  tags.push_back(
      json::object{{"name", kSystemTag}, {"description", "Health and API description."}});
  tags.push_back(
      json::object{{"name", kAuditTag}, {"description", "The tenant's tamper-evident audit log."}});
  tags.push_back(json::object{
      {"name", kAccessTag},
      {"description",
       "Who am I, API keys, users, teams and record scopes. All but GET /api/v1/me are for "
       "admins only; everything is scoped to the caller's tenant."}});
  return tags;
}

// Adds the X-Request-Id header, which every response carries, to each response defined in
// `responses` (those that are $refs get it from their component).
void AddRequestIdHeader(json::object& responses) {
  for (auto& entry : responses) {
    json::object& response = entry.value().as_object();
    if (response.contains("$ref")) continue;
    json::value& headers = response["headers"];
    if (!headers.is_object()) headers = json::object{};
    headers.as_object()["X-Request-Id"] = Ref("headers", "X-Request-Id");
  }
}

}  // namespace

json::value BuildOpenApiDocument(const std::vector<model::ObjectTypePtr>& types) {
  json::object schemas = SharedSchemas();
  json::object paths;
  for (const auto& type : types) {
    for (auto& entry : RecordSchemas(*type, types)) schemas[entry.key()] = std::move(entry.value());
    for (auto& entry : ObjectPaths(*type)) paths[entry.key()] = std::move(entry.value());
    for (auto& entry : HistoryPaths(*type)) paths[entry.key()] = std::move(entry.value());
  }
  for (auto& entry : SystemPaths()) paths[entry.key()] = std::move(entry.value());
  for (auto& entry : AuditPaths()) paths[entry.key()] = std::move(entry.value());
  for (auto& entry : AuditSchemas()) schemas[entry.key()] = std::move(entry.value());
  for (auto& entry : AccessPaths()) paths[entry.key()] = std::move(entry.value());
  for (auto& entry : AccessSchemas()) schemas[entry.key()] = std::move(entry.value());
  for (auto& path : paths) {
    for (auto& operation : path.value().as_object()) {
      if (operation.key() == "parameters") continue;
      AddRequestIdHeader(operation.value().as_object()["responses"].as_object());
    }
  }
  json::object responses = SharedResponses();
  AddRequestIdHeader(responses);

  json::object document;
  document["openapi"] = "3.1.0";
  document["info"] = Info();
  document["jsonSchemaDialect"] = "https://spec.openapis.org/oas/3.1/dialect/base";
  document["servers"] = json::array{json::object{{"url", "/"}}};
  document["security"] = json::array{json::object{{"bearerAuth", json::array{}}}};
  document["tags"] = Tags(types);
  document["paths"] = std::move(paths);
  document["components"] = json::object{
      {"schemas", std::move(schemas)},        {"responses", std::move(responses)},
      {"parameters", SharedParameters()},     {"headers", SharedHeaders()},
      {"securitySchemes", SecuritySchemes()},
  };
  return document;
}

}  // namespace zebros::api
