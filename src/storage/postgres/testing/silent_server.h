#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace zebros::storage::postgres::testing {

// A loopback server that takes connections and never answers: what a client sees of a database
// server that hangs, or of one cut off by the network after the handshake. libpq waits on it
// for its connect timeout. Counts the connections it took.
class SilentServer {
 public:
  SilentServer() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        listen(listener_, 64) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;  // port() stays 0: the test fails on it
    }
    port_ = ntohs(address.sin_port);
    accepter_ = std::thread([this] {
      while (!stopping_) {
        pollfd waiting{listener_, POLLIN, 0};
        if (poll(&waiting, 1, 50) <= 0) continue;
        const int taken = accept(listener_, nullptr, nullptr);
        if (taken < 0) continue;
        taken_.push_back(taken);  // held open, never read from or written to
        ++accepted_;
      }
    });
  }
  ~SilentServer() {
    stopping_ = true;
    if (accepter_.joinable()) accepter_.join();
    for (int taken : taken_) close(taken);
    if (listener_ >= 0) close(listener_);
  }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;

  int port() const { return port_; }
  std::string url() const {
    return "postgres://zebros@127.0.0.1:" + std::to_string(port_) + "/zebros";
  }
  // Connections taken so far.
  int accepted() const { return accepted_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> taken_;  // the accepter's until it is joined
  std::thread accepter_;
};

}  // namespace zebros::storage::postgres::testing
