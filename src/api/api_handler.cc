#include "api/api_handler.h"

#include "api/problem.h"
#include "core/json.h"
#include "core/log.h"

namespace zebros::api {
namespace json = boost::json;

namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return segments;
}

bool IsJsonContentType(const std::string* content_type) {
  if (content_type == nullptr) return false;
  std::string_view type = *content_type;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower(type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" || lower == "application/merge-patch+json";
}

// Every answer names its tenant for the access log.
void SendStamped(const net::Reply& reply, const std::string& tenant_id,
                 net::HttpResponse response) {
  response.log_tenant = tenant_id;
  reply(std::move(response));
}

}  // namespace

ApiHandler::ApiHandler(ApiServices services)
    : records_(services.records),
      schemas_(services.schemas),
      authenticator_(services.authenticator),
      access_(services.access),
      directory_(services.directory),
      identities_(services.identities),
      pool_(services.pool),
      reads_(services.reads),
      clock_(services.clock),
      audit_(services.audit),
      ready_(std::move(services.ready)),
      idp_(services.idp),
      pages_(services.pages) {}

void ApiHandler::Answer::Send(net::HttpResponse response) const {
  SendStamped(reply, tenant_id, std::move(response));
}

void ApiHandler::Call::Send(net::HttpResponse response) const {
  SendStamped(reply, principal.tenant_id, std::move(response));
}

std::optional<ApiHandler::Route> ApiHandler::Match(std::string_view path) {
  const auto s = Segments(path);
  if (s.size() == 1 && s[0] == "healthz") return Route{RouteKind::kHealth, {}, {}, "GET"};
  if (s.size() == 1 && s[0] == "readyz") return Route{RouteKind::kReady, {}, {}, "GET"};
  if (s.size() < 3 || s[0] != "api" || s[1] != "v1") return std::nullopt;
  const std::string third(s[2]);
  if (third == "openapi.json" && s.size() == 3) return Route{RouteKind::kOpenApi, {}, {}, "GET"};
  // Access areas come before objects: their names are reserved, never object types.
  if (third == "me" && s.size() == 3) return Route{RouteKind::kMe, {}, {}, "GET"};
  if (third == "users" || third == "api-keys" || third == "teams") {
    const RouteKind kind = third == "users"      ? RouteKind::kUsers
                           : third == "api-keys" ? RouteKind::kApiKeys
                                                 : RouteKind::kTeams;
    if (s.size() == 3) return Route{kind, {}, {}, "GET, POST"};
    if (s.size() == 4) {
      return Route{kind,
                   {},
                   std::string(s[3]),
                   kind == RouteKind::kApiKeys ? "GET, DELETE" : "GET, PATCH, DELETE"};
    }
    return std::nullopt;
  }
  if (third == "access" && s.size() >= 4 && s[3] == "scopes") {
    if (s.size() == 4) return Route{RouteKind::kScopes, {}, {}, "GET"};
    // /access/scopes/{role}/{object}: the role travels in `id`, the object in `object`.
    if (s.size() == 6)
      return Route{RouteKind::kScopes, std::string(s[5]), std::string(s[4]), "PUT"};
    return std::nullopt;
  }
  if (third == "schema") {
    if (s.size() == 3) return Route{RouteKind::kSchemaList, {}, {}, "GET"};
    if (s.size() == 4) return Route{RouteKind::kSchemaObject, std::string(s[3]), {}, "GET"};
    if (s.size() == 5 && s[4] == "fields") {
      return Route{RouteKind::kSchemaFields, std::string(s[3]), {}, "POST"};
    }
    return std::nullopt;
  }
  if (third == "audit" && s.size() == 3) return Route{RouteKind::kAudit, {}, {}, "GET"};
  if (!model::IsValidIdentifier(third)) return std::nullopt;
  if (s.size() == 3) return Route{RouteKind::kCollection, third, {}, "GET, POST"};
  if (s.size() == 4 && s[3] == "search") return Route{RouteKind::kSearch, third, {}, "POST"};
  if (s.size() == 4 && s[3] == "batch") return Route{RouteKind::kBatch, third, {}, "POST"};
  if (s.size() == 4)
    return Route{RouteKind::kRecord, third, std::string(s[3]), "GET, PATCH, DELETE"};
  if (s.size() == 5 && s[4] == "restore") {
    return Route{RouteKind::kRestore, third, std::string(s[3]), "POST"};
  }
  if (s.size() == 5 && s[4] == "history") {
    return Route{RouteKind::kHistory, third, std::string(s[3]), "GET"};
  }
  return std::nullopt;
}

bool ApiHandler::MethodAllowed(const Route& route, std::string_view method) {
  std::string_view allowed = route.allowed;
  while (!allowed.empty()) {
    const auto comma = allowed.find(", ");
    if (allowed.substr(0, comma) == method) return true;
    if (comma == std::string_view::npos) break;
    allowed.remove_prefix(comma + 2);
  }
  return false;
}

void ApiHandler::Handle(net::HttpRequest& request, net::Reply reply) {
  // The identity provider's endpoints carry no API credential; they answer for themselves.
  if (idp_ != nullptr && IdpRoutes::Matches(request.path)) {
    return idp_->Handle(request, std::move(reply));
  }
  Call call{request, std::move(reply), {}};
  auto route = Match(request.path);
  if (!route) {
    return call.Send(
        ProblemResponse(core::MakeError(core::Code::kNotFound, "not_found", "No such resource.")));
  }
  if (!MethodAllowed(*route, request.method)) {
    auto response =
        ProblemResponse(core::MakeError(core::Code::kMethodNotAllowed, "method_not_allowed",
                                        "Method " + request.method + " is not allowed here."));
    response.SetHeader("Allow", route->allowed);
    return call.Send(std::move(response));
  }
  if (route->kind == RouteKind::kHealth) {
    return call.Send(JsonResponse(200, "{\"status\":\"ok\"}"));
  }
  if (route->kind == RouteKind::kReady) {
    const auto answer = [](const Answer& to, bool ready) {
      if (ready) return to.Send(JsonResponse(200, "{\"status\":\"ready\"}"));
      to.Send(ProblemResponse(
          core::MakeError(core::Code::kUnavailable, "not_ready", "The database is not ready.")));
    };
    // The check connects and queries: against a server that hangs, it waits out the connect
    // timeout, which an I/O thread must not (every request on it, liveness probes too, would).
    auto to = call.Defer();
    if (reads_ == nullptr) return answer(to, ready_());
    auto waiting = std::make_shared<Answer>(std::move(to));
    if (!reads_->Post([this, waiting, answer] { answer(*waiting, ready_()); })) {
      answer(*waiting, false);
    }
    return;
  }
  auto principal = authenticator_.Authenticate(request.FindHeader("authorization"));
  if (!principal.ok()) return call.Send(ProblemResponse(principal.error()));
  call.principal = std::move(principal).value();
  call.principal.mask_pii = auth::MasksPii(call.principal.role);
  call.principal.request_id = request.request_id;
  call.principal.client_ip = request.remote_address;
  auto resolved = access_.Resolve(call.principal);
  if (!resolved.ok()) return call.Send(ProblemResponse(resolved.error()));
  Dispatch(*route, call);
}

bool ApiHandler::Permit(const Call& call, std::string_view object, auth::Action action) const {
  if (auth::IsAllowed(call.principal.role, object, action)) return true;
  core::Log(core::LogLevel::kInfo, "permission denied",
            {{"request_id", call.request.request_id},
             {"tenant", call.principal.tenant_id},
             {"subject", call.principal.subject},
             {"object", object},
             {"action", auth::ActionName(action)}});
  storage::AuditEntry entry;
  entry.action = storage::audit_action::kPermissionDenied;
  entry.object = std::string(object);
  entry.details["action"] = auth::ActionName(action);
  entry.details["method"] = call.request.method;
  entry.details["path"] = call.request.path;
  auto problem =
      ProblemResponse(core::MakeError(core::Code::kForbidden, "forbidden",
                                      "Your role may not " + std::string(auth::ActionName(action)) +
                                          " " + std::string(object) + "."));
  // The answer waits for the entry, so a denial a client has seen is always on record.
  audit_.Append(
      call.principal, std::move(entry), [call, problem = std::move(problem)](core::Status status) {
        if (!status.ok()) {
          core::Log(core::LogLevel::kError, "audit entry of a denial failed",
                    {{"request_id", call.principal.request_id}, {"detail", status.error().detail}});
        }
        call.Send(problem);
      });
  return false;
}

core::Result<json::object> ApiHandler::JsonObjectBody(const net::HttpRequest& request) const {
  if (!IsJsonContentType(request.FindHeader("content-type"))) {
    return core::MakeError(core::Code::kUnsupportedMediaType, "unsupported_media_type",
                           "Send the body as application/json.");
  }
  auto parsed = core::ParseJson(request.body);
  if (!parsed.ok()) return std::move(parsed).error();
  if (!parsed->is_object()) {
    return core::MakeError(core::Code::kBadRequest, "invalid_body",
                           "The body must be a JSON object.");
  }
  return std::move(parsed->get_object());
}

void ApiHandler::Dispatch(const Route& route, Call& call) {
  switch (route.kind) {
    case RouteKind::kOpenApi:
      return GetOpenApi(call);
    case RouteKind::kSchemaList:
      return ListSchemas(call);
    case RouteKind::kMe:
      return GetMe(call);
    case RouteKind::kUsers:
      return Users(call, route.id);
    case RouteKind::kApiKeys:
      return ApiKeys(call, route.id);
    case RouteKind::kTeams:
      return Teams(call, route.id);
    case RouteKind::kScopes:
      return Scopes(call, route.id, route.object);
    case RouteKind::kAudit:
      if (!Permit(call, "audit_log", auth::Action::kRead)) return;
      return ListAudit(call);
    default:
      break;
  }
  auto type = schemas_.Find(call.principal, route.object);
  if (!type.ok()) return call.Send(ProblemResponse(type.error()));
  const std::string& method = call.request.method;
  switch (route.kind) {
    case RouteKind::kSchemaObject:
      return GetSchema(call, *type);
    case RouteKind::kSchemaFields:
      if (!Permit(call, "schema", auth::Action::kAdmin)) return;
      return AddField(call, *type);
    case RouteKind::kCollection:
      if (method == "GET") {
        if (!Permit(call, route.object, auth::Action::kRead)) return;
        return ListRecords(call, *type);
      }
      if (!Permit(call, route.object, auth::Action::kCreate)) return;
      return CreateRecord(call, *type);
    case RouteKind::kSearch:
      if (!Permit(call, route.object, auth::Action::kRead)) return;
      return SearchRecords(call, *type);
    case RouteKind::kBatch:
      return BatchRecords(call, *type);
    case RouteKind::kRecord:
      if (method == "GET") {
        if (!Permit(call, route.object, auth::Action::kRead)) return;
        return GetRecord(call, *type, route.id);
      }
      if (method == "PATCH") {
        if (!Permit(call, route.object, auth::Action::kUpdate)) return;
        return UpdateRecord(call, *type, route.id);
      }
      if (!Permit(call, route.object, auth::Action::kDelete)) return;
      return DeleteRecord(call, *type, route.id);
    case RouteKind::kRestore:
      if (!Permit(call, route.object, auth::Action::kRestore)) return;
      return RestoreRecord(call, *type, route.id);
    case RouteKind::kHistory:
      if (!Permit(call, route.object, auth::Action::kRead)) return;
      return RecordHistory(call, *type, route.id);
    default:
      return call.Send(ProblemResponse(
          core::MakeError(core::Code::kNotFound, "not_found", "No such resource.")));
  }
}

}  // namespace zebros::api
