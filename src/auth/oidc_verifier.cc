#include "auth/oidc_verifier.h"

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <mutex>
#include <stdexcept>

#include "core/crypto.h"

namespace zebros::auth {
namespace json = boost::json;
namespace {

// Lower is more privileged: several known roles grant the strongest.
int Rank(model::Role role) {
  switch (role) {
    case model::Role::kAdmin:
      return 0;
    case model::Role::kSales:
      return 1;
    case model::Role::kSupport:
      return 2;
    case model::Role::kReadOnly:
      return 3;
  }
  return 4;
}

// Resolves a dotted claim path. Keys may themselves contain dots (Keycloak client ids such as
// "my.app" under resource_access), so at each level the longest run of segments that is a key
// is tried first, then shorter ones.
const json::value* FindClaim(const json::object& object, std::string_view path) {
  std::size_t end = path.size();
  while (true) {
    const std::string_view key = path.substr(0, end);
    if (const json::value* value = object.if_contains(key)) {
      if (end == path.size()) return value;
      if (value->is_object()) {
        if (const json::value* found = FindClaim(value->get_object(), path.substr(end + 1))) {
          return found;
        }
      }
    }
    if (end == 0) return nullptr;
    end = path.rfind('.', end - 1);
    if (end == std::string_view::npos || end == 0) return nullptr;
  }
}

std::string OptionalString(const json::object& claims, std::string_view name) {
  const json::value* value = claims.if_contains(name);
  return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

}  // namespace

TokenVerifier::TokenVerifier(OidcSettings settings, const core::Clock& clock,
                             SourceFactory make_source)
    : settings_(std::move(settings)),
      clock_(clock),
      cache_(kCacheEntries, static_cast<core::EpochMillis>(kSkewSeconds) * 1000) {
  for (model::Role role :
       {model::Role::kAdmin, model::Role::kSales, model::Role::kSupport, model::Role::kReadOnly}) {
    identity_role_map_.emplace_back(std::string(model::RoleName(role)), role);
  }
  if (settings_.role_map.empty()) role_map_ = identity_role_map_;
  for (const auto& [from, to] : settings_.role_map) {
    model::Role role;
    if (!model::ParseRole(to, role)) {
      throw std::invalid_argument("OIDC role map names an unknown Zebros role: " + to);
    }
    role_map_.emplace_back(from, role);
  }
  for (const OidcIssuer& issuer : settings_.issuers) {
    issuers_[issuer.url] = std::make_shared<const IssuerEntry>(issuer, make_source(issuer.url));
  }
}

void TokenVerifier::AddIssuer(OidcIssuer issuer, std::unique_ptr<JwksSource> source) {
  {
    std::unique_lock lock(issuers_mutex_);
    std::string url = issuer.url;
    issuers_[url] = std::make_shared<const IssuerEntry>(std::move(issuer), std::move(source));
  }
  cache_.Clear();
}

void TokenVerifier::WarmUp() {
  std::vector<std::shared_ptr<const IssuerEntry>> entries;
  {
    std::shared_lock lock(issuers_mutex_);
    for (const auto& [url, entry] : issuers_) entries.push_back(entry);
  }
  for (const auto& entry : entries) (void)entry->source->Keys(false);
}

std::shared_ptr<const TokenVerifier::IssuerEntry> TokenVerifier::FindIssuer(
    const std::string& url) const {
  std::shared_lock lock(issuers_mutex_);
  auto it = issuers_.find(url);
  return it == issuers_.end() ? nullptr : it->second;
}

core::Result<TokenIdentity> TokenVerifier::Verify(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return InvalidToken("token too large");
  const core::EpochMillis now = clock_.NowMillis();
  const std::string hash = core::Sha256Hex(token);
  if (auto cached = cache_.Find(hash, now)) return std::move(*cached);
  const std::uint64_t generation = cache_.generation();
  auto identity = VerifyUncached(token, now);
  if (identity.ok()) cache_.Insert(hash, *identity, now, generation);
  return identity;
}

core::Result<TokenIdentity> TokenVerifier::VerifyUncached(std::string_view token,
                                                          core::EpochMillis now) {
  auto jwt = DecodeJwt(token);
  if (!jwt.ok()) return std::move(jwt).error();
  const json::value* iss = jwt->claims.if_contains("iss");
  if (!iss || !iss->is_string()) return InvalidToken("token has no iss");
  // Exact match only: the token picks among issuers we trust, never introduces one.
  auto entry = FindIssuer(std::string(iss->get_string()));
  if (!entry) return InvalidToken("issuer is not configured");
  if (auto verified = VerifyWithKeys(*jwt, *entry); !verified.ok()) return verified.error();
  ClaimRules rules{entry->issuer.url,
                   entry->issuer.built_in ? std::string(kZebrosAudience) : settings_.audience, now,
                   kSkewSeconds};
  if (auto valid = ValidateClaims(*jwt, rules); !valid.ok()) return valid.error();
  return ExtractIdentity(*jwt, *entry);
}

void TokenVerifier::NoteKeys(const IssuerEntry& entry, const std::vector<Jwk>& keys) {
  std::set<std::string> kids;
  for (const Jwk& key : keys) kids.insert(key.kid);
  bool removed = false;
  {
    std::lock_guard lock(entry.kids_mutex);
    if (kids == entry.kids) return;
    for (const std::string& kid : entry.kids) removed |= kids.count(kid) == 0;
    entry.kids = std::move(kids);
  }
  if (removed) cache_.Clear();
}

core::Status TokenVerifier::VerifyWithKeys(const Jwt& jwt, const IssuerEntry& entry) {
  JwksSource& source = *entry.source;
  // With a kid only keys of that kid are candidates; without one (issuers with a single key
  // often omit it), every key of the token's algorithm is.
  const auto candidates = [&jwt](const std::vector<Jwk>& keys) {
    std::vector<const Jwk*> out;
    for (const Jwk& key : keys) {
      if (jwt.kid.empty() ? key.alg == jwt.alg : key.kid == jwt.kid) out.push_back(&key);
    }
    return out;
  };
  auto keys = source.Keys(false);
  if (!keys.ok()) return std::move(keys).error();
  NoteKeys(entry, *keys);
  auto matching = candidates(*keys);
  if (matching.empty() && !jwt.kid.empty()) {
    // Perhaps the issuer rotated its keys; the source decides whether a fetch is allowed now.
    keys = source.Keys(true);
    if (!keys.ok()) return std::move(keys).error();
    NoteKeys(entry, *keys);
    matching = candidates(*keys);
  }
  if (matching.empty()) return InvalidToken("no key of the issuer matches the token's kid");
  for (const Jwk* key : matching) {
    if (VerifySignature(jwt, *key)) return core::OkStatus();
  }
  return InvalidToken("signature does not verify");
}

core::Result<TokenIdentity> TokenVerifier::ExtractIdentity(const Jwt& jwt,
                                                           const IssuerEntry& entry) const {
  TokenIdentity identity;
  identity.issuer = entry.issuer.url;
  identity.subject = OptionalString(jwt.claims, "sub");
  if (identity.subject.empty()) return InvalidToken("token has no sub");
  if (!entry.issuer.tenant.empty()) {
    identity.tenant_name = entry.issuer.tenant;
  } else {
    const json::value* tenant = FindClaim(jwt.claims, settings_.tenant_claim);
    if (!tenant || !tenant->is_string() || tenant->get_string().empty()) {
      return InvalidToken("token has no tenant claim");
    }
    identity.tenant_name = std::string(tenant->get_string());
  }
  identity.username = OptionalString(jwt.claims, "preferred_username");
  identity.email = OptionalString(jwt.claims, "email");
  identity.client_id = OptionalString(jwt.claims, "azp");
  identity.role = RoleOf(jwt, entry.issuer);
  identity.expires_at = ExpiryMillis(jwt).value_or(0);
  return identity;
}

std::optional<model::Role> TokenVerifier::RoleOf(const Jwt& jwt, const OidcIssuer& issuer) const {
  const json::value* roles =
      FindClaim(jwt.claims, issuer.built_in ? "realm_access.roles" : settings_.roles_claim);
  const auto& role_map = issuer.built_in ? identity_role_map_ : role_map_;
  if (!roles) return std::nullopt;
  std::optional<model::Role> best;
  const auto consider = [&](const json::value& name) {
    if (!name.is_string()) return;
    for (const auto& [from, role] : role_map) {
      if (name.get_string() == from && (!best || Rank(role) < Rank(*best))) best = role;
    }
  };
  if (roles->is_array()) {
    for (const json::value& name : roles->get_array()) consider(name);
  } else {
    consider(*roles);
  }
  return best;
}

}  // namespace zebros::auth
