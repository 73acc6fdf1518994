#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/jwks_source.h"
#include "auth/jwt.h"
#include "auth/oidc_settings.h"
#include "auth/token_cache.h"
#include "auth/token_identity.h"
#include "core/clock.h"
#include "core/result.h"
#include "model/principal.h"

namespace zebros::auth {

// The OIDC resource-server side: turns a bearer access token into a TokenIdentity.
//
// A token is accepted when its `iss` is exactly one of the configured issuers, its header kid
// names a key of that issuer (the key set is refreshed once when the kid is unknown), the
// signature verifies under the key's pinned algorithm, ValidateClaims passes (aud contains the
// configured audience, exp/nbf/iat within 60 s of skew, typ Bearer when present), `sub` is a
// non-empty string and the tenant is known (pinned by the issuer, else a non-empty string in the
// tenant claim). Every refusal is invalid_token (kUnauthenticated); the detail says why and never
// contains the token. A verified token's identity is cached until it expires, so a repeated
// token costs a SHA-256 and a map lookup; when a key leaves an issuer's key set (noticed on the
// next verification that consults the keys) the cache is dropped.
//
// Verify blocks while an issuer's keys are fetched (first token of an issuer, an unknown kid at
// most once per 10 s, keys an hour old): up to two HTTP timeouts. WarmUp() at start-up spares
// the first requests that wait.
//
// Thread-safe: Verify and AddIssuer may be called concurrently.
class TokenVerifier {
 public:
  using SourceFactory = std::function<std::unique_ptr<JwksSource>(const std::string& issuer)>;
  static constexpr int kSkewSeconds = 60;
  static constexpr std::size_t kCacheEntries = 10'000;

  // `make_source` is called once per configured issuer (typically building an HttpJwksSource).
  // `clock` must outlive the verifier. Throws std::invalid_argument for a role_map entry that
  // names no Zebros role (start-up misconfiguration; ParseRoleMap reports it earlier).
  TokenVerifier(OidcSettings settings, const core::Clock& clock, SourceFactory make_source);

  // Adds or replaces an issuer with its own key source (the built-in provider's realms). Cached
  // identities are dropped, since a replaced issuer may pin another tenant.
  void AddIssuer(OidcIssuer issuer, std::unique_ptr<JwksSource> source);

  core::Result<TokenIdentity> Verify(std::string_view token);
  // Changes whenever cached verdicts are dropped (a key left an issuer's key set): callers that
  // cache what they derive from Verify compare it before trusting their copy.
  std::uint64_t CacheGeneration() const { return cache_.generation(); }

  // Fetches every issuer's keys now (blocking; e.g. on a start-up thread). Failures are logged by
  // the sources and retried on demand later.
  void WarmUp();

 private:
  struct IssuerEntry {
    IssuerEntry(OidcIssuer issuer_in, std::unique_ptr<JwksSource> source_in)
        : issuer(std::move(issuer_in)), source(std::move(source_in)) {}
    const OidcIssuer issuer;
    const std::unique_ptr<JwksSource> source;
    // The kids seen in the issuer's last key set, to notice a key leaving it.
    mutable std::mutex kids_mutex;
    mutable std::set<std::string> kids;  // GUARDED_BY(kids_mutex)
  };

  std::shared_ptr<const IssuerEntry> FindIssuer(const std::string& url) const;
  core::Result<TokenIdentity> VerifyUncached(std::string_view token, core::EpochMillis now);
  core::Status VerifyWithKeys(const Jwt& jwt, const IssuerEntry& entry);
  // Drops every cached identity when a kid the issuer published before is gone from `keys`: a
  // withdrawn key must stop vouching for tokens at once, cached ones included.
  void NoteKeys(const IssuerEntry& entry, const std::vector<Jwk>& keys);
  core::Result<TokenIdentity> ExtractIdentity(const Jwt& jwt, const IssuerEntry& entry) const;
  std::optional<model::Role> RoleOf(const Jwt& jwt, const OidcIssuer& issuer) const;

  const OidcSettings settings_;
  const core::Clock& clock_;
  // issuer role -> Zebros role, from settings_.role_map (or the identity map when that is empty).
  std::vector<std::pair<std::string, model::Role>> role_map_;
  // Zebros role names to themselves, for built-in issuers.
  std::vector<std::pair<std::string, model::Role>> identity_role_map_;
  mutable std::shared_mutex issuers_mutex_;
  std::map<std::string, std::shared_ptr<const IssuerEntry>> issuers_;  // GUARDED_BY(issuers_mutex_)
  VerifiedTokenCache cache_;
};

}  // namespace zebros::auth
