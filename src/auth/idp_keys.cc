#include "auth/idp_keys.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "core/log.h"

namespace zebros::auth {
namespace {

constexpr std::string_view kSuffix = ".pem";

core::Error KeysUnavailable(std::string detail) {
  return core::MakeError(core::Code::kInternal, "idp_keys_unavailable",
                         "The identity provider's signing keys are unavailable.",
                         std::move(detail));
}

// Whether the key at `index` of `kids` (newest first) must still verify: it is among the newest
// kPublishedKeys, or the key that replaced it is younger than kRetention, measured against the
// newest key (created by the latest rotation, so no later than now).
bool StillPublished(const std::vector<std::string>& kids, std::size_t index) {
  if (index < KeyRing::kPublishedKeys) return true;
  return core::IdTime(kids[index - 1], "idk") > core::IdTime(kids[0], "idk") - KeyRing::kRetention;
}

core::Result<std::string> AddKey(storage::IdentityStore& store, core::IdGenerator& ids) {
  const std::string kid = ids.Next("idk");
  auto key = SigningKey::Generate(kid);
  if (!key.ok()) return std::move(key).error();
  auto status = store.AddSigningKey({kid, key->PrivatePem(), core::IdTime(kid, "idk")});
  if (!status.ok()) return std::move(status).error();
  return kid;
}

// Moves the key files of an install from before keys lived in the database into the store,
// then deletes them (a private key should live in one place).
void ImportLegacyKeys(storage::IdentityStore& store, const std::string& dir) {
  if (dir.empty()) return;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return;  // none: a new install, or imported before
  std::vector<std::string> kids;
  while (const dirent* entry = ::readdir(handle)) {
    std::string_view name = entry->d_name;
    if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) continue;
    name.remove_suffix(kSuffix.size());
    if (core::IsWellFormedId(name, "idk")) kids.emplace_back(name);
  }
  ::closedir(handle);
  for (const auto& kid : kids) {
    const std::string path = dir + "/" + kid + std::string(kSuffix);
    std::ifstream file(path, std::ios::binary);
    std::ostringstream pem;
    pem << file.rdbuf();
    if (!file || !SigningKey::FromPem(pem.str(), kid).ok()) {
      core::Log(core::LogLevel::kWarn, "idp signing key file unreadable; left in place",
                {{"kid", kid}});
      continue;
    }
    if (!store.AddSigningKey({kid, pem.str(), core::IdTime(kid, "idk")}).ok()) return;
    ::unlink(path.c_str());
    core::Log(core::LogLevel::kInfo, "idp signing key moved into the database", {{"kid", kid}});
  }
  ::rmdir(dir.c_str());  // only when empty
}

}  // namespace

core::Result<std::unique_ptr<KeyRing>> KeyRing::Open(storage::IdentityStore& store,
                                                     core::IdGenerator& ids,
                                                     const std::string& legacy_dir) {
  ImportLegacyKeys(store, legacy_dir);
  auto stored = store.ListSigningKeys();
  if (!stored.ok())
    return KeysUnavailable("cannot read the signing keys: " + stored.error().detail);
  if (stored->empty()) {
    auto kid = AddKey(store, ids);
    if (!kid.ok()) return std::move(kid).error();
    core::Log(core::LogLevel::kInfo, "idp signing key created", {{"kid", *kid}});
  }
  std::unique_ptr<KeyRing> ring(new KeyRing(store));
  std::lock_guard lock(ring->mutex_);
  auto status = ring->Refresh();
  if (!status.ok()) return std::move(status).error();
  return ring;
}

core::Result<std::string> KeyRing::Rotate(storage::IdentityStore& store, core::IdGenerator& ids) {
  auto kid = AddKey(store, ids);
  if (!kid.ok()) return kid;
  auto stored = store.ListSigningKeys();
  if (!stored.ok()) return std::move(stored).error();
  std::vector<std::string> kids;
  for (const auto& key : *stored) kids.push_back(key.kid);
  std::vector<std::string> retired;
  for (std::size_t i = 0; i < kids.size(); ++i) {
    if (!StillPublished(kids, i)) retired.push_back(kids[i]);
  }
  auto removed = store.RemoveSigningKeys(retired);
  if (!removed.ok()) return std::move(removed).error();
  return kid;
}

core::Status KeyRing::Refresh() {
  auto version = store_.SigningKeysVersion();
  if (!version.ok()) {
    // Keep serving with the keys already loaded.
    if (!keys_.empty()) return core::OkStatus();
    return KeysUnavailable("cannot read the signing keys: " + version.error().detail);
  }
  if (!keys_.empty() && *version == loaded_version_) return core::OkStatus();
  auto stored = store_.ListSigningKeys();
  if (!stored.ok()) {
    if (!keys_.empty()) return core::OkStatus();
    return KeysUnavailable("cannot read the signing keys: " + stored.error().detail);
  }
  std::vector<std::string> kids;
  for (const auto& key : *stored) kids.push_back(key.kid);
  std::vector<SigningKey> keys;
  for (std::size_t i = 0; i < stored->size() && StillPublished(kids, i); ++i) {
    auto key = SigningKey::FromPem((*stored)[i].pem, (*stored)[i].kid);
    if (!key.ok()) {
      core::Log(core::LogLevel::kWarn, "idp signing key unreadable", {{"kid", kids[i]}});
      continue;
    }
    keys.push_back(std::move(key).value());
  }
  if (keys.empty()) {
    if (!keys_.empty()) return core::OkStatus();
    return KeysUnavailable("no usable signing key in the database");
  }
  keys_ = std::move(keys);
  loaded_version_ = std::move(version).value();
  return core::OkStatus();
}

core::Result<SigningKey> KeyRing::Current() {
  std::lock_guard lock(mutex_);
  auto status = Refresh();
  if (!status.ok()) return std::move(status).error();
  return keys_.front();
}

std::vector<Jwk> KeyRing::PublicKeys() {
  std::lock_guard lock(mutex_);
  (void)Refresh();  // on failure the keys already loaded stay published
  std::vector<Jwk> keys;
  for (const auto& key : keys_) keys.push_back(key.PublicJwk());
  return keys;
}

std::string KeyRing::JwksJson() {
  std::lock_guard lock(mutex_);
  (void)Refresh();
  boost::json::array keys;
  for (const auto& key : keys_) keys.push_back(key.PublicJwkJson());
  return core::WriteJson(boost::json::object{{"keys", std::move(keys)}});
}

}  // namespace zebros::auth
