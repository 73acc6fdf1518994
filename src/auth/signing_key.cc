#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/json/value.hpp>
#include <stdexcept>

#include "auth/jwt.h"
#include "auth/jwt_internal.h"
#include "core/crypto.h"
#include "core/json.h"

namespace zebros::auth {
namespace json = boost::json;
namespace {

constexpr int kGeneratedRsaBits = 2048;
constexpr int kMinRsaBits = 2048;

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// A BIGNUM parameter of `key` as big-endian bytes; empty when absent.
std::string BigEndianParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return {};
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

core::Error InvalidSigningKey(std::string detail) {
  return core::MakeError(core::Code::kInternal, "invalid_signing_key",
                         "The token signing key is unusable.", std::move(detail));
}

}  // namespace

struct SigningKey::State {
  EvpPkeyPtr private_key;
  std::string kid;
  Jwk public_jwk;
  json::object public_jwk_json;
  std::string encoded_header;  // base64url of the fixed JWS header
};

core::Result<SigningKey> SigningKey::Generate(std::string kid) {
  EvpPkeyPtr key(EVP_RSA_gen(kGeneratedRsaBits));
  if (!key) return InvalidSigningKey("RSA key generation failed");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return InvalidSigningKey("could not serialise the generated key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return FromPem(std::string_view(data, static_cast<std::size_t>(size)), std::move(kid));
}

core::Result<SigningKey> SigningKey::FromPem(std::string_view private_pem, std::string kid) {
  BioPtr bio(BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())));
  if (!bio) return InvalidSigningKey("out of memory");
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return InvalidSigningKey("not a PEM private key");
  if (EVP_PKEY_is_a(key.get(), "RSA") != 1) return InvalidSigningKey("not an RSA key");
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) return InvalidSigningKey("RSA key too small");

  auto state = std::make_shared<State>();
  const std::string n = BigEndianParam(key.get(), OSSL_PKEY_PARAM_RSA_N);
  const std::string e = BigEndianParam(key.get(), OSSL_PKEY_PARAM_RSA_E);
  EvpPkeyPtr public_key = RsaPublicKeyFromComponents(n, e);
  if (!public_key) return InvalidSigningKey("could not derive the public key");
  state->public_jwk = Jwk{kid, "RS256", std::make_shared<const PublicKey>(std::move(public_key))};
  state->public_jwk_json = json::object{{"kty", "RSA"},
                                        {"kid", kid},
                                        {"use", "sig"},
                                        {"alg", "RS256"},
                                        {"n", core::Base64UrlEncode(n)},
                                        {"e", core::Base64UrlEncode(e)}};
  state->encoded_header = core::Base64UrlEncode(
      core::WriteJson(json::object{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid}}));
  state->kid = std::move(kid);
  state->private_key = std::move(key);
  return SigningKey(std::move(state));
}

std::string SigningKey::PrivatePem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), state_->private_key.get(), nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    throw std::runtime_error("PEM_write_bio_PrivateKey failed");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Jwk SigningKey::PublicJwk() const { return state_->public_jwk; }

json::object SigningKey::PublicJwkJson() const { return state_->public_jwk_json; }

const std::string& SigningKey::kid() const { return state_->kid; }

std::string SigningKey::Sign(const json::object& claims) const {
  std::string token = state_->encoded_header;
  token.push_back('.');
  token += core::Base64UrlEncode(core::WriteJson(claims));
  // Signing with a loaded key fails only on memory exhaustion: a broken invariant, not an
  // expected failure, hence the exception.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t length = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, state_->private_key.get()) !=
          1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(token.data()), token.size()) != 1) {
    throw std::runtime_error("EVP_DigestSign failed");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(token.data()), token.size()) != 1) {
    throw std::runtime_error("EVP_DigestSign failed");
  }
  signature.resize(length);
  token.push_back('.');
  token += core::Base64UrlEncode(signature);
  return token;
}

}  // namespace zebros::auth
