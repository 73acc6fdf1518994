// The access endpoints of ApiHandler: who am I, users, API keys, teams and record scopes. Every
// one of them is scoped to the caller's tenant; another tenant's ids answer 404 like unknown ones.
#include <algorithm>

#include "api/api_handler.h"
#include "api/problem.h"
#include "api/query_parsing.h"
#include "core/json.h"
#include "core/time_format.h"

namespace zebros::api {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxLabelLength = 200;

json::value TimeOrNull(const std::optional<core::EpochMillis>& at) {
  if (!at) return nullptr;
  return json::value(core::FormatTimestamp(*at));
}

json::object KeyJson(const storage::ApiKeyInfo& key) {
  return json::object{{"id", key.id},
                      {"name", key.name},
                      {"role", model::RoleName(key.role)},
                      {"created_at", core::FormatTimestamp(key.created_at)},
                      {"expires_at", TimeOrNull(key.expires_at)},
                      {"revoked_at", TimeOrNull(key.revoked_at)},
                      {"last_used_at", TimeOrNull(key.last_used_at)}};
}

json::object UserJson(const storage::UserInfo& user) {
  const char* status = !user.active                                ? "deactivated"
                       : user.has_password || !user.issuer.empty() ? "active"
                                                                   : "invited";
  return json::object{
      {"id", user.id},
      {"username", user.username},
      {"email", user.email.empty() ? json::value(nullptr) : json::value(user.email)},
      {"display_name", user.display_name},
      {"role", model::RoleName(user.role)},
      {"status", status},
      {"issuer", user.issuer.empty() ? json::value(nullptr) : json::value(user.issuer)},
      {"created_at", core::FormatTimestamp(user.created_at)},
      {"updated_at", core::FormatTimestamp(user.updated_at)},
      {"last_login_at", TimeOrNull(user.last_login_at)},
      {"deactivated_at", TimeOrNull(user.deactivated_at)}};
}

json::object TeamJson(const storage::TeamInfo& team) {
  json::array members;
  for (const auto& id : team.member_ids) members.emplace_back(id);
  return json::object{{"id", team.id},
                      {"name", team.name},
                      {"created_at", core::FormatTimestamp(team.created_at)},
                      {"member_ids", std::move(members)}};
}

core::Error Invalid(std::string field, std::string code, std::string message) {
  core::Error error = core::MakeError(core::Code::kValidation, "validation_failed",
                                      "The request has invalid fields.");
  error.field_errors.push_back({std::move(field), std::move(code), std::move(message), -1});
  return error;
}

// Rejects members not in `allowed`: a typo must not be ignored silently.
core::Status OnlyMembers(const json::object& body,
                         std::initializer_list<std::string_view> allowed) {
  for (const auto& member : body) {
    if (std::find(allowed.begin(), allowed.end(), member.key()) == allowed.end()) {
      return Invalid(std::string(member.key()), "unknown_field",
                     "This field is not accepted here.");
    }
  }
  return core::OkStatus();
}

core::Result<model::Role> RoleMember(const json::object& body, std::string_view name) {
  const json::value* value = body.if_contains(name);
  model::Role role{};
  if (value == nullptr) return Invalid(std::string(name), "required", "A role is required.");
  if (!value->is_string() || !model::ParseRole(value->get_string(), role)) {
    return Invalid(std::string(name), "invalid_enum",
                   "Must be one of admin, sales, support, read_only.");
  }
  return role;
}

core::Result<std::string> LabelMember(const json::object& body, std::string_view name,
                                      bool required) {
  const json::value* value = body.if_contains(name);
  if (value == nullptr || value->is_null()) {
    if (required) return Invalid(std::string(name), "required", "This field is required.");
    return std::string();
  }
  if (!value->is_string()) return Invalid(std::string(name), "invalid_type", "Must be a string.");
  std::string text(value->get_string());
  if (text.empty() || text.size() > kMaxLabelLength) {
    return Invalid(std::string(name), "invalid_length", "Must be 1 to 200 characters.");
  }
  return text;
}

net::HttpResponse NoContent() {
  net::HttpResponse response;
  response.status = 204;
  return response;
}

net::HttpResponse Created(json::object body, const std::string& location) {
  auto response = JsonResponse(201, core::WriteJson(body));
  response.SetHeader("Location", location);
  return response;
}

}  // namespace

void ApiHandler::GetMe(Call& call) {
  const model::Principal& me = call.principal;
  json::object permissions;
  for (std::string_view object : auth::PolicyObjects()) {
    json::array actions;
    for (auth::Action action : auth::kAllActions) {
      if (auth::IsAllowed(me.role, object, action)) actions.emplace_back(auth::ActionName(action));
    }
    permissions[object] = std::move(actions);
  }
  json::object scopes;
  for (const auto& rule : me.scopes) scopes[rule.object] = model::RecordScopeName(rule.scope);
  call.Send(JsonResponse(
      200, core::WriteJson(json::object{
               {"subject", me.subject},
               {"user_id", me.user_id.empty() ? json::value(nullptr) : json::value(me.user_id)},
               {"tenant", json::object{{"id", me.tenant_id}, {"name", me.tenant_name}}},
               {"role", model::RoleName(me.role)},
               {"pii_masked", me.mask_pii},
               {"permissions", std::move(permissions)},
               {"scopes", std::move(scopes)}})));
}

// Blocking directory work runs on the work pool, never on an I/O thread.
void ApiHandler::OffIo(Call& call, std::function<net::HttpResponse()> work) {
  if (!pool_.Post([call, work = std::move(work)] { call.Send(work()); })) {
    call.Send(BusyResponse());
  }
}

void ApiHandler::ApiKeys(Call& call, const std::string& id) {
  if (!Permit(call, "api_keys", auth::Action::kAdmin)) return;
  const std::string& method = call.request.method;
  const std::string tenant = call.principal.tenant_id;
  if (id.empty() && method == "GET") {
    return OffIo(call, [this, tenant] {
      auto keys = directory_.ListApiKeys(tenant);
      if (!keys.ok()) return ProblemResponse(keys.error());
      json::array data;
      for (const auto& key : *keys) data.push_back(KeyJson(key));
      return JsonResponse(200, core::WriteJson(json::object{{"data", std::move(data)}}));
    });
  }
  if (id.empty()) {
    auto body = JsonObjectBody(call.request);
    if (!body.ok()) return call.Send(ProblemResponse(body.error()));
    auto allowed = OnlyMembers(*body, {"name", "role", "expires_at"});
    if (!allowed.ok()) return call.Send(ProblemResponse(allowed.error()));
    auto name = LabelMember(*body, "name", true);
    if (!name.ok()) return call.Send(ProblemResponse(name.error()));
    auto role = RoleMember(*body, "role");
    if (!role.ok()) return call.Send(ProblemResponse(role.error()));
    std::optional<core::EpochMillis> expires_at;
    if (const json::value* value = body->if_contains("expires_at");
        value != nullptr && !value->is_null()) {
      auto parsed = value->is_string() ? core::ParseTimestamp(value->get_string())
                                       : std::optional<core::EpochMillis>{};
      if (!parsed) {
        return call.Send(ProblemResponse(
            Invalid("expires_at", "invalid_datetime", "Must be an RFC 3339 date-time.")));
      }
      if (*parsed <= clock_.NowMillis()) {
        return call.Send(ProblemResponse(
            Invalid("expires_at", "in_the_past", "The expiry must lie in the future.")));
      }
      expires_at = parsed;
    }
    return OffIo(call, [this, principal = call.principal, name = *name, role = *role, expires_at] {
      const std::string secret = auth::NewApiKeySecret();
      auto key = directory_.CreateApiKey(principal.tenant_id, name, role,
                                         auth::HashApiKeySecret(secret), expires_at, principal);
      if (!key.ok()) return ProblemResponse(key.error());
      json::object out = KeyJson(*key);
      out["key"] = secret;  // shown this once; only its hash is stored
      return Created(std::move(out), "/api/v1/api-keys/" + key->id);
    });
  }
  if (method == "GET") {
    return OffIo(call, [this, tenant, id] {
      auto key = directory_.FindApiKey(tenant, id);
      if (!key.ok()) return ProblemResponse(key.error());
      return JsonResponse(200, core::WriteJson(KeyJson(*key)));
    });
  }
  OffIo(call, [this, principal = call.principal, id] {
    auto key = directory_.RevokeApiKey(principal.tenant_id, id, principal);
    if (!key.ok()) return ProblemResponse(key.error());
    authenticator_.ForgetKey(id);
    return NoContent();
  });
}

void ApiHandler::Teams(Call& call, const std::string& id) {
  if (!Permit(call, "users", auth::Action::kAdmin)) return;
  const std::string& method = call.request.method;
  const std::string tenant = call.principal.tenant_id;
  if (method == "GET") {
    return OffIo(call, [this, tenant, id] {
      if (!id.empty()) {
        auto team = directory_.FindTeam(tenant, id);
        if (!team.ok()) return ProblemResponse(team.error());
        return JsonResponse(200, core::WriteJson(TeamJson(*team)));
      }
      auto teams = directory_.ListTeams(tenant);
      if (!teams.ok()) return ProblemResponse(teams.error());
      json::array data;
      for (const auto& team : *teams) data.push_back(TeamJson(team));
      return JsonResponse(200, core::WriteJson(json::object{{"data", std::move(data)}}));
    });
  }
  if (method == "DELETE") {
    return OffIo(call, [this, tenant, id] {
      auto status = directory_.DeleteTeam(tenant, id);
      if (!status.ok()) return ProblemResponse(status.error());
      access_.Invalidate(tenant);
      return NoContent();
    });
  }
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return call.Send(ProblemResponse(body.error()));
  auto allowed = OnlyMembers(*body, {"name", "member_ids"});
  if (!allowed.ok()) return call.Send(ProblemResponse(allowed.error()));
  auto name = LabelMember(*body, "name", id.empty());
  if (!name.ok()) return call.Send(ProblemResponse(name.error()));
  std::optional<std::vector<std::string>> members;
  if (const json::value* value = body->if_contains("member_ids"); value != nullptr) {
    if (!value->is_array()) {
      return call.Send(
          ProblemResponse(Invalid("member_ids", "invalid_type", "Must be an array of user ids.")));
    }
    members.emplace();
    for (const auto& member : value->get_array()) {
      if (!member.is_string()) {
        return call.Send(ProblemResponse(
            Invalid("member_ids", "invalid_type", "Must be an array of user ids.")));
      }
      members->emplace_back(member.get_string());
    }
  }
  std::optional<std::string> new_name;
  if (!name->empty()) new_name = *name;
  OffIo(call, [this, tenant, id, new_name, members] {
    std::string team_id = id;
    if (team_id.empty()) {
      auto created = directory_.CreateTeam(tenant, *new_name);
      if (!created.ok()) return ProblemResponse(created.error());
      team_id = created->id;
    }
    auto team =
        directory_.UpdateTeam(tenant, team_id, id.empty() ? std::nullopt : new_name, members);
    if (!team.ok()) {
      // A new team whose members were refused would linger half made.
      if (id.empty()) (void)directory_.DeleteTeam(tenant, team_id);
      return ProblemResponse(team.error());
    }
    access_.Invalidate(tenant);
    if (id.empty()) return Created(TeamJson(*team), "/api/v1/teams/" + team->id);
    return JsonResponse(200, core::WriteJson(TeamJson(*team)));
  });
}

void ApiHandler::Scopes(Call& call, const std::string& role_name, const std::string& object) {
  if (!Permit(call, "users", auth::Action::kAdmin)) return;
  const std::string tenant = call.principal.tenant_id;
  if (call.request.method == "GET") {
    return OffIo(call, [this, tenant] {
      auto settings = directory_.ListScopes(tenant);
      if (!settings.ok()) return ProblemResponse(settings.error());
      json::array data;
      for (const auto& setting : *settings) {
        data.push_back(json::object{{"role", model::RoleName(setting.role)},
                                    {"object", setting.object},
                                    {"scope", model::RecordScopeName(setting.scope)}});
      }
      return JsonResponse(200, core::WriteJson(json::object{{"data", std::move(data)}}));
    });
  }
  storage::ScopeSetting setting;
  setting.object = object;
  if (!model::ParseRole(role_name, setting.role)) {
    return call.Send(
        ProblemResponse(core::MakeError(core::Code::kNotFound, "not_found", "No such role.")));
  }
  auto type = schemas_.Find(call.principal, object);
  if (!type.ok()) return call.Send(ProblemResponse(type.error()));
  if ((*type)->FindField("owner_id") == nullptr) {
    return call.Send(ProblemResponse(
        Invalid("scope", "not_scopable", "This object has no owner, so it cannot be scoped.")));
  }
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return call.Send(ProblemResponse(body.error()));
  auto allowed = OnlyMembers(*body, {"scope"});
  if (!allowed.ok()) return call.Send(ProblemResponse(allowed.error()));
  const json::value* scope = body->if_contains("scope");
  if (scope == nullptr || !scope->is_string() ||
      !model::ParseRecordScope(scope->get_string(), setting.scope)) {
    return call.Send(
        ProblemResponse(Invalid("scope", "invalid_enum", "Must be one of all, team, own.")));
  }
  OffIo(call, [this, tenant, setting] {
    auto status = directory_.SetScope(tenant, setting);
    if (!status.ok()) return ProblemResponse(status.error());
    access_.Invalidate(tenant);
    return JsonResponse(
        200, core::WriteJson(json::object{{"role", model::RoleName(setting.role)},
                                          {"object", setting.object},
                                          {"scope", model::RecordScopeName(setting.scope)}}));
  });
}

void ApiHandler::Users(Call& call, const std::string& id) {
  if (!Permit(call, "users", auth::Action::kAdmin)) return;
  const std::string& method = call.request.method;
  const std::string tenant = call.principal.tenant_id;
  if (method == "GET" && id.empty()) {
    std::string cursor;
    int limit = 50;
    auto query = ParseListQuery(call.request.query);
    if (!query.ok()) return call.Send(ProblemResponse(query.error()));
    cursor = query->cursor;
    limit = query->limit;
    return OffIo(call, [this, tenant, cursor, limit] {
      auto page = identities_.ListUsers(tenant, cursor, limit);
      if (!page.ok()) return ProblemResponse(page.error());
      json::array data;
      for (const auto& user : page->users) data.push_back(UserJson(user));
      return JsonResponse(
          200, core::WriteJson(json::object{
                   {"data", std::move(data)},
                   {"next_cursor", page->next_cursor.empty() ? json::value(nullptr)
                                                             : json::value(page->next_cursor)}}));
    });
  }
  if (method == "GET") {
    return OffIo(call, [this, tenant, id] {
      auto user = identities_.FindUser(tenant, id);
      if (!user.ok()) return ProblemResponse(user.error());
      return JsonResponse(200, core::WriteJson(UserJson(*user)));
    });
  }
  if (method == "DELETE") {
    return OffIo(call, [this, principal = call.principal, id] {
      const std::string& tenant = principal.tenant_id;
      if (id == principal.user_id) {
        return ProblemResponse(core::MakeError(core::Code::kConflict, "cannot_deactivate_self",
                                               "You cannot deactivate yourself."));
      }
      storage::UserChange change;
      change.active = false;
      auto user = identities_.UpdateUser(tenant, id, change, principal);
      if (!user.ok()) return ProblemResponse(user.error());
      authenticator_.ForgetUser(id);
      return NoContent();
    });
  }
  auto body = JsonObjectBody(call.request);
  if (!body.ok()) return call.Send(ProblemResponse(body.error()));
  if (id.empty()) {
    auto allowed = OnlyMembers(*body, {"email", "username", "display_name", "role"});
    if (!allowed.ok()) return call.Send(ProblemResponse(allowed.error()));
    auto email = LabelMember(*body, "email", true);
    if (!email.ok()) return call.Send(ProblemResponse(email.error()));
    if (email->find('@') == std::string::npos || email->find(' ') != std::string::npos) {
      return call.Send(
          ProblemResponse(Invalid("email", "invalid_email", "Must be an e-mail address.")));
    }
    auto username = LabelMember(*body, "username", false);
    if (!username.ok()) return call.Send(ProblemResponse(username.error()));
    auto display_name = LabelMember(*body, "display_name", false);
    if (!display_name.ok()) return call.Send(ProblemResponse(display_name.error()));
    auto role = RoleMember(*body, "role");
    if (!role.ok()) return call.Send(ProblemResponse(role.error()));
    storage::NewUser user;
    user.tenant_id = tenant;
    user.email = *email;
    std::transform(user.email.begin(), user.email.end(), user.email.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    user.username = username->empty() ? user.email : *username;
    user.display_name = *display_name;
    user.role = *role;
    return OffIo(call, [this, principal = call.principal, user] {
      auto created = identities_.CreateUser(user, principal);
      if (!created.ok()) return ProblemResponse(created.error());
      return Created(UserJson(*created), "/api/v1/users/" + created->id);
    });
  }
  auto allowed = OnlyMembers(*body, {"role", "active", "display_name"});
  if (!allowed.ok()) return call.Send(ProblemResponse(allowed.error()));
  storage::UserChange change;
  if (body->contains("role")) {
    auto role = RoleMember(*body, "role");
    if (!role.ok()) return call.Send(ProblemResponse(role.error()));
    change.role = *role;
  }
  if (const json::value* active = body->if_contains("active"); active != nullptr) {
    if (!active->is_bool()) {
      return call.Send(
          ProblemResponse(Invalid("active", "invalid_type", "Must be true or false.")));
    }
    change.active = active->get_bool();
  }
  if (body->contains("display_name")) {
    auto display_name = LabelMember(*body, "display_name", true);
    if (!display_name.ok()) return call.Send(ProblemResponse(display_name.error()));
    change.display_name = *display_name;
  }
  OffIo(call, [this, principal = call.principal, id, change] {
    const std::string& tenant = principal.tenant_id;
    if (id == principal.user_id && ((change.active && !*change.active) ||
                                    (change.role && *change.role != model::Role::kAdmin))) {
      return ProblemResponse(core::MakeError(core::Code::kConflict, "cannot_demote_self",
                                             "You cannot deactivate yourself or drop your own "
                                             "admin role; ask another admin."));
    }
    auto user = identities_.UpdateUser(tenant, id, change, principal);
    if (!user.ok()) return ProblemResponse(user.error());
    authenticator_.ForgetUser(id);
    return JsonResponse(200, core::WriteJson(UserJson(*user)));
  });
}

}  // namespace zebros::api
