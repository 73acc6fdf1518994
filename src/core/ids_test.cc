#include "core/ids.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace zebros::core {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// A clock that says what the test tells it to.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(EpochMillis now) : now_(now) {}
  EpochMillis NowMillis() const override { return now_.load(); }
  void Set(EpochMillis now) { now_.store(now); }

 private:
  std::atomic<EpochMillis> now_;
};

// The generator's monotonic state is process-wide, so a test that checks the time an id carries
// needs a millisecond later than any id issued before it, in whatever order tests run: each test
// takes a fresh one, far beyond the real clock (2100 and on).
EpochMillis FreshMillis() {
  static std::atomic<EpochMillis> next{4102444800000};
  return next.fetch_add(1000000);
}

// The 48-bit time the first 10 base32 digits of an id's body carry.

TEST(IdGeneratorTest, HasPrefixUnderscoreAnd26CrockfordDigits) {
  FixedClock clock(FreshMillis());
  IdGenerator ids(clock);
  for (std::string_view prefix : {"con", "acc", "lead", "ten", "x"}) {
    const std::string id = ids.Next(prefix);
    ASSERT_EQ(id.size(), prefix.size() + 1 + 26) << id;
    EXPECT_EQ(id.substr(0, prefix.size()), prefix);
    EXPECT_EQ(id[prefix.size()], '_');
    for (char c : id.substr(prefix.size() + 1)) {
      EXPECT_NE(std::strchr(kCrockford, c), nullptr) << "'" << c << "' in " << id;
    }
    EXPECT_TRUE(IsWellFormedId(id, prefix)) << id;
  }
}

TEST(IdGeneratorTest, LeadingDigitsCarryTheClock) {
  const EpochMillis start = FreshMillis();
  FixedClock clock(start);
  IdGenerator ids(clock);
  const std::string id = ids.Next("con");
  EXPECT_EQ(IdTime(id, "con"), start);
  clock.Set(start + 1000);
  const std::string later = ids.Next("con");
  EXPECT_EQ(IdTime(later, "con"), start + 1000);
  EXPECT_LT(id, later);
}

TEST(IdGeneratorTest, IdsInOneMillisecondStrictlyIncrease) {
  const EpochMillis now = FreshMillis();
  FixedClock clock(now);
  IdGenerator ids(clock);
  std::string previous = ids.Next("con");
  std::set<std::string> seen{previous};
  for (int i = 1; i < 10000; ++i) {
    std::string id = ids.Next("con");
    ASSERT_LT(previous, id) << "id " << i;
    EXPECT_EQ(IdTime(id, "con"), now);
    seen.insert(id);
    previous = std::move(id);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(IdGeneratorTest, ClockGoingBackwardsStillIncreases) {
  const EpochMillis now = FreshMillis();
  FixedClock clock(now);
  IdGenerator ids(clock);
  const std::string first = ids.Next("con");
  clock.Set(now - 1000);  // NTP step back
  const std::string second = ids.Next("con");
  EXPECT_LT(first, second);
  EXPECT_EQ(IdTime(second, "con"), now);
}

TEST(IdGeneratorTest, TwoGeneratorsNeverCollide) {
  FixedClock clock(FreshMillis());
  IdGenerator a(clock);
  IdGenerator b(clock);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(seen.insert(a.Next("con")).second);
    EXPECT_TRUE(seen.insert(b.Next("con")).second);
  }
}

TEST(IdGeneratorTest, UniqueAcrossThreads) {
  const EpochMillis start = FreshMillis();
  FixedClock clock(start);
  IdGenerator ids(clock);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::vector<std::vector<std::string>> issued(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Half the threads move the clock on, so fresh and incremented ids interleave.
        if (t % 2 == 0 && i % 100 == 0) clock.Set(start + i);
        issued[t].push_back(ids.Next("acc"));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& list : issued) {
    // Each thread sees its own ids in increasing order.
    for (std::size_t i = 1; i < list.size(); ++i) EXPECT_LT(list[i - 1], list[i]);
    all.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(IsWellFormedIdTest, AcceptsCanonicalShape) {
  EXPECT_TRUE(IsWellFormedId("con_01HZY8X6P0V3Q7K9M2N4R5T6W8", "con"));
  EXPECT_TRUE(IsWellFormedId("con_00000000000000000000000000", "con"));
  EXPECT_TRUE(IsWellFormedId("con_7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "con"));
}

TEST(IsWellFormedIdTest, RejectsWrongPrefix) {
  const std::string body = "01HZY8X6P0V3Q7K9M2N4R5T6W8";
  EXPECT_FALSE(IsWellFormedId("acc_" + body, "con"));
  EXPECT_FALSE(IsWellFormedId("CON_" + body, "con"));
  EXPECT_FALSE(IsWellFormedId("co_" + body, "con"));
  EXPECT_FALSE(IsWellFormedId("conn" + body, "con"));  // same length, no underscore
  EXPECT_FALSE(IsWellFormedId("con-" + body, "con"));
  EXPECT_FALSE(IsWellFormedId(body, "con"));
  EXPECT_FALSE(IsWellFormedId("lead_" + body, "con"));
}

TEST(IsWellFormedIdTest, RejectsWrongLength) {
  EXPECT_FALSE(IsWellFormedId("", "con"));
  EXPECT_FALSE(IsWellFormedId("con_", "con"));
  EXPECT_FALSE(IsWellFormedId("con_01HZY8X6P0V3Q7K9M2N4R5T6W", "con"));    // 25
  EXPECT_FALSE(IsWellFormedId("con_01HZY8X6P0V3Q7K9M2N4R5T6W80", "con"));  // 27
}

TEST(IsWellFormedIdTest, RejectsCharactersOutsideTheAlphabet) {
  const std::string good = "con_01HZY8X6P0V3Q7K9M2N4R5T6W8";
  // I, L, O and U are not Crockford digits; lower case is not canonical; nor is punctuation.
  for (char c : {'I', 'L', 'O', 'U', 'a', 'z', '-', '_', ' ', '\0', '/', '%'}) {
    std::string id = good;
    id[10] = c;
    EXPECT_FALSE(IsWellFormedId(id, "con")) << "char code " << static_cast<int>(c);
  }
  std::string non_ascii = good;
  non_ascii[12] = static_cast<char>(0xC3);
  EXPECT_FALSE(IsWellFormedId(non_ascii, "con"));
}

TEST(IsWellFormedIdTest, RejectsMoreThan128Bits) {
  // The first digit carries only 3 bits, so it is at most '7'.
  EXPECT_FALSE(IsWellFormedId("con_80000000000000000000000000", "con"));
  EXPECT_FALSE(IsWellFormedId("con_ZZZZZZZZZZZZZZZZZZZZZZZZZZ", "con"));
}

}  // namespace
}  // namespace zebros::core
