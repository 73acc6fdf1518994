#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace zebros::auth {

// JSON Web Tokens (RFC 7519) signed with JWS compact serialisation (RFC 7515), as an OIDC
// resource server sees them. Only asymmetric algorithms exist here: RS256, ES256 and EdDSA
// (Ed25519). `none` and HMAC are never accepted, so a public key can never double as a secret.
// OpenSSL stays inside jwt.cc.

// Tokens longer than this are refused before any decoding.
inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;

// The one error every token failure becomes: kUnauthenticated, problem code `invalid_token`, a
// generic public message, and `detail` (logs only) saying why. `detail` must never contain the
// token itself.
core::Error InvalidToken(std::string detail);

// An immutable public key (wraps OpenSSL's EVP_PKEY). Safe to share between threads.
class PublicKey;

// One verification key from a JWKS. The key verifies exactly one algorithm, `alg`, which follows
// from its type (RSA -> RS256, EC P-256 -> ES256, OKP Ed25519 -> EdDSA).
struct Jwk {
  std::string kid;  // may be empty when the JWKS gives none
  std::string alg;  // "RS256", "ES256" or "EdDSA"
  std::shared_ptr<const PublicKey> key;
};

// Parses a JWK Set (RFC 7517) document: {"keys":[…]}. Keys that cannot serve token verification
// here are skipped, not errors: `use` other than "sig", `key_ops` without "verify", unsupported
// kty/crv, an `alg` that does not match the key type, private parts (d, p, q, …: a published
// private key is compromised), RSA moduli under 2048 or over 8192 bits, EC points off the curve.
// Returns invalid_token when the document itself is not a JSON object with a "keys" array.
core::Result<std::vector<Jwk>> ParseJwks(std::string_view json);

// A decoded but NOT yet verified token.
struct Jwt {
  boost::json::object header;
  boost::json::object claims;
  std::string alg;            // header "alg", one of RS256, ES256, EdDSA
  std::string kid;            // header "kid", empty when absent; only a key lookup hint
  std::string signing_input;  // "<base64url header>.<base64url payload>"
  std::string signature;      // raw signature bytes
};

// Splits and decodes a compact JWS. Refuses (invalid_token): more than kMaxTokenBytes, not exactly
// three segments, non-canonical base64url, JSON that core::ParseJson refuses or that is not an
// object, an alg outside RS256/ES256/EdDSA, a non-string kid, a `crit` header (no extensions
// are understood). Headers `jwk`, `jku`, `x5u`, `x5c` are kept in `header` but never used.
core::Result<Jwt> DecodeJwt(std::string_view compact);

// True when `jwt.signature` is a valid signature of `jwt.signing_input` by `key`, with the header
// alg equal to the key's pinned alg and the key of the matching type. ES256 signatures are the
// 64-byte r||s form of RFC 7518. Thread-safe.
bool VerifySignature(const Jwt& jwt, const Jwk& key);

struct ClaimRules {
  std::string issuer;    // `iss` must equal this exactly
  std::string audience;  // `aud` (a string or an array of strings) must contain this
  core::EpochMillis now = 0;
  int skew_seconds = 60;  // tolerance for clocks that disagree, applied to exp, nbf and iat
};

// Checks the registered claims of a signature-verified token: iss, aud, exp (required, now <
// exp + skew), nbf and iat (optional, not after now + skew), and `typ` (optional, but when
// present it must be "Bearer": Keycloak's ID and refresh tokens carry "ID" and "Refresh").
// Time claims must be JSON numbers. Every failure is invalid_token.
core::Status ValidateClaims(const Jwt& jwt, const ClaimRules& rules);

// Returns the `exp` claim in epoch milliseconds, or nullopt when absent or not a number in range.
std::optional<core::EpochMillis> ExpiryMillis(const Jwt& jwt);

// An RS256 signing key (RSA, 2048 bits or more) for the built-in identity provider. Cheap to
// copy (the key is shared and immutable); all methods are thread-safe.
class SigningKey {
 public:
  // A fresh 2048-bit key. Fails (kInternal) only if OpenSSL cannot generate one.
  static core::Result<SigningKey> Generate(std::string kid);
  // Loads a PEM private key (PKCS#8 or traditional RSA). Fails (kInternal, `invalid_signing_key`)
  // unless it is an RSA key of at least 2048 bits.
  static core::Result<SigningKey> FromPem(std::string_view private_pem, std::string kid);

  // Unencrypted PKCS#8 PEM, for storing the key. A secret: never log it.
  std::string PrivatePem() const;
  // The public half, ready for VerifySignature.
  Jwk PublicJwk() const;
  // The public half as a JWKS entry: kty, kid, use "sig", alg "RS256", n, e.
  boost::json::object PublicJwkJson() const;
  // A compact JWS over `claims`, with header {"alg":"RS256","typ":"JWT","kid":kid()}.
  std::string Sign(const boost::json::object& claims) const;
  const std::string& kid() const;

 private:
  struct State;
  explicit SigningKey(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace zebros::auth
