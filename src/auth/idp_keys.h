#pragma once

#include <sys/stat.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "core/ids.h"
#include "core/result.h"

namespace zebros::auth {

// The built-in identity provider's RS256 signing keys, kept as PEM files in one directory
// (`<data>/idp-keys/<kid>.pem`: files 0600, directory 0700). Kids are time-ordered ULIDs
// (`idk_…`), so the newest file is the signing key. The keys it replaced stay published in the
// JWKS so that tokens they signed verify until they expire: the newest kPublishedKeys always, and
// any older key whose successor is younger than kRetention (an access token's 5 minutes, the
// 60 s of clock skew and a margin), however many rotations came in between.
//
// Rotation happens in another process (`zebros admin rotate-keys`); a running server notices it
// on its next call because every call compares the directory's mtime (one stat) with the one it
// loaded. Thread-safe.
class KeyRing {
 public:
  static constexpr std::size_t kPublishedKeys = 3;
  static constexpr core::EpochMillis kRetention = 10 * 60 * 1000;

  // Loads the directory's keys, creating the directory and a first key when there is none.
  // kInternal (`idp_keys_unavailable`) when the directory cannot be made or read, or holds no
  // usable key.
  static core::Result<std::unique_ptr<KeyRing>> Open(std::string dir, core::IdGenerator& ids);
  // Writes a new key (it signs from now on) and deletes all but the newest kPublishedKeys.
  // Returns the new kid. Safe while a server reads the directory (files appear by rename).
  static core::Result<std::string> Rotate(const std::string& dir, core::IdGenerator& ids);

  // The signing key: the newest.
  core::Result<SigningKey> Current();
  // The published keys, newest first, for verification.
  std::vector<Jwk> PublicKeys();
  // {"keys":[…]} with the published keys, newest first.
  std::string JwksJson();

 private:
  explicit KeyRing(std::string dir) : dir_(std::move(dir)) {}
  // Re-reads the directory when its mtime changed. REQUIRES: mutex_ held.
  core::Status Refresh();

  const std::string dir_;
  std::mutex mutex_;
  std::vector<SigningKey> keys_;     // newest first; guarded by mutex_
  struct timespec loaded_mtime_ {};  // guarded by mutex_
};

}  // namespace zebros::auth
