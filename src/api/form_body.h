#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/result.h"
#include "net/http_types.h"

namespace zebros::api {

// Decoded application/x-www-form-urlencoded parameters (names and values, '+' as space).
using FormParams = std::map<std::string, std::string, std::less<>>;

// Parses a form body or a query string. kBadRequest (`invalid_request`) for a bad
// percent-escape, more than 100 parameters, or a parameter given twice (RFC 6749 section 3.1).
core::Result<FormParams> ParseForm(std::string_view text);

// True when the request's Content-Type is application/x-www-form-urlencoded.
bool IsFormContentType(const net::HttpRequest& request);

// The parameter's value, or "" when absent.
std::string FormValue(const FormParams& params, std::string_view name);

}  // namespace zebros::api
