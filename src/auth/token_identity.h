#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "model/principal.h"

namespace zebros::auth {

// Who a verified access token speaks for. Built only by TokenVerifier.
struct TokenIdentity {
  std::string issuer;       // the token's `iss`, one of the configured issuers
  std::string subject;      // `sub`, never empty
  std::string tenant_name;  // the issuer's pinned tenant, else the tenant claim
  std::string username;     // `preferred_username`, may be empty
  std::string email;        // `email`, may be empty
  std::string client_id;    // `azp`, may be empty
  // The most privileged Zebros role the token's roles map to; nullopt when none does (the caller
  // answers 403: the token is genuine but grants nothing here).
  std::optional<model::Role> role;
  core::EpochMillis expires_at = 0;  // `exp` in epoch milliseconds
};

}  // namespace zebros::auth
