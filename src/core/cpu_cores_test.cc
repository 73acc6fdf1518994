#include "core/cpu_cores.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

namespace zebros::core {
namespace {

TEST(CoresFromCpuMaxTest, RoundsAQuotaUpToWholeCores) {
  EXPECT_EQ(CoresFromCpuMax("100000 100000\n"), 1);
  EXPECT_EQ(CoresFromCpuMax("150000 100000\n"), 2);
  EXPECT_EQ(CoresFromCpuMax("50000 100000"), 1);
  EXPECT_EQ(CoresFromCpuMax("400000 100000"), 4);
  EXPECT_EQ(CoresFromCpuMax("200000 50000"), 4);
}

TEST(CoresFromCpuMaxTest, NoLimitOrNotACpuMaxLineIsNothing) {
  EXPECT_EQ(CoresFromCpuMax("max 100000\n"), std::nullopt);
  EXPECT_EQ(CoresFromCpuMax(""), std::nullopt);
  EXPECT_EQ(CoresFromCpuMax("100000"), std::nullopt);
  EXPECT_EQ(CoresFromCpuMax("0 100000"), std::nullopt);
  EXPECT_EQ(CoresFromCpuMax("-5 100000"), std::nullopt);
  EXPECT_EQ(CoresFromCpuMax("100000 0"), std::nullopt);
  EXPECT_EQ(CoresFromCpuMax("1e5 100000"), std::nullopt);
  EXPECT_EQ(CoresFromCpuMax("100000 100000 7"), std::nullopt);
}

// The affinity mask is per thread: a thread pinned to one CPU sees one core, as a process started
// with `taskset -c 0` does.
TEST(UsableCoresTest, CountsOnlyTheCpusTheAffinityMaskAllows) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  const int everything = UsableCores();
  EXPECT_GE(everything, 1);
  EXPECT_LE(everything, CPU_COUNT(&allowed));
  if (CPU_COUNT(&allowed) < 2) GTEST_SKIP() << "one CPU allowed: nothing to narrow";

  int first = 0;
  while (!CPU_ISSET(first, &allowed)) ++first;
  int pinned = 0;
  std::thread([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    if (sched_setaffinity(0, sizeof(one), &one) == 0) pinned = UsableCores();
  }).join();
  EXPECT_EQ(pinned, 1);
}

}  // namespace
}  // namespace zebros::core
