#include "api/problem.h"

#include "core/json.h"
#include "core/work_pool.h"

namespace zebros::api {
namespace {

const char* TitleFor(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

std::string ProblemBody(int status, std::string_view code, std::string_view detail,
                        const std::vector<core::FieldError>& field_errors) {
  std::string body = "{\"type\":";
  core::AppendJsonString(body, "https://zebros.dev/problems/" + std::string(code));
  body += ",\"title\":";
  core::AppendJsonString(body, TitleFor(status));
  body += ",\"status\":" + std::to_string(status) + ",\"detail\":";
  core::AppendJsonString(body, detail);
  body += ",\"code\":";
  core::AppendJsonString(body, code);
  body += ",\"errors\":[";
  for (std::size_t i = 0; i < field_errors.size(); ++i) {
    const auto& error = field_errors[i];
    if (i > 0) body.push_back(',');
    body += "{\"field\":";
    core::AppendJsonString(body, error.field);
    body += ",\"code\":";
    core::AppendJsonString(body, error.code);
    body += ",\"message\":";
    core::AppendJsonString(body, error.message);
    if (error.index >= 0) body += ",\"index\":" + std::to_string(error.index);
    body.push_back('}');
  }
  body += "]}";
  return body;
}

}  // namespace

int HttpStatusFor(core::Code code) {
  switch (code) {
    case core::Code::kBadRequest:
      return 400;
    case core::Code::kValidation:
      return 422;
    case core::Code::kUnauthenticated:
      return 401;
    case core::Code::kForbidden:
      return 403;
    case core::Code::kNotFound:
      return 404;
    case core::Code::kMethodNotAllowed:
      return 405;
    case core::Code::kConflict:
      return 409;
    case core::Code::kPreconditionFailed:
      return 412;
    case core::Code::kPayloadTooLarge:
      return 413;
    case core::Code::kUnsupportedMediaType:
      return 415;
    case core::Code::kTooManyRequests:
      return 429;
    case core::Code::kUnavailable:
      return 503;
    case core::Code::kInternal:
      return 500;
  }
  return 500;
}

net::HttpResponse ProblemResponse(const core::Error& error) {
  const int status = HttpStatusFor(error.code);
  net::HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/problem+json");
  // Explicit string_views: a ternary of a literal and a std::string would yield a temporary.
  std::string_view code = error.problem_code;
  if (code.empty()) code = "error";
  // A lost database keeps its own code so clients and monitors can tell it from a busy server.
  if (status == 500) code = "internal";
  if (status == 503 && code != "database_unavailable") code = "unavailable";
  std::string_view detail = error.public_message;
  if (status == 500) detail = "An internal error occurred.";
  response.body = ProblemBody(status, code, detail, error.field_errors);
  if (status == 401) {
    // RFC 6750 section 3.1: a presented but unusable token is named as such.
    response.SetHeader("WWW-Authenticate", code == "invalid_token"
                                               ? "Bearer realm=\"zebros\", error=\"invalid_token\""
                                               : "Bearer realm=\"zebros\"");
  }
  if (status == 503) response.SetHeader("Retry-After", "1");
  return response;
}

net::HttpResponse ProblemResponse(int status, std::string_view code, std::string_view detail) {
  net::HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/problem+json");
  response.body = ProblemBody(status, code, detail, {});
  return response;
}

net::HttpResponse JsonResponse(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

net::HttpResponse BusyResponse() { return ProblemResponse(core::WorkPool::BusyError()); }

}  // namespace zebros::api
