#include "auth/jwks_source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/array.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "auth/oidc_verifier.h"
#include "core/crypto.h"
#include "core/json.h"
#include "net/http_server.h"

namespace zebros::auth {
namespace {
namespace json = boost::json;

constexpr core::EpochMillis kStart = 1'700'000'000'000;
const std::string kIssuer = "https://id.example.com/realms/acme";
const std::string kDiscovery = kIssuer + "/.well-known/openid-configuration";
const std::string kJwksUri = kIssuer + "/protocol/openid-connect/certs";

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

// An issuer on the other end of the fetcher: answers per URL, counts requests.
class FakeIssuer {
 public:
  FakeIssuer() {
    SetDiscovery(json::object{{"issuer", kIssuer}, {"jwks_uri", kJwksUri}});
    SetKeys({Key(0).PublicJwkJson()});
  }
  void SetDiscovery(const json::object& document) {
    Set(kDiscovery, 200, core::WriteJson(document));
  }
  void SetKeys(json::array keys) {
    Set(kJwksUri, 200, core::WriteJson(json::object{{"keys", std::move(keys)}}));
  }
  void Set(const std::string& url, int status, std::string body) {
    std::lock_guard lock(mutex_);
    responses_[url] = {status, std::move(body), "application/json"};
  }
  void Fail(const std::string& url) {
    std::lock_guard lock(mutex_);
    responses_.erase(url);
  }
  int Count(const std::string& url) {
    std::lock_guard lock(mutex_);
    return counts_[url];
  }
  HttpJwksSource::Fetcher Fetcher() {
    return [this](const net::HttpFetchRequest& request) -> core::Result<net::HttpFetchResponse> {
      std::unique_lock lock(mutex_);
      ++counts_[request.url];
      if (gate_closed_) {
        ++waiting_in_fetch_;
        entered_.notify_all();
        opened_.wait(lock, [this] { return !gate_closed_; });
      }
      auto it = responses_.find(request.url);
      if (it == responses_.end()) {
        return core::MakeError(core::Code::kUnavailable, "upstream_unavailable", "down",
                               "connection refused");
      }
      return it->second;
    };
  }
  // While closed, fetches block (to hold one fetch in flight while others arrive).
  void CloseGate() {
    std::lock_guard lock(mutex_);
    gate_closed_ = true;
  }
  void WaitForFetchInFlight() {
    std::unique_lock lock(mutex_);
    entered_.wait(lock, [this] { return waiting_in_fetch_ > 0; });
  }
  void OpenGate() {
    {
      std::lock_guard lock(mutex_);
      gate_closed_ = false;
    }
    opened_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable entered_;
  std::condition_variable opened_;
  bool gate_closed_ = false;
  int waiting_in_fetch_ = 0;
  std::map<std::string, net::HttpFetchResponse> responses_;
  std::map<std::string, int> counts_;
};

std::vector<std::string> Kids(const core::Result<std::vector<Jwk>>& keys) {
  std::vector<std::string> out;
  if (keys.ok()) {
    for (const Jwk& key : *keys) out.push_back(key.kid);
  }
  return out;
}

TEST(HttpJwksSourceTest, DiscoversThenCachesTheKeys) {
  FakeIssuer issuer;
  FakeClock clock;
  HttpJwksSource source(kIssuer, clock, issuer.Fetcher());
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k1"});
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k1"});
  EXPECT_EQ(issuer.Count(kDiscovery), 1);
  EXPECT_EQ(issuer.Count(kJwksUri), 1);
}

TEST(HttpJwksSourceTest, TrailingSlashIssuerUsesOneSlashForDiscovery) {
  FakeIssuer issuer;
  FakeClock clock;
  const std::string slashed = kIssuer + "/";
  issuer.Set(kDiscovery, 200,
             core::WriteJson(json::object{{"issuer", slashed}, {"jwks_uri", kJwksUri}}));
  HttpJwksSource source(slashed, clock, issuer.Fetcher());
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k1"});
}

TEST(HttpJwksSourceTest, RefreshIsRateLimitedPerTenSeconds) {
  FakeIssuer issuer;
  FakeClock clock;
  HttpJwksSource source(kIssuer, clock, issuer.Fetcher());
  ASSERT_TRUE(source.Keys(false).ok());
  issuer.SetKeys({Key(0).PublicJwkJson(), Key(1).PublicJwkJson()});
  // Too soon after the first fetch: answered from the cache.
  EXPECT_EQ(Kids(source.Keys(true)), std::vector<std::string>{"k1"});
  clock.Advance(9'999);
  EXPECT_EQ(Kids(source.Keys(true)), std::vector<std::string>{"k1"});
  clock.Advance(1);
  EXPECT_EQ(Kids(source.Keys(true)), (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(issuer.Count(kJwksUri), 2);
  // Discovery is not repeated while the JWKS URI works.
  EXPECT_EQ(issuer.Count(kDiscovery), 1);
}

TEST(HttpJwksSourceTest, WithdrawnKeysExpireAfterTheMaximumAge) {
  FakeIssuer issuer;
  FakeClock clock;
  HttpJwksSource source(kIssuer, clock, issuer.Fetcher());
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k1"});
  issuer.SetKeys({Key(1).PublicJwkJson()});  // k1 withdrawn
  clock.Advance(HttpJwksSource::kMaxKeyAge - 1);
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k1"});
  EXPECT_EQ(issuer.Count(kJwksUri), 1);
  clock.Advance(1);
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k2"});
  EXPECT_EQ(issuer.Count(kJwksUri), 2);
  // An issuer that is down when the keys age keeps its last keys, retried once per interval.
  issuer.Fail(kJwksUri);
  clock.Advance(HttpJwksSource::kMaxKeyAge);
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k2"});
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k2"});
  EXPECT_EQ(issuer.Count(kJwksUri), 3);
}

TEST(HttpJwksSourceTest, DiscoveryMustNameOurIssuerAndAnHttpJwksUri) {
  const std::vector<json::object> documents = {
      {{"issuer", "https://evil.example/realms/acme"}, {"jwks_uri", kJwksUri}},
      {{"issuer", kIssuer + "/"}, {"jwks_uri", kJwksUri}},
      {{"jwks_uri", kJwksUri}},
      {{"issuer", kIssuer}},
      {{"issuer", kIssuer}, {"jwks_uri", "file:///etc/passwd"}},
      {{"issuer", kIssuer}, {"jwks_uri", 42}},
  };
  for (const json::object& document : documents) {
    FakeIssuer issuer;
    FakeClock clock;
    issuer.SetDiscovery(document);
    HttpJwksSource source(kIssuer, clock, issuer.Fetcher());
    auto keys = source.Keys(false);
    ASSERT_FALSE(keys.ok()) << core::WriteJson(document);
    EXPECT_EQ(keys.error().code, core::Code::kUnauthenticated);
    EXPECT_EQ(keys.error().problem_code, "invalid_token");
  }
  FakeIssuer not_json;
  FakeClock clock;
  not_json.Set(kDiscovery, 200, "<html>");
  EXPECT_FALSE(HttpJwksSource(kIssuer, clock, not_json.Fetcher()).Keys(false).ok());
  FakeIssuer not_found;
  not_found.Set(kDiscovery, 404, "{}");
  EXPECT_FALSE(HttpJwksSource(kIssuer, clock, not_found.Fetcher()).Keys(false).ok());
}

TEST(HttpJwksSourceTest, AnIssuerThatIsDownIsInvalidTokenAndRetriedAfterTheInterval) {
  FakeIssuer issuer;
  FakeClock clock;
  issuer.Fail(kJwksUri);
  HttpJwksSource source(kIssuer, clock, issuer.Fetcher());
  auto keys = source.Keys(false);
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.error().problem_code, "invalid_token");
  EXPECT_NE(keys.error().detail.find("connection refused"), std::string::npos);
  // No hammering while it is down.
  EXPECT_FALSE(source.Keys(false).ok());
  EXPECT_FALSE(source.Keys(true).ok());
  EXPECT_EQ(issuer.Count(kJwksUri), 1);
  issuer.SetKeys({Key(1).PublicJwkJson()});
  clock.Advance(HttpJwksSource::kMinFetchInterval);
  EXPECT_EQ(Kids(source.Keys(false)), std::vector<std::string>{"k2"});
  // After a failed JWKS fetch discovery runs again (the URI may have moved).
  EXPECT_EQ(issuer.Count(kDiscovery), 2);

  // Once keys are known, a failed refresh keeps serving them.
  issuer.Fail(kJwksUri);
  clock.Advance(HttpJwksSource::kMinFetchInterval);
  EXPECT_EQ(Kids(source.Keys(true)), std::vector<std::string>{"k2"});
}

TEST(HttpJwksSourceTest, ConcurrentRefreshesShareOneFetch) {
  FakeIssuer issuer;
  FakeClock clock;
  HttpJwksSource source(kIssuer, clock, issuer.Fetcher());
  ASSERT_TRUE(source.Keys(false).ok());
  clock.Advance(HttpJwksSource::kMinFetchInterval);
  issuer.SetKeys({Key(0).PublicJwkJson(), Key(1).PublicJwkJson()});
  issuer.CloseGate();
  auto leader = std::async(std::launch::async, [&] { return Kids(source.Keys(true)); });
  issuer.WaitForFetchInFlight();
  // These arrive while the leader's fetch is in flight (or, on a slow machine, after it ended,
  // when the rate limit answers): either way none of them may fetch again.
  std::vector<std::future<std::vector<std::string>>> followers;
  for (int i = 0; i < 8; ++i) {
    followers.push_back(std::async(std::launch::async, [&] { return Kids(source.Keys(true)); }));
  }
  issuer.OpenGate();
  const std::vector<std::string> both = {"k1", "k2"};
  EXPECT_EQ(leader.get(), both);
  for (auto& follower : followers) EXPECT_EQ(follower.get(), both);
  EXPECT_EQ(issuer.Count(kJwksUri), 2);
}

// The verifier end to end over HttpJwksSource: a flood of tokens naming random kids.
TEST(HttpJwksSourceTest, FloodOfRandomKidsFetchesAtMostOncePerInterval) {
  FakeIssuer issuer;
  FakeClock clock;
  OidcSettings settings;
  settings.issuers.push_back({kIssuer, ""});
  TokenVerifier verifier(settings, clock, [&](const std::string& url) {
    return std::make_unique<HttpJwksSource>(url, clock, issuer.Fetcher());
  });
  const std::int64_t now = kStart / 1000;
  const json::object claims{{"iss", kIssuer},
                            {"aud", "zebros-api"},
                            {"sub", "u"},
                            {"exp", now + 3600},
                            {"tenant", "acme"}};
  std::mt19937_64 random(42);
  const auto flood = [&] {
    for (int i = 0; i < 1000; ++i) {
      const std::string header = core::WriteJson(
          json::object{{"alg", "RS256"}, {"kid", "kid-" + std::to_string(random())}});
      const std::string token = core::Base64UrlEncode(header) + "." +
                                core::Base64UrlEncode(core::WriteJson(claims)) + "." +
                                core::Base64UrlEncode(std::string(256, 'x'));
      auto result = verifier.Verify(token);
      ASSERT_FALSE(result.ok());
      EXPECT_EQ(result.error().problem_code, "invalid_token");
    }
  };
  flood();
  EXPECT_EQ(issuer.Count(kJwksUri), 1);  // the initial fetch; every refresh was rate-limited
  clock.Advance(5'000);
  flood();
  EXPECT_EQ(issuer.Count(kJwksUri), 1);
  clock.Advance(5'000);
  flood();
  EXPECT_EQ(issuer.Count(kJwksUri), 2);
  clock.Advance(60'000);
  flood();
  EXPECT_EQ(issuer.Count(kJwksUri), 3);
  EXPECT_EQ(issuer.Count(kDiscovery), 1);
  // Genuine tokens still pass meanwhile.
  json::object good = claims;
  good["exp"] = clock.NowMillis() / 1000 + 300;
  EXPECT_TRUE(verifier.Verify(Key(0).Sign(good)).ok());
}

// The real path: HttpJwksSource over net::HttpFetch against the project's own HTTP server playing
// the issuer (discovery and JWKS on an ephemeral port).
class IssuerHandler : public net::HttpHandler {
 public:
  void Handle(net::HttpRequest& request, net::Reply reply) override {
    net::HttpResponse response;
    response.SetHeader("Content-Type", "application/json");
    if (request.path == "/realms/acme/.well-known/openid-configuration") {
      response.body = core::WriteJson(json::object{
          {"issuer", issuer}, {"jwks_uri", issuer + "/protocol/openid-connect/certs"}});
    } else if (request.path == "/realms/acme/protocol/openid-connect/certs") {
      response.body = core::WriteJson(json::object{{"keys", json::array{Key(0).PublicJwkJson()}}});
    } else {
      response.status = 404;
    }
    reply(std::move(response));
  }
  std::string issuer;
};

TEST(HttpJwksSourceTest, VerifiesTokensWithKeysFetchedOverHttp) {
  IssuerHandler handler;
  net::ServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  options.shutdown_grace = std::chrono::seconds(1);
  net::HttpServer server(options, handler);
  auto port = server.Listen();
  ASSERT_TRUE(port.ok());
  handler.issuer = "http://127.0.0.1:" + std::to_string(*port) + "/realms/acme";
  std::thread running([&server] { server.Run(); });

  FakeClock clock;
  OidcSettings settings;
  settings.issuers.push_back({handler.issuer, "acme"});
  TokenVerifier verifier(settings, clock, [&clock](const std::string& url) {
    return std::make_unique<HttpJwksSource>(url, clock);
  });
  const std::int64_t now = kStart / 1000;
  auto identity = verifier.Verify(Key(0).Sign(
      {{"iss", handler.issuer}, {"aud", "zebros-api"}, {"sub", "u-1"}, {"exp", now + 60}}));
  server.Shutdown();
  running.join();
  ASSERT_TRUE(identity.ok()) << identity.error().detail;
  EXPECT_EQ(identity->subject, "u-1");
  EXPECT_EQ(identity->tenant_name, "acme");
}

}  // namespace
}  // namespace zebros::auth
