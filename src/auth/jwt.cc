#include "auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <limits>

#include "auth/jwt_internal.h"
#include "core/crypto.h"
#include "core/json.h"

namespace zebros::auth {
namespace json = boost::json;
namespace {

constexpr std::string_view kPublicMessage = "The access token is invalid or expired.";
// Tokens are tiny; a deep or wide header or payload is hostile.
const core::JsonLimits kTokenJsonLimits{
    .max_depth = 16, .max_string_bytes = kMaxTokenBytes, .max_keys_per_object = 256};
// A NumericDate beyond ±1e12 seconds (some 30 000 years) is malformed; the bound also keeps the
// conversion to milliseconds far from overflow.
constexpr double kMaxNumericDateSeconds = 1e12;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

bool IsSupportedAlg(std::string_view alg) {
  return alg == "RS256" || alg == "ES256" || alg == "EdDSA";
}

// EVP_PKEY type names that may carry each algorithm; the pairing is what stops a key of one type
// being used under another algorithm's rules.
const char* KeyTypeFor(std::string_view alg) {
  if (alg == "RS256") return "RSA";
  if (alg == "ES256") return "EC";
  return "ED25519";
}

// RFC 7518 section 3.4: ES256 signatures are R || S, 32 bytes each; OpenSSL wants DER.
std::optional<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!sig) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  std::optional<std::string> out;
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig, &der);
  if (length > 0) out.emplace(reinterpret_cast<const char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

bool DigestVerify(EVP_PKEY* key, const EVP_MD* md, std::string_view signature,
                  std::string_view data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

core::Result<json::object> DecodeSegment(std::string_view segment, const char* what) {
  auto bytes = core::Base64UrlDecode(segment);
  if (!bytes) return InvalidToken(std::string(what) + " is not canonical base64url");
  auto parsed = core::ParseJson(*bytes, kTokenJsonLimits);
  if (!parsed.ok()) return InvalidToken(std::string(what) + " is not valid JSON");
  if (!parsed->is_object()) return InvalidToken(std::string(what) + " is not a JSON object");
  return std::move(parsed->get_object());
}

// A NumericDate (seconds, possibly fractional) as epoch milliseconds; nullopt if not a number
// in a sane range. Booleans and strings are not numbers.
std::optional<core::EpochMillis> NumericDateMillis(const json::value& value) {
  double seconds = 0;
  if (value.is_int64()) {
    seconds = static_cast<double>(value.get_int64());
  } else if (value.is_uint64()) {
    seconds = static_cast<double>(value.get_uint64());
  } else if (value.is_double()) {
    seconds = value.get_double();
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(seconds) || std::fabs(seconds) > kMaxNumericDateSeconds) return std::nullopt;
  if (value.is_int64()) return value.get_int64() * 1000;
  return static_cast<core::EpochMillis>(std::floor(seconds * 1000.0));
}

bool AudienceContains(const json::value& aud, std::string_view audience) {
  if (aud.is_string()) return aud.get_string() == audience;
  if (!aud.is_array()) return false;
  for (const json::value& item : aud.get_array()) {
    if (item.is_string() && item.get_string() == audience) return true;
  }
  return false;
}

}  // namespace

core::Error InvalidToken(std::string detail) {
  return core::MakeError(core::Code::kUnauthenticated, "invalid_token", std::string(kPublicMessage),
                         std::move(detail));
}

core::Result<Jwt> DecodeJwt(std::string_view compact) {
  if (compact.size() > kMaxTokenBytes) return InvalidToken("token too large");
  const std::size_t first = compact.find('.');
  const std::size_t second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos) {
    return InvalidToken("token does not have three segments");
  }
  Jwt jwt;
  auto header = DecodeSegment(compact.substr(0, first), "header");
  if (!header.ok()) return std::move(header).error();
  jwt.header = std::move(*header);
  auto claims = DecodeSegment(compact.substr(first + 1, second - first - 1), "payload");
  if (!claims.ok()) return std::move(claims).error();
  jwt.claims = std::move(*claims);
  auto signature = core::Base64UrlDecode(compact.substr(second + 1));
  if (!signature || signature->empty()) return InvalidToken("signature is missing or malformed");
  jwt.signature = std::move(*signature);

  const json::value* alg = jwt.header.if_contains("alg");
  if (!alg || !alg->is_string()) return InvalidToken("header has no alg");
  jwt.alg = std::string(alg->get_string());
  if (!IsSupportedAlg(jwt.alg)) return InvalidToken("unsupported alg");
  if (const json::value* kid = jwt.header.if_contains("kid")) {
    if (!kid->is_string()) return InvalidToken("kid is not a string");
    jwt.kid = std::string(kid->get_string());
  }
  // RFC 7515 section 4.1.11: a recipient must refuse critical extensions it does not understand,
  // and we understand none.
  if (jwt.header.contains("crit")) return InvalidToken("critical header extensions");
  jwt.signing_input = std::string(compact.substr(0, second));
  return jwt;
}

bool VerifySignature(const Jwt& jwt, const Jwk& key) {
  if (!key.key || !IsSupportedAlg(jwt.alg) || jwt.alg != key.alg) return false;
  EVP_PKEY* pkey = key.key->get();
  if (EVP_PKEY_is_a(pkey, KeyTypeFor(jwt.alg)) != 1) return false;
  if (jwt.alg == "RS256") {
    if (jwt.signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey))) return false;
    return DigestVerify(pkey, EVP_sha256(), jwt.signature, jwt.signing_input);
  }
  if (jwt.alg == "ES256") {
    if (EVP_PKEY_get_bits(pkey) != 256) return false;
    const auto der = EcdsaRawToDer(jwt.signature);
    return der && DigestVerify(pkey, EVP_sha256(), *der, jwt.signing_input);
  }
  // EdDSA: Ed25519 hashes internally, so no digest is named.
  return jwt.signature.size() == 64 &&
         DigestVerify(pkey, nullptr, jwt.signature, jwt.signing_input);
}

std::optional<core::EpochMillis> ExpiryMillis(const Jwt& jwt) {
  const json::value* exp = jwt.claims.if_contains("exp");
  return exp ? NumericDateMillis(*exp) : std::nullopt;
}

core::Status ValidateClaims(const Jwt& jwt, const ClaimRules& rules) {
  const json::object& claims = jwt.claims;
  const json::value* iss = claims.if_contains("iss");
  if (!iss || !iss->is_string() || iss->get_string() != rules.issuer) {
    return InvalidToken("issuer does not match");
  }
  const json::value* aud = claims.if_contains("aud");
  if (!aud || !AudienceContains(*aud, rules.audience)) {
    return InvalidToken("audience does not contain " + rules.audience);
  }
  const core::EpochMillis skew = static_cast<core::EpochMillis>(rules.skew_seconds) * 1000;
  const auto exp = ExpiryMillis(jwt);
  if (!exp) return InvalidToken("exp is missing or not a number");
  if (rules.now >= *exp + skew) return InvalidToken("token expired");
  if (const json::value* nbf = claims.if_contains("nbf")) {
    const auto millis = NumericDateMillis(*nbf);
    if (!millis) return InvalidToken("nbf is not a number");
    if (*millis > rules.now + skew) return InvalidToken("token not yet valid (nbf)");
  }
  if (const json::value* iat = claims.if_contains("iat")) {
    const auto millis = NumericDateMillis(*iat);
    if (!millis) return InvalidToken("iat is not a number");
    if (*millis > rules.now + skew) return InvalidToken("token issued in the future (iat)");
  }
  if (const json::value* typ = claims.if_contains("typ")) {
    if (!typ->is_string() || typ->get_string() != "Bearer") {
      return InvalidToken("token typ is not Bearer");
    }
  }
  return core::OkStatus();
}

}  // namespace zebros::auth
