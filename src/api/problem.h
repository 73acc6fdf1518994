#pragma once

#include <string>

#include "core/result.h"
#include "net/http_types.h"

namespace zebros::api {

// The one mapping from an error Code to an HTTP status.
int HttpStatusFor(core::Code code);

// An RFC 9457 application/problem+json response for `error`: {type,title,status,detail,code,
// errors:[{field,code,message}]}. Only `public_message` and field errors reach the client.
net::HttpResponse ProblemResponse(const core::Error& error);
// A problem for errors that have no core::Error (raised by the HTTP server itself).
net::HttpResponse ProblemResponse(int status, std::string_view code, std::string_view detail);

// 503 for work that found its pool's queue full (blocking work, database reads, sign-ins).
net::HttpResponse BusyResponse();

// A JSON response with `body` already serialised.
net::HttpResponse JsonResponse(int status, std::string body);

}  // namespace zebros::api
