#pragma once

#include <string_view>

#include "auth/idp_service.h"
#include "core/work_pool.h"
#include "net/http_types.h"

namespace zebros::api {

// The built-in identity provider's HTTP face, in Keycloak's URL layout:
//   /realms/{tenant}/.well-known/openid-configuration
//   /realms/{tenant}/protocol/openid-connect/{auth,token,certs,userinfo,logout}
// No Authorization is needed to reach them (the token and userinfo endpoints authenticate
// their own way). Every request runs on `pool` (sign-ins hash passwords and wait for durable
// writes), never on an I/O thread; a full pool answers 503. Thread-safe.
class IdpRoutes {
 public:
  IdpRoutes(auth::IdpService& idp, core::WorkPool& pool) : idp_(idp), pool_(pool) {}

  // True for paths under /realms/.
  static bool Matches(std::string_view path);
  void Handle(net::HttpRequest& request, net::Reply reply);

 private:
  void Serve(const net::HttpRequest& request, const net::Reply& reply);
  // `endpoint`: the path after /realms/{tenant}.
  void ServeRealm(const auth::Realm& realm, std::string_view endpoint,
                  const net::HttpRequest& request, const net::Reply& reply);
  void Authorize(const auth::Realm& realm, const net::HttpRequest& request,
                 const net::Reply& reply);
  void Token(const auth::Realm& realm, const net::HttpRequest& request, const net::Reply& reply);
  void UserInfo(const auth::Realm& realm, const net::HttpRequest& request, const net::Reply& reply);
  void Logout(const auth::Realm& realm, const net::HttpRequest& request, const net::Reply& reply);

  auth::IdpService& idp_;
  core::WorkPool& pool_;
};

}  // namespace zebros::api
