#include "app/serve_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zebros::app {

ServeLock::ServeLock(const std::string& data_dir) {
  const std::string path = data_dir + "/serve.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error_ = "cannot open " + path + ": " + std::strerror(errno);
    return;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error_ = errno == EWOULDBLOCK
                 ? "another `zebros serve` is running on " + data_dir +
                       " (one server per embedded install; run many nodes on PostgreSQL)"
                 : "cannot lock " + path + ": " + std::strerror(errno);
    ::close(fd);
    return;
  }
  fd_ = fd;
}

ServeLock::~ServeLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace zebros::app
