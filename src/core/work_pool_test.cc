#include "core/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace zebros::core {
namespace {

TEST(WorkPoolTest, RunsPostedWorkOnItsThreads) {
  WorkPool pool(2, 100);
  std::atomic<int> done{0};
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.Post([&done] { ++done; }));
  pool.Stop();
  EXPECT_EQ(done.load(), 50);
}

TEST(WorkPoolTest, RefusesWorkWhenFullOrStopped) {
  WorkPool pool(1, 1);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.Post([gate, &started] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the one thread is busy; the queue is empty
  EXPECT_TRUE(pool.Post([] {}));
  EXPECT_FALSE(pool.Post([] {}));
  release.set_value();
  pool.Stop();
  EXPECT_FALSE(pool.Post([] {}));
}

}  // namespace
}  // namespace zebros::core
