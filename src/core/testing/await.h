#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>

namespace zebros::core::testing {

// Waits for an asynchronous callback's result, failing loudly instead of hanging forever (for unit
// tests only).
template <typename T>
T Await(std::future<T>& future) {
  if (future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ADD_FAILURE() << "storage callback never ran";
    std::abort();  // the callback still references the promise
  }
  return future.get();
}

}  // namespace zebros::core::testing
