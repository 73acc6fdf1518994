#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "auth/jwt.h"
#include "core/ids.h"
#include "core/result.h"
#include "storage/identity_store.h"

namespace zebros::auth {

// The built-in identity provider's RS256 signing keys, kept in the database
// (storage::IdentityStore, table idp_signing_keys) so that every node of an install signs and
// verifies with the same keys. Kids are time-ordered ULIDs (`idk_…`), so the newest key signs.
// The keys it replaced stay published in the JWKS so that tokens they signed verify until they
// expire: the newest kPublishedKeys always, and any older key whose successor is younger than
// kRetention (an access token's 5 minutes, the 60 s of clock skew and a margin), however many
// rotations came in between.
//
// Rotation happens anywhere (`zebros admin rotate-keys`, another node); every call compares the
// keys' version (one small query) with the one it loaded and reloads on a change. Thread-safe.
class KeyRing {
 public:
  static constexpr std::size_t kPublishedKeys = 3;
  static constexpr core::EpochMillis kRetention = 10 * 60 * 1000;

  // Loads the keys, creating a first one when there is none. Keys an older install kept as files
  // in `legacy_dir` (`<kid>.pem`) are moved into the store first, so their tokens keep verifying.
  // kInternal (`idp_keys_unavailable`) when the store cannot be read or holds no usable key.
  static core::Result<std::unique_ptr<KeyRing>> Open(storage::IdentityStore& store,
                                                     core::IdGenerator& ids,
                                                     const std::string& legacy_dir = {});
  // Stores a new key (it signs from now on) and removes the keys no longer published. Returns
  // the new kid.
  static core::Result<std::string> Rotate(storage::IdentityStore& store, core::IdGenerator& ids);

  // The signing key: the newest.
  core::Result<SigningKey> Current();
  // The published keys, newest first, for verification.
  std::vector<Jwk> PublicKeys();
  // {"keys":[…]} with the published keys, newest first.
  std::string JwksJson();

 private:
  explicit KeyRing(storage::IdentityStore& store) : store_(store) {}
  // Reloads the keys when their version changed. REQUIRES: mutex_ held.
  core::Status Refresh();

  storage::IdentityStore& store_;
  std::mutex mutex_;
  std::vector<SigningKey> keys_;  // newest first; guarded by mutex_
  std::string loaded_version_;    // guarded by mutex_
};

}  // namespace zebros::auth
