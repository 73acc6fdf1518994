#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace zebros::auth {

// An OIDC issuer whose access tokens Zebros accepts.
struct OidcIssuer {
  std::string url;     // the exact `iss` value; discovery lives under {url}/.well-known/…
  std::string tenant;  // every token of this issuer belongs to this tenant (realm per tenant);
                       // empty: the tenant comes from the token's tenant claim
  // A realm of Zebros' own identity provider: its tokens carry the audience kZebrosAudience and
  // Zebros role names in realm_access.roles, whatever OidcSettings says for external issuers.
  bool built_in = false;
};

// The audience of tokens for the Zebros API (and the default expected from external issuers).
inline constexpr std::string_view kZebrosAudience = "zebros-api";

// How tokens map to Zebros identities. Plain data with defaults; see TokenVerifier.
struct OidcSettings {
  std::vector<OidcIssuer> issuers;
  // `aud` must contain this (Keycloak: an audience mapper on the client scope).
  std::string audience = std::string(kZebrosAudience);
  // Dotted path of the claim naming the tenant, used when the issuer pins none.
  std::string tenant_claim = "tenant";
  // Dotted path of the array of role names, e.g. "resource_access.zebros-api.roles".
  std::string roles_claim = "realm_access.roles";
  // issuer role -> Zebros role (admin|sales|support|read_only). Empty: the Zebros role names map
  // to themselves and nothing else grants a role.
  std::vector<std::pair<std::string, std::string>> role_map;
};

// Parses the CLI form "URL[=TENANT]". The URL must be http(s) with a host and no query, fragment
// or credentials; its text is kept as written (it must equal `iss` exactly). Returns kValidation
// with problem code `invalid_oidc_issuer` otherwise.
core::Result<OidcIssuer> ParseIssuerSpec(std::string_view spec);

// Parses "kc-role=zebros-role,other=sales" (spaces around items are ignored; empty input is an
// empty map). Returns kValidation with problem code `invalid_role_map` when an item lacks '=',
// has an empty side, or names a Zebros role other than admin|sales|support|read_only.
core::Result<std::vector<std::pair<std::string, std::string>>> ParseRoleMap(std::string_view spec);

}  // namespace zebros::auth
