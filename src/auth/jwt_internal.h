#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

// Shared by the JWT translation units only (jwt.cc, jwk.cc, signing_key.cc); it is the one place
// OpenSSL types meet the auth layer, so nothing else includes it.
namespace zebros::auth {

struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

class PublicKey {
 public:
  explicit PublicKey(EvpPkeyPtr key) : key_(std::move(key)) {}
  // OpenSSL 3 allows concurrent operations on one EVP_PKEY as long as nobody modifies it.
  EVP_PKEY* get() const { return key_.get(); }

 private:
  EvpPkeyPtr key_;
};

// An RSA public key from its big-endian modulus and exponent, or nullptr.
EvpPkeyPtr RsaPublicKeyFromComponents(std::string_view modulus, std::string_view exponent);

// The number of significant bits of a big-endian unsigned integer.
std::size_t BitLength(std::string_view big_endian);

}  // namespace zebros::auth
