#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "core/reactor.h"

namespace zebros::net {

// A core::Reactor with an event loop of its own, run by one thread it starts, for tests and
// tools that have no HttpServer (a server hands out its own: HttpServer::reactor()). Callbacks
// run on that thread, one at a time. Thread-safe.
class ReactorThread final : public core::Reactor {
 public:
  // Starts the thread.
  ReactorThread();
  // Stops the loop and joins the thread. Callbacks that have not run by then never run (they
  // are destroyed uncalled). REQUIRES: not called on the loop thread; every Watch made by this
  // reactor is destroyed.
  ~ReactorThread() override;

  ReactorThread(const ReactorThread&) = delete;
  ReactorThread& operator=(const ReactorThread&) = delete;

  void Post(std::function<void()> fn) override;
  void After(std::chrono::milliseconds delay, std::function<void()> fn) override;
  // The descriptor is switched to non-blocking mode by the first wait and left so.
  std::unique_ptr<Watch> WatchDescriptor(int fd) override;

  // True when called on the loop thread.
  bool InLoopThread() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zebros::net
