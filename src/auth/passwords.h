#pragma once

#include <cstddef>
#include <semaphore>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zebros::auth {

// The cost of one argon2id hash. The defaults are libsodium's INTERACTIVE limits (2 passes over
// 64 MiB, roughly 50-100 ms on one core): the figure libsodium and OWASP give for interactive
// logins — dear enough that a stolen database is slow to attack, cheap enough that a login
// stays quick. A hash records its own cost, so raising these later still verifies old hashes.
struct PasswordCost {
  unsigned long long opslimit = 2;   // crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t memlimit = 64u << 20;  // crypto_pwhash_MEMLIMIT_INTERACTIVE
  // libsodium's minimum: for unit tests only.
  static PasswordCost Minimal() { return {1, 8192}; }
};

// Hashes and verifies passwords with argon2id (libsodium crypto_pwhash_str). At most
// `max_concurrent` hashes run at once, so a burst of logins cannot take memlimit × N bytes.
// Thread-safe. Construction initialises libsodium and throws if it cannot (start-up failure).
class PasswordHasher {
 public:
  static constexpr std::size_t kMinLength = 8;
  static constexpr std::size_t kMaxLength = 1024;

  explicit PasswordHasher(PasswordCost cost = {});

  // The encoded hash ("$argon2id$v=19$m=…"). kValidation (`weak_password`) when the password
  // is shorter than kMinLength or longer than kMaxLength bytes.
  core::Result<std::string> Hash(std::string_view password);
  // True when `password` matches `encoded`; false for a mismatch or a malformed hash.
  bool Verify(const std::string& encoded, std::string_view password);
  // Spends the time of a Verify and returns false: for unknown users and users without a
  // password, so response times do not tell which usernames exist.
  bool VerifyDummy(std::string_view password);

 private:
  static constexpr std::ptrdiff_t kMaxConcurrent = 2;

  PasswordCost cost_;
  std::string dummy_hash_;
  std::counting_semaphore<kMaxConcurrent> slots_{kMaxConcurrent};
};

}  // namespace zebros::auth
