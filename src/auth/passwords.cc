#include "auth/passwords.h"

#include <sodium.h>

#include <stdexcept>

#include "core/crypto.h"

namespace zebros::auth {
namespace {

static_assert(PasswordCost{}.opslimit >= crypto_pwhash_OPSLIMIT_MIN);
static_assert(PasswordCost{}.memlimit >= crypto_pwhash_MEMLIMIT_MIN);

// Holds one of the hasher's slots for the life of a hash or verification.
template <typename Semaphore>
class Slot {
 public:
  explicit Slot(Semaphore& slots) : slots_(slots) { slots_.acquire(); }
  ~Slot() { slots_.release(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  Semaphore& slots_;
};

}  // namespace

PasswordHasher::PasswordHasher(PasswordCost cost) : cost_(cost) {
  // Idempotent and thread-safe: 0 on the first call, 1 afterwards, -1 on failure.
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  // The dummy has the same cost as real hashes, so verifying against it takes as long.
  auto dummy = Hash(core::Base64UrlEncode(core::RandomBytes(24)));
  if (!dummy.ok()) throw std::runtime_error("could not hash the dummy password");
  dummy_hash_ = std::move(dummy).value();
}

core::Result<std::string> PasswordHasher::Hash(std::string_view password) {
  if (password.size() < kMinLength || password.size() > kMaxLength) {
    return core::MakeError(core::Code::kValidation, "weak_password",
                           "A password needs between 8 and 1024 characters.");
  }
  char out[crypto_pwhash_STRBYTES];
  int rc;
  {
    Slot slot(slots_);
    rc = crypto_pwhash_str(out, password.data(), password.size(), cost_.opslimit, cost_.memlimit);
  }
  if (rc != 0) {
    return core::MakeError(core::Code::kUnavailable, "unavailable",
                           "The password could not be hashed; try again.",
                           "crypto_pwhash_str failed (out of memory?)");
  }
  return std::string(out);
}

bool PasswordHasher::Verify(const std::string& encoded, std::string_view password) {
  if (password.size() > kMaxLength || encoded.size() >= crypto_pwhash_STRBYTES) {
    return VerifyDummy(password.substr(0, kMaxLength));
  }
  Slot slot(slots_);
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(const std::string& encoded) const {
  // 1: another cost; -1: not a hash of this algorithm (never the case after a Verify).
  return crypto_pwhash_str_needs_rehash(encoded.c_str(), cost_.opslimit, cost_.memlimit) != 0;
}

bool PasswordHasher::VerifyDummy(std::string_view password) {
  Slot slot(slots_);
  // The outcome does not matter: nobody knows the dummy's random password.
  [[maybe_unused]] const int rc =
      crypto_pwhash_str_verify(dummy_hash_.c_str(), password.data(), password.size());
  return false;
}

}  // namespace zebros::auth
