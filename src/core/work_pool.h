#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/result.h"

namespace zebros::core {

// A few threads for work that blocks (password hashing, waiting for a durable write), so I/O
// threads never do. The queue is bounded: Post refuses work when it is full. Thread-safe.
class WorkPool {
 public:
  WorkPool(std::size_t threads, std::size_t max_queued);
  ~WorkPool();  // Stop()s
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues `work`; false (and `work` dropped) when the queue is full or the pool stopped.
  bool Post(std::function<void()> work);
  // What to tell whoever's work Post refused: kUnavailable "unavailable".
  static Error BusyError();
  // Runs what is queued, then joins the threads. Idempotent.
  void Stop();

 private:
  void Loop();

  const std::size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace zebros::core
