#include "api/idp_routes.h"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <memory>

#include "api/form_body.h"
#include "api/login_page.h"
#include "api/problem.h"
#include "api/query_parsing.h"
#include "core/crypto.h"
#include "core/json.h"
#include "core/log.h"

namespace zebros::api {
namespace json = boost::json;

namespace {

constexpr std::string_view kRealmsPrefix = "/realms/";
constexpr std::string_view kEndpoints = "/protocol/openid-connect/";

// RFC 6749 section 5.2: {"error","error_description"}, never cached.
net::HttpResponse OAuthErrorResponse(const core::Error& error) {
  int status = HttpStatusFor(error.code);
  std::string code = error.problem_code;
  std::string description = error.public_message;
  if (status >= 500) {
    code = status == 503 ? "temporarily_unavailable" : "server_error";
    description = status == 503 ? "Try again shortly." : "An internal error occurred.";
  } else if (status == 404 || status == 422) {
    status = 400;
  }
  net::HttpResponse response = JsonResponse(status, {});
  json::object body{{"error", code}, {"error_description", description}};
  response.body = core::WriteJson(body);
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Pragma", "no-cache");
  return response;
}

net::HttpResponse NoStoreJson(std::string body) {
  net::HttpResponse response = JsonResponse(200, std::move(body));
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Pragma", "no-cache");
  return response;
}

std::string TokenJson(const auth::TokenSet& tokens) {
  json::object body{
      {"access_token", tokens.access_token},
      {"token_type", "Bearer"},
      {"expires_in", tokens.expires_in},
      {"scope", tokens.scope},
      {"not-before-policy", 0},
  };
  if (!tokens.refresh_token.empty()) {
    body["refresh_token"] = tokens.refresh_token;
    body["refresh_expires_in"] = tokens.refresh_expires_in;
  }
  if (!tokens.id_token.empty()) body["id_token"] = tokens.id_token;
  if (!tokens.session_id.empty()) body["session_state"] = tokens.session_id;
  return core::WriteJson(body);
}

auth::AuthorizeRequest ReadAuthorizeRequest(const FormParams& params) {
  auth::AuthorizeRequest request;
  request.client_id = FormValue(params, "client_id");
  request.redirect_uri = FormValue(params, "redirect_uri");
  request.response_type = FormValue(params, "response_type");
  request.scope = FormValue(params, "scope");
  request.state = FormValue(params, "state");
  request.code_challenge = FormValue(params, "code_challenge");
  request.code_challenge_method = FormValue(params, "code_challenge_method");
  request.nonce = FormValue(params, "nonce");
  return request;
}

std::vector<std::pair<std::string, std::string>> HiddenFields(const auth::AuthorizeRequest& r) {
  return {{"client_id", r.client_id},
          {"redirect_uri", r.redirect_uri},
          {"response_type", r.response_type},
          {"scope", r.scope},
          {"state", r.state},
          {"code_challenge", r.code_challenge},
          {"code_challenge_method", r.code_challenge_method},
          {"nonce", r.nonce}};
}

// The client's redirect URI with `params` added to its query. REQUIRES: the URI passed
// IdpService::CheckClient.
net::HttpResponse RedirectTo(const std::string& redirect_uri,
                             const std::vector<std::pair<std::string, std::string>>& params) {
  boost::urls::url target(boost::urls::parse_uri(redirect_uri).value());
  for (const auto& [name, value] : params) {
    if (!value.empty()) target.params().append({name, value});
  }
  net::HttpResponse response;
  response.status = 302;
  response.SetHeader("Location", std::string(target.buffer()));
  response.SetHeader("Cache-Control", "no-store");
  return response;
}

// Client authentication (RFC 6749 section 2.3.1): HTTP Basic or client_id/client_secret in the
// body, not both.
core::Status ReadClient(const net::HttpRequest& request, const FormParams& params,
                        std::string& client_id, std::string& client_secret) {
  client_id = FormValue(params, "client_id");
  client_secret = FormValue(params, "client_secret");
  const std::string* header = request.FindHeader("authorization");
  if (header == nullptr || header->size() < 6 ||
      (header->substr(0, 6) != "Basic " && header->substr(0, 6) != "basic ")) {
    return core::OkStatus();
  }
  const auto invalid = core::MakeError(core::Code::kUnauthenticated, "invalid_client",
                                       "Malformed client credentials.");
  if (!client_secret.empty()) {
    return core::MakeError(core::Code::kBadRequest, "invalid_request",
                           "Use one way of client authentication.");
  }
  std::string encoded = header->substr(6);
  for (char& c : encoded) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!encoded.empty() && encoded.back() == '=') encoded.pop_back();
  const auto decoded = core::Base64UrlDecode(encoded);
  if (!decoded) return invalid;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return invalid;
  auto id = PercentDecode(std::string_view(*decoded).substr(0, colon), true);
  auto secret = PercentDecode(std::string_view(*decoded).substr(colon + 1), true);
  if (!id || !secret) return invalid;
  if (!client_id.empty() && client_id != *id) return invalid;
  client_id = std::move(*id);
  client_secret = std::move(*secret);
  return core::OkStatus();
}

// A form POST to the token or logout endpoint, with the client that sent it.
struct ClientForm {
  FormParams params;
  std::string client_id;
  std::string client_secret;
};

core::Result<ClientForm> ReadClientForm(const net::HttpRequest& request) {
  if (!IsFormContentType(request)) {
    return core::MakeError(core::Code::kBadRequest, "invalid_request",
                           "The body must be application/x-www-form-urlencoded.");
  }
  auto params = ParseForm(request.body);
  if (!params.ok()) return std::move(params).error();
  ClientForm form{std::move(params).value(), {}, {}};
  auto client = ReadClient(request, form.params, form.client_id, form.client_secret);
  if (!client.ok()) return std::move(client).error();
  return form;
}

// The bearer token of an Authorization header, or "".
std::string BearerToken(const net::HttpRequest& request) {
  const std::string* header = request.FindHeader("authorization");
  if (header == nullptr || header->size() <= 7) return {};
  const std::string scheme = header->substr(0, 7);
  if (scheme != "Bearer " && scheme != "bearer ") return {};
  return header->substr(7);
}

}  // namespace

bool IdpRoutes::Matches(std::string_view path) { return path.starts_with(kRealmsPrefix); }

void IdpRoutes::Handle(net::HttpRequest& request, net::Reply reply) {
  auto shared_request = std::make_shared<net::HttpRequest>(request);
  auto shared_reply = std::make_shared<net::Reply>(std::move(reply));
  const bool queued = pool_.Post([this, shared_request, shared_reply] {
    try {
      Serve(*shared_request, *shared_reply);
    } catch (const std::exception& e) {
      core::Log(core::LogLevel::kError, "idp request failed",
                {{"request_id", shared_request->request_id}, {"error", e.what()}});
      (*shared_reply)(ProblemResponse(500, "internal", "An internal error occurred."));
    }
  });
  if (!queued) {
    (*shared_reply)(BusyResponse());
  }
}

void IdpRoutes::Serve(const net::HttpRequest& request, const net::Reply& reply) {
  std::string_view rest = std::string_view(request.path).substr(kRealmsPrefix.size());
  const auto slash = rest.find('/');
  auto tenant_name = PercentDecode(rest.substr(0, slash), false);
  const std::string_view endpoint =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  const bool is_auth = endpoint == std::string(kEndpoints) + "auth";
  if (!tenant_name || tenant_name->empty()) {
    return reply(ProblemResponse(
        core::MakeError(core::Code::kNotFound, "realm_not_found", "No such realm.")));
  }
  auto realm = idp_.FindRealm(*tenant_name);
  if (!realm.ok()) {
    if (is_auth) {
      const int status = HttpStatusFor(realm.error().code);
      return reply(ErrorPageResponse(status, status == 404 ? "Unknown organisation" : "Try again",
                                     realm.error().public_message));
    }
    return reply(ProblemResponse(realm.error()));
  }
  const net::Reply tagged = [&reply, tenant = realm->tenant.id](net::HttpResponse response) {
    response.log_tenant = tenant;  // the access log names the realm's tenant
    reply(std::move(response));
  };
  ServeRealm(*realm, endpoint, request, tagged);
}

void IdpRoutes::ServeRealm(const auth::Realm& realm, std::string_view endpoint,
                           const net::HttpRequest& request, const net::Reply& reply) {
  const auto method_not_allowed = [&](const char* allowed) {
    auto response = ProblemResponse(core::MakeError(core::Code::kMethodNotAllowed,
                                                    "method_not_allowed", "Method not allowed."));
    response.SetHeader("Allow", allowed);
    reply(std::move(response));
  };
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (endpoint == "/.well-known/openid-configuration") {
    if (!get) return method_not_allowed("GET");
    return reply(JsonResponse(200, idp_.DiscoveryJson(realm)));
  }
  if (!endpoint.starts_with(kEndpoints)) {
    return reply(
        ProblemResponse(core::MakeError(core::Code::kNotFound, "not_found", "No such resource.")));
  }
  const std::string_view name = endpoint.substr(kEndpoints.size());
  if (name == "certs") {
    if (!get) return method_not_allowed("GET");
    return reply(JsonResponse(200, idp_.JwksJson()));
  }
  if (name == "auth") {
    if (!get && !post) return method_not_allowed("GET, POST");
    return Authorize(realm, request, reply);
  }
  if (name == "token") {
    if (!post) return method_not_allowed("POST");
    return Token(realm, request, reply);
  }
  if (name == "userinfo") {
    if (!get && !post) return method_not_allowed("GET, POST");
    return UserInfo(realm, request, reply);
  }
  if (name == "logout") {
    if (!get && !post) return method_not_allowed("GET, POST");
    return Logout(realm, request, reply);
  }
  reply(ProblemResponse(core::MakeError(core::Code::kNotFound, "not_found", "No such resource.")));
}

void IdpRoutes::Authorize(const auth::Realm& realm, const net::HttpRequest& request,
                          const net::Reply& reply) {
  const bool post = request.method == "POST";
  if (post && !IsFormContentType(request)) {
    return reply(ErrorPageResponse(415, "Unsupported form",
                                   "Send the sign-in form as application/x-www-form-urlencoded."));
  }
  auto params = ParseForm(post ? std::string_view(request.body) : request.query);
  if (!params.ok()) {
    return reply(ErrorPageResponse(400, "Invalid request", params.error().public_message));
  }
  const auth::AuthorizeRequest authorize = ReadAuthorizeRequest(*params);
  // A bad client or redirect URI is shown here: redirecting to an unvetted URI would make us an
  // open redirector.
  auto client = idp_.CheckClient(realm, authorize);
  if (!client.ok()) {
    return reply(ErrorPageResponse(400, "Invalid sign-in request", client.error().public_message));
  }
  auto checked = auth::IdpService::CheckAuthorizeParams(authorize);
  if (!checked.ok()) {
    return reply(
        RedirectTo(authorize.redirect_uri, {{"error", checked.error().problem_code},
                                            {"error_description", checked.error().public_message},
                                            {"state", authorize.state},
                                            {"iss", realm.issuer}}));
  }
  LoginPage page{realm.tenant.name, request.path, HiddenFields(authorize), {}, {}};
  if (!post) return reply(LoginPageResponse(200, page));
  page.username = FormValue(*params, "username");
  auto grant = idp_.Authorize(realm, authorize, page.username, FormValue(*params, "password"),
                              request.remote_address);
  if (grant.ok()) {
    return reply(RedirectTo(authorize.redirect_uri, {{"code", grant->code},
                                                     {"state", authorize.state},
                                                     {"session_state", grant->session_id},
                                                     {"iss", realm.issuer}}));
  }
  const core::Error& error = grant.error();
  if (error.code == core::Code::kTooManyRequests) {
    const auto wait = idp_.RetryAfterSeconds(realm, page.username, request.remote_address);
    page.error = "Too many failed sign-in attempts. Please wait " + std::to_string(wait) +
                 " seconds, then try again.";
    auto response = LoginPageResponse(429, page);
    response.SetHeader("Retry-After", std::to_string(wait));
    return reply(std::move(response));
  }
  if (error.problem_code == "invalid_grant") {
    page.error = "The username or password is not correct.";
    return reply(LoginPageResponse(400, page));
  }
  page.error = "Signing in is not possible right now. Please try again shortly.";
  reply(LoginPageResponse(HttpStatusFor(error.code) >= 500 ? 503 : 400, page));
}

void IdpRoutes::Token(const auth::Realm& realm, const net::HttpRequest& request,
                      const net::Reply& reply) {
  auto form = ReadClientForm(request);
  if (!form.ok()) return reply(OAuthErrorResponse(form.error()));
  const FormParams& params = form->params;
  const std::string& client_id = form->client_id;
  const std::string& client_secret = form->client_secret;
  const std::string grant_type = FormValue(params, "grant_type");
  const std::string username = FormValue(params, "username");
  core::Result<auth::TokenSet> tokens = core::MakeError(
      core::Code::kBadRequest, "unsupported_grant_type", "This grant type is not supported.");
  if (grant_type.empty()) {
    tokens = core::MakeError(core::Code::kBadRequest, "invalid_request", "grant_type is required.");
  } else if (grant_type == "authorization_code") {
    tokens =
        idp_.ExchangeCode(realm, client_id, FormValue(params, "code"),
                          FormValue(params, "redirect_uri"), FormValue(params, "code_verifier"));
  } else if (grant_type == "refresh_token") {
    tokens = idp_.Refresh(realm, client_id, FormValue(params, "refresh_token"));
  } else if (grant_type == "password") {
    tokens = idp_.PasswordGrant(realm, client_id, username, FormValue(params, "password"),
                                FormValue(params, "scope"), request.remote_address);
  } else if (grant_type == "client_credentials") {
    tokens = idp_.ClientCredentials(realm, client_id, client_secret);
  }
  if (tokens.ok()) return reply(NoStoreJson(TokenJson(*tokens)));
  auto response = OAuthErrorResponse(tokens.error());
  if (tokens.error().code == core::Code::kTooManyRequests) {
    response.SetHeader("Retry-After", std::to_string(idp_.RetryAfterSeconds(
                                          realm, username, request.remote_address)));
  }
  if (response.status == 401) response.SetHeader("WWW-Authenticate", "Basic realm=\"zebros\"");
  reply(std::move(response));
}

void IdpRoutes::UserInfo(const auth::Realm& realm, const net::HttpRequest& request,
                         const net::Reply& reply) {
  const std::string token = BearerToken(request);
  auto info = token.empty() ? core::Result<std::string>(auth::InvalidToken("no bearer token"))
                            : idp_.UserInfo(realm, token);
  if (info.ok()) return reply(NoStoreJson(std::move(info).value()));
  if (info.error().code != core::Code::kUnauthenticated) {
    return reply(OAuthErrorResponse(info.error()));
  }
  net::HttpResponse response = JsonResponse(
      401, core::WriteJson(json::object{{"error", "invalid_token"},
                                        {"error_description", "The access token is not valid."}}));
  response.SetHeader("WWW-Authenticate",
                     "Bearer realm=\"" + realm.tenant.name + "\", error=\"invalid_token\"");
  response.SetHeader("Cache-Control", "no-store");
  reply(std::move(response));
}

void IdpRoutes::Logout(const auth::Realm& realm, const net::HttpRequest& request,
                       const net::Reply& reply) {
  if (request.method == "GET") {
    // Browser logout: there is no sign-in cookie to clear, so the page only confirms; clients
    // revoke their refresh token with the POST form.
    return reply(ErrorPageResponse(200, "Signed out", "You can close this window."));
  }
  auto form = ReadClientForm(request);
  if (!form.ok()) return reply(OAuthErrorResponse(form.error()));
  const FormParams& params = form->params;
  const std::string& client_id = form->client_id;
  auto status = idp_.Logout(realm, client_id, FormValue(params, "refresh_token"));
  if (!status.ok()) return reply(OAuthErrorResponse(status.error()));
  net::HttpResponse response;
  response.status = 204;
  response.SetHeader("Cache-Control", "no-store");
  reply(std::move(response));
}

}  // namespace zebros::api
