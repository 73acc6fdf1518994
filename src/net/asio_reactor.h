#pragma once

// Internal to net/: includes Asio, so only .cc files include it.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "core/reactor.h"

namespace zebros::net {

// core::Reactor over an io_context someone else runs (HttpServer's I/O threads, ReactorThread's
// thread). Callbacks run on whichever thread runs the io_context; one that throws is logged and
// dropped so it cannot take an I/O thread down. Pending timers and waits count as work for the
// io_context, so a run() that waits for its work to run out waits for them too. Thread-safe.
//
// A Watch switches its descriptor to non-blocking mode (O_NONBLOCK) on the first wait, as Asio
// does for every descriptor it waits on, and leaves it so. It never closes the descriptor.
class AsioReactor final : public core::Reactor {
 public:
  // `io_context` must outlive the reactor and every Watch made by it.
  explicit AsioReactor(boost::asio::io_context& io_context) : io_context_(io_context) {}

  AsioReactor(const AsioReactor&) = delete;
  AsioReactor& operator=(const AsioReactor&) = delete;

  void Post(std::function<void()> fn) override;
  void After(std::chrono::milliseconds delay, std::function<void()> fn) override;
  // When `fd` cannot be watched (not open, or a kind epoll refuses), every AwaitReadable on the
  // returned watch calls ready(false).
  std::unique_ptr<Watch> WatchDescriptor(int fd) override;

 private:
  boost::asio::io_context& io_context_;
};

}  // namespace zebros::net
