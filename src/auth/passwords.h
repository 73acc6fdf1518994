#pragma once

#include <cstddef>
#include <semaphore>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zebros::auth {

// The cost of one argon2id hash. The defaults are OWASP's recommended configuration for argon2id
// (Password Storage Cheat Sheet: 19 MiB, 2 passes, one lane): dear enough that a stolen
// database is slow to attack, cheap enough that a sign-in stays quick. libsodium's INTERACTIVE
// limits (64 MiB, used before) made each sign-in add 64 MiB to the server's memory while it ran:
// on top of full caches over a million contacts, past the 200 MiB the server is held to. A hash
// records its own cost, so hashes made at another cost still verify, and are made again at this
// one on the next successful sign-in (NeedsRehash).
struct PasswordCost {
  unsigned long long opslimit = 2;
  std::size_t memlimit = 19u << 20;
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
  // Whether `encoded` (a hash that verified) was made at another cost than this hasher's.
  bool NeedsRehash(const std::string& encoded) const;
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
