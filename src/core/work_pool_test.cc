#include "core/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace zebros::core {
namespace {

TEST(WorkPoolTest, RunsEveryTaskBeforeDestruction) {
  std::atomic<int> ran{0};
  {
    WorkPool pool(2, 100);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.Submit([&ran] { ++ran; }));
  }
  EXPECT_EQ(ran.load(), 50);
}

TEST(WorkPoolTest, RefusesWhenTheQueueIsFull) {
  WorkPool pool(1, 1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&started, gate] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only thread is busy now
  EXPECT_TRUE(pool.Submit([] {}));
  EXPECT_FALSE(pool.Submit([] {}));
  release.set_value();
}

}  // namespace
}  // namespace zebros::core
