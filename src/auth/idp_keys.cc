#include "auth/idp_keys.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
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

core::Status EnsureDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return KeysUnavailable("cannot create " + dir + ": " + std::strerror(errno));
  }
  return core::OkStatus();
}

// Whether the key at `index` of `kids` (newest first) must still verify: it is among the newest
// kPublishedKeys, or the key that replaced it is younger than kRetention, measured against the
// newest key (created by the latest rotation, so no later than now).
bool StillPublished(const std::vector<std::string>& kids, std::size_t index) {
  if (index < KeyRing::kPublishedKeys) return true;
  return core::IdTime(kids[index - 1], "idk") > core::IdTime(kids[0], "idk") - KeyRing::kRetention;
}

// The kids in `dir`, newest first.
core::Result<std::vector<std::string>> ListKids(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return KeysUnavailable("cannot read " + dir + ": " + std::strerror(errno));
  std::vector<std::string> kids;
  while (const dirent* entry = ::readdir(handle)) {
    std::string_view name = entry->d_name;
    if (name.size() <= kSuffix.size() || !name.ends_with(kSuffix)) continue;
    name.remove_suffix(kSuffix.size());
    if (core::IsWellFormedId(name, "idk")) kids.emplace_back(name);
  }
  ::closedir(handle);
  std::sort(kids.rbegin(), kids.rend());
  return kids;
}

// Writes the key beside the directory and renames it in, so the directory changes once per new
// key: a server that compares the directory's mtime (coarse, a few milliseconds) cannot load a
// half-written state and then miss the finished one within the same tick.
core::Status WriteKeyFile(const std::string& dir, const SigningKey& key) {
  const std::string path = dir + "/" + key.kid() + std::string(kSuffix);
  const std::string temp = dir + "." + key.kid() + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return KeysUnavailable("cannot write " + temp + ": " + std::strerror(errno));
  const std::string pem = key.PrivatePem();
  const bool written =
      ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return KeysUnavailable("cannot store " + path);
  }
  // Make the rename itself durable.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return core::OkStatus();
}

core::Result<SigningKey> ReadKeyFile(const std::string& dir, const std::string& kid) {
  std::ifstream file(dir + "/" + kid + std::string(kSuffix), std::ios::binary);
  if (!file) return KeysUnavailable("cannot open key " + kid);
  std::ostringstream pem;
  pem << file.rdbuf();
  return SigningKey::FromPem(pem.str(), kid);
}

core::Result<std::string> AddKey(const std::string& dir, core::IdGenerator& ids) {
  auto key = SigningKey::Generate(ids.Next("idk"));
  if (!key.ok()) return std::move(key).error();
  auto status = WriteKeyFile(dir, *key);
  if (!status.ok()) return std::move(status).error();
  return key->kid();
}

}  // namespace

core::Result<std::unique_ptr<KeyRing>> KeyRing::Open(std::string dir, core::IdGenerator& ids) {
  auto status = EnsureDir(dir);
  if (!status.ok()) return std::move(status).error();
  auto kids = ListKids(dir);
  if (!kids.ok()) return std::move(kids).error();
  if (kids->empty()) {
    auto kid = AddKey(dir, ids);
    if (!kid.ok()) return std::move(kid).error();
    core::Log(core::LogLevel::kInfo, "idp signing key created", {{"kid", *kid}});
  }
  std::unique_ptr<KeyRing> ring(new KeyRing(std::move(dir)));
  std::lock_guard lock(ring->mutex_);
  status = ring->Refresh();
  if (!status.ok()) return std::move(status).error();
  return ring;
}

core::Result<std::string> KeyRing::Rotate(const std::string& dir, core::IdGenerator& ids) {
  auto status = EnsureDir(dir);
  if (!status.ok()) return std::move(status).error();
  auto kid = AddKey(dir, ids);
  if (!kid.ok()) return kid;
  auto kids = ListKids(dir);
  if (!kids.ok()) return std::move(kids).error();
  for (std::size_t i = 0; i < kids->size(); ++i) {
    if (!StillPublished(*kids, i))
      ::unlink((dir + "/" + (*kids)[i] + std::string(kSuffix)).c_str());
  }
  return kid;
}

core::Status KeyRing::Refresh() {
  struct stat info {};
  if (::stat(dir_.c_str(), &info) != 0) {
    // Keep serving with the keys already loaded; say so once per call.
    if (!keys_.empty()) return core::OkStatus();
    return KeysUnavailable("cannot stat " + dir_ + ": " + std::strerror(errno));
  }
  if (!keys_.empty() && info.st_mtim.tv_sec == loaded_mtime_.tv_sec &&
      info.st_mtim.tv_nsec == loaded_mtime_.tv_nsec) {
    return core::OkStatus();
  }
  auto kids = ListKids(dir_);
  if (!kids.ok()) return keys_.empty() ? std::move(kids).error() : core::Status(core::OkStatus());
  std::vector<SigningKey> keys;
  for (std::size_t i = 0; i < kids->size() && StillPublished(*kids, i); ++i) {
    const std::string& kid = (*kids)[i];
    auto key = ReadKeyFile(dir_, kid);
    if (!key.ok()) {
      core::Log(core::LogLevel::kWarn, "idp signing key unreadable", {{"kid", kid}});
      continue;
    }
    keys.push_back(std::move(key).value());
  }
  if (keys.empty()) {
    if (!keys_.empty()) return core::OkStatus();
    return KeysUnavailable("no usable key in " + dir_);
  }
  keys_ = std::move(keys);
  loaded_mtime_ = info.st_mtim;
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
