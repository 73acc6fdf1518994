#include "auth/login_throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/testing/fake_clock.h"

namespace zebros::auth {
namespace {

using core::testing::FakeClock;

TEST(LoginThrottleTest, LocksAfterMaxFailuresInTheWindow) {
  FakeClock clock;
  LoginThrottle throttle(clock);
  for (int i = 0; i < 4; ++i) {
    throttle.RecordFailure("acct");
    clock.Advance(1000);
  }
  EXPECT_EQ(throttle.RetryAfter("acct"), 0);
  throttle.RecordFailure("acct");
  // The first failure was 4 s ago; it leaves the 60 s window in 56 s.
  EXPECT_EQ(throttle.RetryAfter("acct"), 56000);
  EXPECT_EQ(throttle.RetryAfter("other"), 0);
  clock.Advance(55999);
  EXPECT_GT(throttle.RetryAfter("acct"), 0);
  clock.Advance(1);
  EXPECT_EQ(throttle.RetryAfter("acct"), 0);
}

TEST(LoginThrottleTest, SlidesTheWindow) {
  FakeClock clock;
  LoginThrottle throttle(clock);
  for (int i = 0; i < 10; ++i) {
    throttle.RecordFailure("ip");
    clock.Advance(30000);  // never more than 2 failures inside one minute
    EXPECT_EQ(throttle.RetryAfter("ip"), 0) << i;
  }
}

TEST(LoginThrottleTest, ResetForgetsFailures) {
  FakeClock clock;
  LoginThrottle throttle(clock, ThrottleOptions{2, 60000, 100});
  throttle.RecordFailure("acct");
  throttle.RecordFailure("acct");
  EXPECT_GT(throttle.RetryAfter("acct"), 0);
  throttle.Reset("acct");
  EXPECT_EQ(throttle.RetryAfter("acct"), 0);
}

TEST(LoginThrottleTest, StaysBoundedUnderASprayOfKeys) {
  FakeClock clock;
  LoginThrottle throttle(clock, ThrottleOptions{2, 60000, 10});
  throttle.RecordFailure("target");
  throttle.RecordFailure("target");
  clock.Advance(60000);  // the target's failures have left the window
  for (int i = 0; i < 100; ++i) throttle.RecordFailure("spray" + std::to_string(i));
  EXPECT_EQ(throttle.RetryAfter("target"), 0);
}

TEST(LoginThrottleTest, CountsFailuresFromManyThreads) {
  FakeClock clock;
  LoginThrottle throttle(clock, ThrottleOptions{40, 60000, 100});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&throttle] {
      for (int i = 0; i < 10; ++i) throttle.RecordFailure("shared");
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(throttle.RetryAfter("shared"), 60000);
}

}  // namespace
}  // namespace zebros::auth
