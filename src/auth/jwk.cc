#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "auth/jwt.h"
#include "auth/jwt_internal.h"
#include "core/crypto.h"
#include "core/json.h"

namespace zebros::auth {
namespace json = boost::json;
namespace {

// Below 2048 bits RSA is breakable in practice; above 8192 a key only costs us CPU per token.
constexpr std::size_t kMinRsaBits = 2048;
constexpr std::size_t kMaxRsaBits = 8192;
// JWKS documents are small; the limit keeps a hostile issuer from handing us megabytes.
constexpr std::size_t kMaxKeys = 100;

struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

BnPtr ToBignum(std::string_view big_endian) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                         static_cast<int>(big_endian.size()), nullptr));
}

EvpPkeyPtr FromParams(const char* type, const OSSL_PARAM* params) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(params)) !=
      1) {
    return nullptr;
  }
  return EvpPkeyPtr(key);
}

// EC P-256 from the 32-byte affine coordinates; nullptr unless the point is on the curve.
EvpPkeyPtr P256PublicKey(std::string_view x, std::string_view y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04";
  point.append(x).append(y);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return nullptr;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return nullptr;
  EvpPkeyPtr key = FromParams("EC", params.get());
  if (!key) return nullptr;
  // An invalid-curve point would leak nothing here (we only verify), but refusing it keeps a
  // malformed JWKS from being half-trusted.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

EvpPkeyPtr Ed25519PublicKey(std::string_view x) {
  if (x.size() != 32) return nullptr;
  return EvpPkeyPtr(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x.data()), x.size()));
}

const json::string* StringMember(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value ? value->if_string() : nullptr;
}

// A base64url member decoded strictly, or nullopt when missing, not a string or not canonical.
std::optional<std::string> BytesMember(const json::object& object, std::string_view name) {
  const json::string* text = StringMember(object, name);
  if (!text) return std::nullopt;
  return core::Base64UrlDecode(std::string_view(text->data(), text->size()));
}

bool HasPrivateParts(const json::object& key) {
  for (std::string_view name : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    if (key.contains(name)) return true;
  }
  return false;
}

bool UsableForVerification(const json::object& key) {
  if (const json::value* use = key.if_contains("use")) {
    if (!use->is_string() || use->get_string() != "sig") return false;
  }
  if (const json::value* ops = key.if_contains("key_ops")) {
    if (!ops->is_array()) return false;
    bool verify = false;
    for (const json::value& op : ops->get_array()) verify |= op.is_string() && op == "verify";
    if (!verify) return false;
  }
  return !HasPrivateParts(key);
}

// Builds the key and its pinned algorithm; nullopt for anything this verifier cannot use.
std::optional<Jwk> ToJwk(const json::object& key) {
  if (!UsableForVerification(key)) return std::nullopt;
  const json::string* kty = StringMember(key, "kty");
  if (!kty) return std::nullopt;
  Jwk jwk;
  EvpPkeyPtr pkey;
  if (*kty == "RSA") {
    jwk.alg = "RS256";
    const auto n = BytesMember(key, "n");
    const auto e = BytesMember(key, "e");
    if (!n || !e) return std::nullopt;
    const std::size_t bits = BitLength(*n);
    if (bits < kMinRsaBits || bits > kMaxRsaBits) return std::nullopt;
    pkey = RsaPublicKeyFromComponents(*n, *e);
  } else if (*kty == "EC") {
    jwk.alg = "ES256";
    const json::string* crv = StringMember(key, "crv");
    const auto x = BytesMember(key, "x");
    const auto y = BytesMember(key, "y");
    if (!crv || *crv != "P-256" || !x || !y) return std::nullopt;
    pkey = P256PublicKey(*x, *y);
  } else if (*kty == "OKP") {
    jwk.alg = "EdDSA";
    const json::string* crv = StringMember(key, "crv");
    const auto x = BytesMember(key, "x");
    if (!crv || *crv != "Ed25519" || !x) return std::nullopt;
    pkey = Ed25519PublicKey(*x);
  } else {
    return std::nullopt;
  }
  if (!pkey) return std::nullopt;
  // A key that names an algorithm is pinned to it; one that names another (RS384, PS256, …) is
  // not one we verify with.
  if (const json::value* alg = key.if_contains("alg")) {
    if (!alg->is_string() || alg->get_string() != jwk.alg) return std::nullopt;
  }
  if (const json::value* kid = key.if_contains("kid")) {
    if (!kid->is_string()) return std::nullopt;
    jwk.kid = std::string(kid->get_string());
  }
  jwk.key = std::make_shared<const PublicKey>(std::move(pkey));
  return jwk;
}

}  // namespace

std::size_t BitLength(std::string_view big_endian) {
  std::size_t i = 0;
  while (i < big_endian.size() && big_endian[i] == '\0') ++i;
  if (i == big_endian.size()) return 0;
  unsigned top = static_cast<unsigned char>(big_endian[i]);
  std::size_t bits = (big_endian.size() - i - 1) * 8;
  while (top != 0) {
    ++bits;
    top >>= 1;
  }
  return bits;
}

EvpPkeyPtr RsaPublicKeyFromComponents(std::string_view modulus, std::string_view exponent) {
  // Public exponents are small odd numbers (3, 65537); anything else is a malformed key.
  const std::size_t exponent_bits = BitLength(exponent);
  if (exponent_bits < 2 || exponent_bits > 64 || (exponent.back() & 1) == 0) return nullptr;
  BnPtr n = ToBignum(modulus);
  BnPtr e = ToBignum(exponent);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return nullptr;
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return nullptr;
  return FromParams("RSA", params.get());
}

core::Result<std::vector<Jwk>> ParseJwks(std::string_view text) {
  auto parsed = core::ParseJson(text);
  if (!parsed.ok()) return InvalidToken("JWKS is not valid JSON");
  const json::object* document = parsed->if_object();
  const json::value* keys = document ? document->if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) return InvalidToken("JWKS has no keys array");
  std::vector<Jwk> out;
  for (const json::value& entry : keys->get_array()) {
    if (out.size() == kMaxKeys) break;
    if (!entry.is_object()) continue;
    if (auto jwk = ToJwk(entry.get_object())) out.push_back(std::move(*jwk));
  }
  return out;
}

}  // namespace zebros::auth
