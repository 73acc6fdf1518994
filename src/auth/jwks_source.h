#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "core/clock.h"
#include "core/result.h"
#include "net/http_client.h"

namespace zebros::auth {

// Where an issuer's verification keys come from. Implementations are thread-safe: Keys() is
// called concurrently from request threads.
class JwksSource {
 public:
  virtual ~JwksSource() = default;
  // The issuer's current keys. refresh=false may answer from a cache; refresh=true asks for a
  // fresh copy because a token named an unknown kid (a source may rate-limit that and answer
  // its cache). Errors are invalid_token (the caller refuses the token).
  virtual core::Result<std::vector<Jwk>> Keys(bool refresh) = 0;
};

// A fixed key set (tests, or an issuer whose keys never change).
class StaticJwksSource final : public JwksSource {
 public:
  explicit StaticJwksSource(std::vector<Jwk> keys) : keys_(std::move(keys)) {}
  core::Result<std::vector<Jwk>> Keys(bool) override { return keys_; }

 private:
  const std::vector<Jwk> keys_;
};

// Asks a callback every time: the built-in identity provider hands over its current keys
// in-process, so rotation there is visible at once. The callback must be thread-safe.
class CallbackJwksSource final : public JwksSource {
 public:
  explicit CallbackJwksSource(std::function<std::vector<Jwk>()> keys) : keys_(std::move(keys)) {}
  core::Result<std::vector<Jwk>> Keys(bool) override { return keys_(); }

 private:
  const std::function<std::vector<Jwk>()> keys_;
};

// An external issuer's keys over HTTP: OIDC discovery at {issuer}/.well-known/openid-configuration
// (its `issuer` must equal ours exactly, its `jwks_uri` must be http(s)), then the JWKS. The keys
// are cached and refetched on demand (refresh=true) or once they are kMaxKeyAge old; fetches are
// single-flight (concurrent callers wait for the one fetch in progress and share its result;
// callers that only find the keys old keep using them meanwhile) and at most once per
// kMinFetchInterval, so a flood of tokens with random kids costs no fetch storm. A failed fetch is
// logged (warn) and reported as invalid_token; cached keys stay in use.
class HttpJwksSource final : public JwksSource {
 public:
  using Fetcher = std::function<core::Result<net::HttpFetchResponse>(const net::HttpFetchRequest&)>;
  static constexpr core::EpochMillis kMinFetchInterval = 10'000;
  // A key the issuer withdrew stops verifying within this long even if no unknown kid ever
  // prompts a refresh.
  static constexpr core::EpochMillis kMaxKeyAge = 3'600'000;

  // `clock` must outlive the source. `fetch` defaults to net::HttpFetch; tests pass a fake.
  HttpJwksSource(std::string issuer, const core::Clock& clock, Fetcher fetch = net::HttpFetch);

  core::Result<std::vector<Jwk>> Keys(bool refresh) override;

 private:
  // Discovery (when no jwks_uri is known yet) and the JWKS. Runs without the lock held.
  core::Result<std::vector<Jwk>> Fetch(std::string& jwks_uri);
  core::Result<std::string> Discover();

  const std::string issuer_;
  const core::Clock& clock_;
  const Fetcher fetch_;

  std::mutex mutex_;
  std::condition_variable fetched_;
  bool fetching_ = false;                    // GUARDED_BY(mutex_)
  bool have_keys_ = false;                   // GUARDED_BY(mutex_)
  std::vector<Jwk> keys_;                    // GUARDED_BY(mutex_)
  std::string jwks_uri_;                     // GUARDED_BY(mutex_); empty until discovered
  core::EpochMillis fetched_at_ = 0;         // GUARDED_BY(mutex_); when keys_ arrived
  core::EpochMillis last_attempt_ = 0;       // GUARDED_BY(mutex_)
  bool attempted_ = false;                   // GUARDED_BY(mutex_)
  std::unique_ptr<core::Error> last_error_;  // GUARDED_BY(mutex_); the last fetch's failure
};

}  // namespace zebros::auth
