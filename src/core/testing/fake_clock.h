#pragma once

#include <atomic>

#include "core/clock.h"

namespace zebros::core::testing {

// A clock tests move by hand (for unit tests only). Starts at 2026-01-01T00:00:00Z unless told
// otherwise.
class FakeClock final : public Clock {
 public:
  static constexpr EpochMillis kDefaultStart = 1767225600000;

  explicit FakeClock(EpochMillis start = kDefaultStart) : now_(start) {}

  EpochMillis NowMillis() const override { return now_.load(); }
  void Advance(EpochMillis millis) { now_ += millis; }

 private:
  std::atomic<EpochMillis> now_;
};

}  // namespace zebros::core::testing
