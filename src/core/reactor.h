#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace zebros::core {

// The server's event loop as lower layers may use it: a component that talks to a service over
// a socket of its own (the PostgreSQL read pipeline) waits for that socket here instead of
// blocking a thread. net/ implements it over its I/O threads (net/io_reactor.h); code below net
// sees only this interface. Callbacks run on one of the loop's threads and must not block.
// Thread-safe.
class Reactor {
 public:
  // Readiness of one file descriptor the caller owns (the watch never closes it). Not
  // thread-safe: the owner serialises its calls (the callbacks may run on any loop thread).
  class Watch {
   public:
    virtual ~Watch() = default;  // cancels a pending wait (its callback gets false, or none
                                 // when the loop has stopped)
    // Calls `ready(true)` once when the descriptor is readable (at once when it is readable
    // already) or has an error or hang-up pending; `ready(false)` when the wait was cancelled or
    // failed. One wait at a time.
    virtual void AwaitReadable(std::function<void(bool readable)> ready) = 0;
  };

  virtual ~Reactor() = default;
  // Calls `fn` on a loop thread after the handlers that are ready now.
  virtual void Post(std::function<void()> fn) = 0;
  // Calls `fn` on a loop thread once `delay` has passed (never when the loop stops first).
  virtual void After(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // A watch over `fd`. Destroy it before the descriptor is closed and before the reactor.
  virtual std::unique_ptr<Watch> WatchDescriptor(int fd) = 0;
};

}  // namespace zebros::core
