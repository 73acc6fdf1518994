#pragma once

#include <string>

namespace zebros::app {

// An exclusive lock on `DATA_DIR/serve.lock`, held by `zebros serve` on SQLite for as long as it
// runs. One server per embedded install: it is the database's only writer, which its caches of
// read results rely on (api/page_cache.h). The admin commands write users, keys and signing keys
// only, and take no lock. Released when the process ends, however it ends.
class ServeLock {
 public:
  // Empty `error` and a held lock, or a message saying why not.
  explicit ServeLock(const std::string& data_dir);
  ~ServeLock();
  ServeLock(const ServeLock&) = delete;
  ServeLock& operator=(const ServeLock&) = delete;

  bool held() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string error_;
};

}  // namespace zebros::app
