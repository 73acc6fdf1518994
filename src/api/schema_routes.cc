// The schema and OpenAPI endpoints of ApiHandler.
#include "api/api_handler.h"
#include "api/openapi.h"
#include "api/problem.h"
#include "core/json.h"
#include "model/field_json.h"

namespace zebros::api {
namespace json = boost::json;

namespace {
json::object ObjectTypeJson(const model::ObjectType& type) {
  json::array fields;
  for (const auto& field : type.fields) fields.push_back(model::FieldToJson(field));
  return json::object{{"name", type.name},
                      {"singular", type.singular},
                      {"label", type.label},
                      {"id_prefix", type.id_prefix},
                      {"fields", std::move(fields)}};
}
}  // namespace

void ApiHandler::ListSchemas(Call& call) {
  auto types = schemas_.All(call.principal);
  if (!types.ok()) return call.Send(ProblemResponse(types.error()));
  json::array data;
  for (const auto& type : *types) data.push_back(ObjectTypeJson(*type));
  call.Send(JsonResponse(200, core::WriteJson(json::object{{"data", std::move(data)}})));
}

void ApiHandler::GetSchema(Call& call, const model::ObjectTypePtr& type) {
  call.Send(JsonResponse(200, core::WriteJson(ObjectTypeJson(*type))));
}

void ApiHandler::AddField(Call& call, const model::ObjectTypePtr& type) {
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return call.Send(ProblemResponse(body.error()));
  schemas_.AddField(
      call.principal, type->name, *body, [call, type](core::Result<model::Field> field) {
        if (!field.ok()) return call.Send(ProblemResponse(field.error()));
        auto response = JsonResponse(201, core::WriteJson(model::FieldToJson(*field)));
        response.SetHeader("Location", "/api/v1/schema/" + type->name);
        call.Send(std::move(response));
      });
}

void ApiHandler::GetOpenApi(Call& call) {
  auto types = schemas_.All(call.principal);
  if (!types.ok()) return call.Send(ProblemResponse(types.error()));
  call.Send(JsonResponse(200, core::WriteJson(BuildOpenApiDocument(*types))));
}

}  // namespace zebros::api
