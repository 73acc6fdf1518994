#include "auth/jwks_source.h"

#include <boost/json/value.hpp>

#include "core/json.h"
#include "core/log.h"

namespace zebros::auth {
namespace json = boost::json;
namespace {

bool IsHttpUrl(std::string_view url) {
  return url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
}

// OIDC Discovery section 4: a trailing '/' of the issuer is dropped before the well-known path.
std::string DiscoveryUrl(std::string_view issuer) {
  if (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
  return std::string(issuer) + "/.well-known/openid-configuration";
}

}  // namespace

HttpJwksSource::HttpJwksSource(std::string issuer, const core::Clock& clock, Fetcher fetch)
    : issuer_(std::move(issuer)), clock_(clock), fetch_(std::move(fetch)) {}

core::Result<std::vector<Jwk>> HttpJwksSource::Keys(bool refresh) {
  std::unique_lock lock(mutex_);
  const core::EpochMillis now = clock_.NowMillis();
  const bool stale = have_keys_ && now - fetched_at_ >= kMaxKeyAge;
  if (have_keys_ && !refresh && (!stale || fetching_)) return keys_;
  if (fetching_) {
    // Single flight: share the result of the fetch already under way.
    fetched_.wait(lock, [this] { return !fetching_; });
  } else if (!attempted_ || now - last_attempt_ >= kMinFetchInterval) {
    fetching_ = true;
    attempted_ = true;
    last_attempt_ = now;
    std::string jwks_uri = jwks_uri_;
    lock.unlock();
    // Whatever happens (even an exception), waiters must be released.
    struct Release {
      HttpJwksSource& self;
      std::unique_lock<std::mutex>& lock;
      ~Release() {
        if (!lock.owns_lock()) lock.lock();
        self.fetching_ = false;
        self.fetched_.notify_all();
      }
    } release{*this, lock};
    auto fetched = Fetch(jwks_uri);
    lock.lock();
    if (fetched.ok()) {
      keys_ = std::move(*fetched);
      have_keys_ = true;
      fetched_at_ = now;
      jwks_uri_ = std::move(jwks_uri);
      last_error_.reset();
    } else {
      // The JWKS may have moved; the next attempt starts again from discovery.
      jwks_uri_.clear();
      last_error_ = std::make_unique<core::Error>(fetched.error());
      core::Log(core::LogLevel::kWarn, "OIDC issuer keys could not be fetched",
                {{"issuer", issuer_}, {"detail", fetched.error().detail}});
    }
  }
  if (have_keys_) return keys_;
  if (last_error_) return *last_error_;
  return InvalidToken("issuer keys unavailable");
}

core::Result<std::string> HttpJwksSource::Discover() {
  net::HttpFetchRequest request;
  request.url = DiscoveryUrl(issuer_);
  request.headers.push_back({"Accept", "application/json"});
  auto response = fetch_(request);
  if (!response.ok()) return InvalidToken("OIDC discovery failed: " + response.error().detail);
  if (response->status != 200) {
    return InvalidToken("OIDC discovery answered HTTP " + std::to_string(response->status));
  }
  auto parsed = core::ParseJson(response->body);
  const json::object* document = parsed.ok() ? parsed->if_object() : nullptr;
  if (!document) return InvalidToken("OIDC discovery document is not a JSON object");
  const json::value* issuer = document->if_contains("issuer");
  // OIDC Discovery section 4.3: the document must name exactly the issuer we asked about, or a
  // mix-up between issuers could let one sign for another.
  if (!issuer || !issuer->is_string() || issuer->get_string() != issuer_) {
    return InvalidToken("OIDC discovery names a different issuer");
  }
  const json::value* jwks_uri = document->if_contains("jwks_uri");
  if (!jwks_uri || !jwks_uri->is_string() || !IsHttpUrl(jwks_uri->get_string())) {
    return InvalidToken("OIDC discovery has no http(s) jwks_uri");
  }
  return std::string(jwks_uri->get_string());
}

core::Result<std::vector<Jwk>> HttpJwksSource::Fetch(std::string& jwks_uri) {
  if (jwks_uri.empty()) {
    auto discovered = Discover();
    if (!discovered.ok()) return std::move(discovered).error();
    jwks_uri = std::move(*discovered);
  }
  net::HttpFetchRequest request;
  request.url = jwks_uri;
  request.headers.push_back({"Accept", "application/json"});
  auto response = fetch_(request);
  if (!response.ok()) return InvalidToken("JWKS fetch failed: " + response.error().detail);
  if (response->status != 200) {
    return InvalidToken("JWKS fetch answered HTTP " + std::to_string(response->status));
  }
  return ParseJwks(response->body);
}

}  // namespace zebros::auth
