#include "auth/oidc_settings.h"

#include "model/principal.h"

namespace zebros::auth {
namespace {

core::Error InvalidIssuer(std::string detail) {
  return core::MakeError(core::Code::kValidation, "invalid_oidc_issuer",
                         "Invalid OIDC issuer: " + detail, detail);
}

core::Error InvalidRoleMap(std::string detail) {
  return core::MakeError(core::Code::kValidation, "invalid_role_map",
                         "Invalid OIDC role map: " + detail, detail);
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool HasControlOrSpace(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

core::Result<OidcIssuer> ParseIssuerSpec(std::string_view spec) {
  OidcIssuer issuer;
  // Issuer URLs carry no query (OIDC Discovery section 3), so an '=' can only start the tenant.
  const std::size_t equals = spec.find('=');
  issuer.url = std::string(spec.substr(0, equals));
  if (equals != std::string_view::npos) {
    issuer.tenant = std::string(spec.substr(equals + 1));
    if (issuer.tenant.empty()) return InvalidIssuer("empty tenant after '='");
    if (HasControlOrSpace(issuer.tenant)) return InvalidIssuer("tenant contains spaces");
  }
  std::string_view rest = issuer.url;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return InvalidIssuer("the URL must start with https:// or http://");
  }
  if (HasControlOrSpace(issuer.url)) return InvalidIssuer("the URL contains spaces");
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidIssuer("the URL must not have a query or fragment");
  }
  const std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidIssuer("the URL must not contain credentials");
  }
  if (authority.empty() || authority.front() == ':') return InvalidIssuer("the URL has no host");
  return issuer;
}

core::Result<std::vector<std::pair<std::string, std::string>>> ParseRoleMap(std::string_view spec) {
  std::vector<std::pair<std::string, std::string>> out;
  if (Trim(spec).empty()) return out;
  while (true) {
    const std::size_t comma = spec.find(',');
    const std::string_view item = Trim(spec.substr(0, comma));
    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos || item.find('=', equals + 1) != std::string_view::npos) {
      return InvalidRoleMap("each item must be issuer-role=zebros-role");
    }
    const std::string_view from = Trim(item.substr(0, equals));
    const std::string_view to = Trim(item.substr(equals + 1));
    if (from.empty() || to.empty()) return InvalidRoleMap("empty role name");
    model::Role role;
    if (!model::ParseRole(to, role)) {
      return InvalidRoleMap("Zebros roles are admin, sales, support and read_only");
    }
    out.emplace_back(std::string(from), std::string(to));
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace zebros::auth
