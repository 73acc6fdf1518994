#include "auth/oidc_verifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/array.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "core/crypto.h"
#include "core/json.h"

namespace zebros::auth {
namespace {
namespace json = boost::json;

constexpr core::EpochMillis kStart = 1'700'000'000'000;
const std::string kIssuer = "https://id.example.com/realms/acme";

class FakeClock final : public core::Clock {
 public:
  core::EpochMillis NowMillis() const override { return now_.load(); }
  void Advance(core::EpochMillis millis) { now_ += millis; }

 private:
  std::atomic<core::EpochMillis> now_{kStart};
};

const SigningKey& Key(int index) {
  static const SigningKey keys[] = {*SigningKey::Generate("k1"), *SigningKey::Generate("k2")};
  return keys[index];
}

// Serves `current` and, on a refresh, switches to `next`; counts what it was asked.
class FakeSource final : public JwksSource {
 public:
  explicit FakeSource(std::vector<Jwk> current, std::vector<Jwk> next = {})
      : current_(std::move(current)), next_(std::move(next)) {}
  core::Result<std::vector<Jwk>> Keys(bool refresh) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (refresh) {
      ++refreshes_;
      if (!next_.empty()) current_ = next_;
    }
    return current_;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int refreshes() {
    std::lock_guard lock(mutex_);
    return refreshes_;
  }

 private:
  std::mutex mutex_;
  std::vector<Jwk> current_;
  std::vector<Jwk> next_;
  int calls_ = 0;
  int refreshes_ = 0;
};

json::object Claims(const FakeClock& clock) {
  const std::int64_t now = clock.NowMillis() / 1000;
  return {{"iss", kIssuer},
          {"aud", json::array{"zebros-api", "account"}},
          {"sub", "user-1"},
          {"exp", now + 300},
          {"iat", now},
          {"typ", "Bearer"},
          {"azp", "zebros-web"},
          {"tenant", "acme"},
          {"preferred_username", "ada"},
          {"email", "ada@example.com"},
          {"realm_access", {{"roles", json::array{"offline_access", "sales"}}}}};
}

void ExpectInvalid(const core::Result<TokenIdentity>& result, const std::string& token = {}) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::Code::kUnauthenticated);
  EXPECT_EQ(result.error().problem_code, "invalid_token");
  if (!token.empty()) {
    EXPECT_EQ(result.error().detail.find(token), std::string::npos);
  }
}

// A verifier with one configured issuer whose source the test keeps a handle on.
struct Fixture {
  explicit Fixture(OidcSettings settings = {}, std::vector<Jwk> keys = {Key(0).PublicJwk()},
                   std::vector<Jwk> next = {}) {
    if (settings.issuers.empty()) settings.issuers.push_back({kIssuer, ""});
    auto owned = std::make_unique<FakeSource>(std::move(keys), std::move(next));
    source = owned.get();
    verifier = std::make_unique<TokenVerifier>(
        std::move(settings), clock,
        [&owned](const std::string&) -> std::unique_ptr<JwksSource> { return std::move(owned); });
  }
  FakeClock clock;
  FakeSource* source = nullptr;
  std::unique_ptr<TokenVerifier> verifier;
};

// A token whose header names `kid` and whose signature is junk: enough to exercise key lookup.
std::string TokenWithKid(const std::string& kid, const json::object& claims) {
  return core::Base64UrlEncode(core::WriteJson(json::object{{"alg", "RS256"}, {"kid", kid}})) +
         "." + core::Base64UrlEncode(core::WriteJson(claims)) + "." +
         core::Base64UrlEncode(std::string(256, 'x'));
}

TEST(OidcVerifier, AcceptsAGoodTokenAndExtractsTheIdentity) {
  Fixture f;
  auto identity = f.verifier->Verify(Key(0).Sign(Claims(f.clock)));
  ASSERT_TRUE(identity.ok()) << identity.error().detail;
  EXPECT_EQ(identity->issuer, kIssuer);
  EXPECT_EQ(identity->subject, "user-1");
  EXPECT_EQ(identity->tenant_name, "acme");
  EXPECT_EQ(identity->username, "ada");
  EXPECT_EQ(identity->email, "ada@example.com");
  EXPECT_EQ(identity->client_id, "zebros-web");
  EXPECT_EQ(identity->role, model::Role::kSales);
  EXPECT_EQ(identity->expires_at, kStart + 300'000);
}

TEST(OidcVerifier, IssuerMustBeConfiguredExactly) {
  Fixture f;
  for (const char* iss :
       {"https://id.example.com/realms/acme/", "https://id.example.com/realms/",
        "https://evil.example/realms/acme", "HTTPS://id.example.com/realms/acme"}) {
    json::object claims = Claims(f.clock);
    claims["iss"] = iss;
    const std::string token = Key(0).Sign(claims);
    ExpectInvalid(f.verifier->Verify(token), token);
  }
  json::object claims = Claims(f.clock);
  claims.erase("iss");
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));
  // Never consulted the keys for a token from an issuer we do not trust.
  EXPECT_EQ(f.source->calls(), 0);
}

TEST(OidcVerifier, RefusesWhatJwtChecksRefuse) {
  Fixture f;
  json::object claims = Claims(f.clock);
  claims["aud"] = "account";
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));
  claims = Claims(f.clock);
  claims["typ"] = "Refresh";
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));
  claims = Claims(f.clock);
  claims["typ"] = "ID";
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));
  ExpectInvalid(f.verifier->Verify("garbage"));
  ExpectInvalid(f.verifier->Verify(std::string(kMaxTokenBytes + 1, 'a')));
  // Signed by a key the issuer does not publish, under a kid it does.
  auto impostor = SigningKey::FromPem(Key(1).PrivatePem(), "k1");
  ASSERT_TRUE(impostor.ok());
  ExpectInvalid(f.verifier->Verify(impostor->Sign(Claims(f.clock))));
}

TEST(OidcVerifier, SubjectAndTenantAreRequiredUnlessTheIssuerPinsTheTenant) {
  Fixture f;
  json::object claims = Claims(f.clock);
  claims.erase("sub");
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));
  claims = Claims(f.clock);
  claims["sub"] = "";
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));
  claims = Claims(f.clock);
  claims.erase("tenant");
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));
  claims["tenant"] = json::array{"acme"};
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));

  OidcSettings pinned;
  pinned.issuers.push_back({kIssuer, "globex"});
  Fixture g(pinned);
  claims = Claims(g.clock);
  claims["tenant"] = "acme";  // the issuer's pin wins over what the token says
  auto identity = g.verifier->Verify(Key(0).Sign(claims));
  ASSERT_TRUE(identity.ok());
  EXPECT_EQ(identity->tenant_name, "globex");
  claims.erase("tenant");
  EXPECT_TRUE(g.verifier->Verify(Key(0).Sign(claims)).ok());
}

TEST(OidcVerifier, TenantClaimMayBeADottedPath) {
  OidcSettings settings;
  settings.tenant_claim = "org.name";
  Fixture f(settings);
  json::object claims = Claims(f.clock);
  claims["org"] = {{"name", "initech"}};
  auto identity = f.verifier->Verify(Key(0).Sign(claims));
  ASSERT_TRUE(identity.ok());
  EXPECT_EQ(identity->tenant_name, "initech");
}

TEST(OidcVerifier, WarmUpAsksEveryIssuerForItsKeys) {
  Fixture f;
  f.verifier->WarmUp();
  EXPECT_EQ(f.source->calls(), 1);
  EXPECT_EQ(f.source->refreshes(), 0);
}

TEST(OidcVerifier, KeyRotationIsPickedUpByOneRefresh) {
  Fixture f({}, {Key(0).PublicJwk()}, {Key(0).PublicJwk(), Key(1).PublicJwk()});
  EXPECT_TRUE(f.verifier->Verify(Key(0).Sign(Claims(f.clock))).ok());
  EXPECT_EQ(f.source->refreshes(), 0);
  auto rotated = f.verifier->Verify(Key(1).Sign(Claims(f.clock)));
  ASSERT_TRUE(rotated.ok()) << rotated.error().detail;
  EXPECT_EQ(f.source->refreshes(), 1);
  // A kid that is still unknown after the refresh is refused.
  ExpectInvalid(f.verifier->Verify(TokenWithKid("k3", Claims(f.clock))));
  EXPECT_EQ(f.source->refreshes(), 2);
}

TEST(OidcVerifier, AKeyLeavingTheKeySetRetiresItsCachedTokens) {
  // The issuer rotates: after the refresh only k2 is published.
  Fixture f({}, {Key(0).PublicJwk()}, {Key(1).PublicJwk()});
  const std::string old_token = Key(0).Sign(Claims(f.clock));
  ASSERT_TRUE(f.verifier->Verify(old_token).ok());
  ASSERT_TRUE(f.verifier->Verify(old_token).ok());  // cached
  auto fresh = f.verifier->Verify(Key(1).Sign(Claims(f.clock)));
  ASSERT_TRUE(fresh.ok()) << fresh.error().detail;
  ExpectInvalid(f.verifier->Verify(old_token), old_token);
}

TEST(OidcVerifier, AddedKeysKeepCachedTokens) {
  Fixture f({}, {Key(0).PublicJwk()}, {Key(0).PublicJwk(), Key(1).PublicJwk()});
  const std::string token = Key(0).Sign(Claims(f.clock));
  ASSERT_TRUE(f.verifier->Verify(token).ok());
  ASSERT_TRUE(f.verifier->Verify(Key(1).Sign(Claims(f.clock))).ok());
  const int calls = f.source->calls();
  ASSERT_TRUE(f.verifier->Verify(token).ok());
  EXPECT_EQ(f.source->calls(), calls);  // still a cache hit
}

TEST(OidcVerifier, CachedTokensSkipTheKeysAndExpireWithTheToken) {
  Fixture f;
  const std::string token = Key(0).Sign(Claims(f.clock));
  auto first = f.verifier->Verify(token);
  ASSERT_TRUE(first.ok());
  const int calls = f.source->calls();
  auto second = f.verifier->Verify(token);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(f.source->calls(), calls);
  EXPECT_EQ(second->subject, first->subject);
  EXPECT_EQ(second->tenant_name, first->tenant_name);
  EXPECT_EQ(second->role, first->role);
  EXPECT_EQ(second->expires_at, first->expires_at);

  f.clock.Advance(300'000 + 59'000);  // within the skew after exp
  EXPECT_TRUE(f.verifier->Verify(token).ok());
  f.clock.Advance(1'000);  // exp + 60 s
  ExpectInvalid(f.verifier->Verify(token), token);
}

TEST(OidcVerifier, AddedIssuersAreAcceptedAndPinTheirTenant) {
  Fixture f;
  const std::string builtin = "http://127.0.0.1:8080/realms/globex";
  json::object claims = Claims(f.clock);
  claims["iss"] = builtin;
  const std::string token = Key(1).Sign(claims);
  ExpectInvalid(f.verifier->Verify(token));
  f.verifier->AddIssuer({builtin, "globex"}, std::make_unique<CallbackJwksSource>([] {
                          return std::vector<Jwk>{Key(1).PublicJwk()};
                        }));
  auto identity = f.verifier->Verify(token);
  ASSERT_TRUE(identity.ok()) << identity.error().detail;
  EXPECT_EQ(identity->issuer, builtin);
  EXPECT_EQ(identity->tenant_name, "globex");
  // The configured issuer still works beside it.
  EXPECT_TRUE(f.verifier->Verify(Key(0).Sign(Claims(f.clock))).ok());
  // Replacing the issuer drops cached identities: the new key set no longer has k2.
  f.verifier->AddIssuer({builtin, "globex"},
                        std::make_unique<StaticJwksSource>(std::vector<Jwk>{Key(0).PublicJwk()}));
  ExpectInvalid(f.verifier->Verify(token));
}

std::optional<model::Role> RoleFor(OidcSettings settings, const json::object& extra) {
  Fixture f(std::move(settings));
  json::object claims = Claims(f.clock);
  claims.erase("realm_access");
  for (const auto& member : extra) claims[member.key()] = member.value();
  auto identity = f.verifier->Verify(Key(0).Sign(claims));
  EXPECT_TRUE(identity.ok());
  return identity.ok() ? identity->role : std::nullopt;
}

json::object RealmRoles(json::array roles) { return {{"realm_access", {{"roles", roles}}}}; }

TEST(OidcRoles, ZebrosRoleNamesMapToThemselvesByDefault) {
  EXPECT_EQ(RoleFor({}, RealmRoles({"read_only"})), model::Role::kReadOnly);
  EXPECT_EQ(RoleFor({}, RealmRoles({"support", "sales"})), model::Role::kSales);
  EXPECT_EQ(RoleFor({}, RealmRoles({"read_only", "admin", "support"})), model::Role::kAdmin);
  EXPECT_EQ(RoleFor({}, RealmRoles({"offline_access", "uma_authorization"})), std::nullopt);
  EXPECT_EQ(RoleFor({}, RealmRoles({"Admin", "ADMIN", "admin "})), std::nullopt);
  EXPECT_EQ(RoleFor({}, RealmRoles({7, nullptr, json::array{"admin"}, "support"})),
            model::Role::kSupport);
  EXPECT_EQ(RoleFor({}, {}), std::nullopt);
  EXPECT_EQ(RoleFor({}, {{"realm_access", {{"roles", "admin"}}}}), model::Role::kAdmin);
  EXPECT_EQ(RoleFor({}, {{"realm_access", "admin"}}), std::nullopt);
}

TEST(OidcRoles, RoleMapReplacesTheDefaultNames) {
  OidcSettings settings;
  settings.role_map = {{"crm-admin", "admin"}, {"crm-user", "sales"}, {"helpdesk", "support"}};
  EXPECT_EQ(RoleFor(settings, RealmRoles({"crm-user"})), model::Role::kSales);
  EXPECT_EQ(RoleFor(settings, RealmRoles({"helpdesk", "crm-admin"})), model::Role::kAdmin);
  // With a map, only mapped names count, even Zebros' own role names.
  EXPECT_EQ(RoleFor(settings, RealmRoles({"admin"})), std::nullopt);
}

TEST(OidcRoles, ClientRolesWithDottedClientIds) {
  OidcSettings settings;
  settings.roles_claim = "resource_access.zebros-api.roles";
  EXPECT_EQ(RoleFor(settings, {{"resource_access", {{"zebros-api", {{"roles", {"support"}}}}}}}),
            model::Role::kSupport);
  // Realm roles are not client roles.
  EXPECT_EQ(RoleFor(settings, RealmRoles({"admin"})), std::nullopt);

  settings.roles_claim = "resource_access.crm.acme.io.roles";
  EXPECT_EQ(RoleFor(settings, {{"resource_access", {{"crm.acme.io", {{"roles", {"admin"}}}}}}}),
            model::Role::kAdmin);
  // A shorter key that exists but leads nowhere does not stop the search.
  EXPECT_EQ(
      RoleFor(settings, {{"resource_access",
                          {{"crm", {{"other", 1}}}, {"crm.acme.io", {{"roles", {"sales"}}}}}}}),
      model::Role::kSales);
}

TEST(OidcRoles, BuiltInIssuersKeepZebrosAudienceAndRoleNames) {
  // Settings tuned for an external Keycloak must not break the built-in provider's tokens.
  OidcSettings settings;
  settings.audience = "crm-backend";
  settings.roles_claim = "resource_access.crm.roles";
  settings.role_map = {{"crm-admin", "admin"}};
  Fixture f(settings);
  const std::string builtin = "http://127.0.0.1:8080/realms/globex";
  f.verifier->AddIssuer({builtin, "globex", /*built_in=*/true},
                        std::make_unique<StaticJwksSource>(std::vector<Jwk>{Key(1).PublicJwk()}));
  json::object claims = Claims(f.clock);
  claims["iss"] = builtin;
  claims["aud"] = "zebros-api";
  claims["realm_access"] = {{"roles", {"support"}}};
  claims["resource_access"] = {{"crm", {{"roles", {"crm-admin"}}}}};
  auto identity = f.verifier->Verify(Key(1).Sign(claims));
  ASSERT_TRUE(identity.ok()) << identity.error().detail;
  EXPECT_EQ(identity->role, model::Role::kSupport);
  claims["aud"] = "crm-backend";
  ExpectInvalid(f.verifier->Verify(Key(1).Sign(claims)));

  // The external issuer follows the settings.
  claims = Claims(f.clock);
  claims["aud"] = "crm-backend";
  claims["resource_access"] = {{"crm", {{"roles", {"crm-admin"}}}}};
  identity = f.verifier->Verify(Key(0).Sign(claims));
  ASSERT_TRUE(identity.ok()) << identity.error().detail;
  EXPECT_EQ(identity->role, model::Role::kAdmin);
  claims["aud"] = "zebros-api";
  ExpectInvalid(f.verifier->Verify(Key(0).Sign(claims)));
}

TEST(OidcRoles, UnknownZebrosRoleInTheMapIsAStartUpError) {
  OidcSettings settings;
  settings.role_map = {{"x", "superuser"}};
  FakeClock clock;
  EXPECT_THROW(TokenVerifier(settings, clock, [](const std::string&) { return nullptr; }),
               std::invalid_argument);
}

TEST(OidcSettingsParsing, IssuerSpecs) {
  auto plain = ParseIssuerSpec("https://kc.example.com/realms/acme");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->url, "https://kc.example.com/realms/acme");
  EXPECT_EQ(plain->tenant, "");
  auto pinned = ParseIssuerSpec("http://localhost:8081/realms/acme=acme-corp");
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->url, "http://localhost:8081/realms/acme");
  EXPECT_EQ(pinned->tenant, "acme-corp");
  for (const char* bad :
       {"", "kc.example.com/realms/acme", "ftp://kc.example.com", "https://", "https:///realms",
        "https://:443/x", "https://u:p@kc/x", "https://kc/realms?x=1", "https://kc/realms#frag",
        "https://kc/r=", "https://kc/r=a b", "https://kc/ r"}) {
    auto parsed = ParseIssuerSpec(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().code, core::Code::kValidation);
    EXPECT_EQ(parsed.error().problem_code, "invalid_oidc_issuer");
  }
}

TEST(OidcSettingsParsing, RoleMaps) {
  auto map = ParseRoleMap("kc-admin=admin, crm-user = sales,helpdesk=support,viewer=read_only");
  ASSERT_TRUE(map.ok());
  const std::vector<std::pair<std::string, std::string>> expected = {{"kc-admin", "admin"},
                                                                     {"crm-user", "sales"},
                                                                     {"helpdesk", "support"},
                                                                     {"viewer", "read_only"}};
  EXPECT_EQ(*map, expected);
  auto empty = ParseRoleMap("  ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  for (const char* bad : {"kc-admin", "kc-admin=root", "=admin", "kc=", "a=admin,,b=sales",
                          "a=admin,", "a=b=admin", "a=Admin"}) {
    auto parsed = ParseRoleMap(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().problem_code, "invalid_role_map");
  }
}

TEST(VerifiedTokenCacheTest, BoundedEvictingExpiredThenSoonestToExpire) {
  VerifiedTokenCache cache(3, 0);
  const auto identity = [](core::EpochMillis expires_at) {
    TokenIdentity out;
    out.subject = std::to_string(expires_at);
    out.expires_at = expires_at;
    return out;
  };
  cache.Insert("a", identity(100), 0, 0);
  cache.Insert("b", identity(300), 0, 0);
  cache.Insert("c", identity(200), 0, 0);
  cache.Insert("d", identity(400), 0, 0);  // full: "a" expires soonest and goes
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.Find("a", 0));
  EXPECT_TRUE(cache.Find("c", 0));
  cache.Insert("e", identity(500), 250, 0);  // "c" has expired by now, so it goes, not "b"
  EXPECT_FALSE(cache.Find("c", 0));
  ASSERT_TRUE(cache.Find("b", 250));
  EXPECT_EQ(cache.Find("b", 250)->subject, "300");
  EXPECT_FALSE(cache.Find("b", 300));  // expired on lookup
  EXPECT_EQ(cache.size(), 2u);
}

TEST(VerifiedTokenCacheTest, InsertsFromBeforeAClearAreDropped) {
  VerifiedTokenCache cache(10, 0);
  TokenIdentity identity;
  identity.expires_at = 1000;
  const std::uint64_t before = cache.generation();
  cache.Clear();  // e.g. AddIssuer replaced an issuer while a verification was under way
  cache.Insert("late", identity, 0, before);
  EXPECT_FALSE(cache.Find("late", 0));
  cache.Insert("fresh", identity, 0, cache.generation());
  EXPECT_TRUE(cache.Find("fresh", 0));
}

}  // namespace
}  // namespace zebros::auth
