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
       "`application/problem+json` with a stable `code`. Lists use cursor pagination; "
       "records carry a `version` from which their ETag is derived (send `If-Match` for safe "
       "updates); deletes are soft and can be restored."},
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
  return tags;
}

}  // namespace

json::value BuildOpenApiDocument(const std::vector<model::ObjectTypePtr>& types) {
  json::object schemas = SharedSchemas();
  json::object paths;
  for (const auto& type : types) {
    for (auto& entry : RecordSchemas(*type, types)) schemas[entry.key()] = std::move(entry.value());
    for (auto& entry : ObjectPaths(*type)) paths[entry.key()] = std::move(entry.value());
  }
  for (auto& entry : SystemPaths()) paths[entry.key()] = std::move(entry.value());

  json::object document;
  document["openapi"] = "3.1.0";
  document["info"] = Info();
  document["jsonSchemaDialect"] = "https://spec.openapis.org/oas/3.1/dialect/base";
  document["servers"] = json::array{json::object{{"url", "/"}}};
  document["security"] = json::array{json::object{{"bearerAuth", json::array{}}}};
  document["tags"] = Tags(types);
  document["paths"] = std::move(paths);
  document["components"] = json::object{
      {"schemas", std::move(schemas)},        {"responses", SharedResponses()},
      {"parameters", SharedParameters()},     {"headers", SharedHeaders()},
      {"securitySchemes", SecuritySchemes()},
  };
  return document;
}

}  // namespace zebros::api
