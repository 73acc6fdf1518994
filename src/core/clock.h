#pragma once

#include <chrono>
#include <cstdint>

namespace zebros::core {

// Milliseconds since the Unix epoch, UTC.
using EpochMillis = std::int64_t;

// Source of wall-clock time, injected so tests and domain logic never read the real clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual EpochMillis NowMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  EpochMillis NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace zebros::core
