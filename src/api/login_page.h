#pragma once

#include <string>
#include <utility>
#include <vector>

#include "net/http_types.h"

namespace zebros::api {

// What the sign-in page shows. Every string is escaped when rendered.
struct LoginPage {
  std::string realm;
  std::string action;  // the authorization endpoint's path: the form posts back to it
  std::vector<std::pair<std::string, std::string>> hidden;  // the authorization request
  std::string username;                                     // kept after a failed attempt
  std::string error;  // announced to screen readers (role="alert") when not empty
};

// The plain, accessible HTML sign-in page: real labels, `lang`, no JavaScript, errors in an
// alert region tied to the fields. `status` is 200, or 400/429 after a failed attempt.
net::HttpResponse LoginPageResponse(int status, const LoginPage& page);
// A page that explains a request we cannot send back to the client (bad client or redirect URI,
// unknown realm, …).
net::HttpResponse ErrorPageResponse(int status, const std::string& title,
                                    const std::string& message);

}  // namespace zebros::api
