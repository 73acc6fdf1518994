#include "core/time_format.h"

#include <gtest/gtest.h>

#include <string>

namespace zebros::core {
namespace {

// 2026-11-25T15:20:00.123Z: 20782 days after the epoch.
constexpr EpochMillis kSample = 20782LL * 86400000 + 15LL * 3600000 + 20LL * 60000 + 123;

TEST(FormatTimestampTest, WritesUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(kSample), "2026-11-25T15:20:00.123Z");
  EXPECT_EQ(FormatTimestamp(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(FormatTimestamp(86400000 - 1), "1970-01-01T23:59:59.999Z");
}

TEST(FormatTimestampTest, HandlesTimesBeforeTheEpoch) {
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(-86400000), "1969-12-31T00:00:00.000Z");
}

TEST(FormatTimestampTest, LeapDay) {
  // 2024-02-29 is day 19782 after the epoch.
  EXPECT_EQ(FormatTimestamp(19782LL * 86400000), "2024-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(19783LL * 86400000), "2024-03-01T00:00:00.000Z");
}

TEST(FormatTimestampTest, WritesTheYearsTheApiAcceptsAndThoseBeyond) {
  EXPECT_EQ(FormatTimestamp(-62135596800000), "0001-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(253402300799999), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(253402300800000), "10000-01-01T00:00:00.000Z");
}

TEST(AppendTimestampTest, AppendsToWhatIsThere) {
  std::string out = "at ";
  AppendTimestamp(out, kSample);
  AppendTimestamp(out, 0);
  EXPECT_EQ(out, "at 2026-11-25T15:20:00.123Z1970-01-01T00:00:00.000Z");
}

TEST(ParseTimestampTest, RoundTripsWhatFormatWrites) {
  const EpochMillis samples[] = {0,
                                 1,
                                 -1,
                                 kSample,
                                 19782LL * 86400000 + 43200000,
                                 951782400000,     // 2000-02-29
                                 -2208988800000,   // 1900-01-01
                                 253402300799999,  // 9999-12-31T23:59:59.999Z
                                 1700000000000};
  for (EpochMillis ms : samples) {
    const std::string text = FormatTimestamp(ms);
    const auto parsed = ParseTimestamp(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, ms) << text;
  }
  // A sweep across many days, hours and milliseconds.
  for (EpochMillis ms = -5000000000000; ms < 5000000000000; ms += 12345678901) {
    const auto parsed = ParseTimestamp(FormatTimestamp(ms));
    ASSERT_TRUE(parsed.has_value()) << FormatTimestamp(ms);
    EXPECT_EQ(*parsed, ms);
  }
}

TEST(ParseTimestampTest, ConvertsOffsetsToUtc) {
  EXPECT_EQ(ParseTimestamp("2026-11-25T17:20:00.123+02:00"), kSample);
  EXPECT_EQ(ParseTimestamp("2026-11-25T09:50:00.123-05:30"), kSample);
  EXPECT_EQ(ParseTimestamp("2026-11-25T15:20:00.123+00:00"), kSample);
  EXPECT_EQ(ParseTimestamp("2026-11-25T15:20:00.123-00:00"), kSample);
  // An offset that moves the instant across midnight and a year boundary.
  EXPECT_EQ(ParseTimestamp("2027-01-01T01:00:00+02:00"), ParseTimestamp("2026-12-31T23:00:00Z"));
  EXPECT_EQ(ParseTimestamp("2026-12-31T20:00:00-05:00"), ParseTimestamp("2027-01-01T01:00:00Z"));
}

TEST(ParseTimestampTest, AcceptsLowerCaseSeparators) {
  EXPECT_EQ(ParseTimestamp("2026-11-25t15:20:00.123z"), kSample);
}

TEST(ParseTimestampTest, Fractions) {
  const EpochMillis base = kSample - 123;
  EXPECT_EQ(ParseTimestamp("2026-11-25T15:20:00Z"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-25T15:20:00.1Z"), base + 100);
  EXPECT_EQ(ParseTimestamp("2026-11-25T15:20:00.12Z"), base + 120);
  EXPECT_EQ(ParseTimestamp("2026-11-25T15:20:00.123Z"), base + 123);
  // Digits below a millisecond are truncated, not rounded.
  EXPECT_EQ(ParseTimestamp("2026-11-25T15:20:00.123999Z"), base + 123);
  EXPECT_EQ(ParseTimestamp("2026-11-25T15:20:00.999999999Z"), base + 999);
  EXPECT_EQ(ParseTimestamp("1969-12-31T23:59:59.5Z"), -500);
  // A dot needs digits; more than nanoseconds is refused.
  EXPECT_FALSE(ParseTimestamp("2026-11-25T15:20:00.Z"));
  EXPECT_FALSE(ParseTimestamp("2026-11-25T15:20:00.1234567890Z"));
  EXPECT_FALSE(ParseTimestamp("2026-11-25T15:20:00,5Z"));
}

TEST(ParseTimestampTest, LeapDays) {
  EXPECT_TRUE(ParseTimestamp("2024-02-29T12:00:00Z"));
  EXPECT_TRUE(ParseTimestamp("2000-02-29T12:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2023-02-29T12:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("1900-02-29T12:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("2024-02-30T12:00:00Z"));
}

TEST(ParseTimestampTest, LeapSecondCountsAsTheLastSecondOfTheMinute) {
  EXPECT_EQ(ParseTimestamp("2016-12-31T23:59:60Z"), ParseTimestamp("2016-12-31T23:59:59Z"));
  EXPECT_FALSE(ParseTimestamp("2016-12-31T23:59:61Z"));
}

TEST(ParseTimestampTest, RejectsGarbage) {
  const char* bad[] = {
      "",
      "now",
      "2026",
      "2026-11-25",                    // a date is not a date-time
      "2026-11-25T15:20:00",           // no zone
      "2026-11-25T15:20Z",             // no seconds
      "2026-11-25 15:20:00Z",          // space separator
      "2026-11-25X15:20:00Z",          //
      "2026/11/25T15:20:00Z",          //
      "26-11-25T15:20:00Z",            // two-digit year
      "0000-01-01T00:00:00Z",          // no year zero
      "2026-00-25T15:20:00Z",          // month zero
      "2026-13-25T15:20:00Z",          // month 13
      "2026-11-00T15:20:00Z",          // day zero
      "2026-11-31T15:20:00Z",          // November has 30 days
      "2026-11-25T24:00:00Z",          // hour 24
      "2026-11-25T15:60:00Z",          // minute 60
      "2026-11-25T1a:20:00Z",          //
      "2026-11-25T15:20:00ZZ",         // trailing
      "2026-11-25T15:20:00Z ",         // trailing space
      " 2026-11-25T15:20:00Z",         // leading space
      "2026-11-25T15:20:00+0200",      // offset without colon
      "2026-11-25T15:20:00+02",        // short offset
      "2026-11-25T15:20:00+24:00",     // offset hour out of range
      "2026-11-25T15:20:00+02:60",     // offset minute out of range
      "2026-11-25T15:20:00+02:00:00",  // offset with seconds
      "2026-11-25T15:20:00+02:00Z",    //
      "+2026-11-25T15:20:00Z",         //
      "-001-11-25T15:20:00Z",          //
      "2026-11-25T15:20:00.12a4Z",     //
      "2026-1-25T15:20:00Z",           // single-digit month
      "\xEF\xBC\x92"
      "026-11-25T15:20:00Z",  // full-width digit
  };
  for (const char* text : bad) {
    EXPECT_FALSE(ParseTimestamp(text).has_value()) << '"' << text << '"';
  }
  // An embedded NUL must not end the text early.
  EXPECT_FALSE(ParseTimestamp(std::string_view("2026-11-25T15:20:00Z\0junk", 25)));
}

TEST(ParseTimestampTest, EveryAcceptedInstantCanBeWrittenAndReadBack) {
  // An offset can push an instant out of the four-digit years FormatTimestamp writes and
  // ParseTimestamp reads; such input must be refused, not turned into text that cannot be read.
  for (const char* text : {"9999-12-31T23:59:59.999-23:59", "9999-12-31T22:00:00-02:00",
                           "0001-01-01T00:00:00+01:00", "0001-01-01T00:30:00+00:45"}) {
    const auto parsed = ParseTimestamp(text);
    if (!parsed) continue;
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(*parsed)), parsed)
        << text << " was accepted as " << FormatTimestamp(*parsed);
  }
}

TEST(IsValidDateTest, RealCalendarDaysOnly) {
  EXPECT_TRUE(IsValidDate("2024-02-29"));
  EXPECT_TRUE(IsValidDate("2000-02-29"));
  EXPECT_TRUE(IsValidDate("1999-12-31"));
  EXPECT_TRUE(IsValidDate("0001-01-01"));
  EXPECT_FALSE(IsValidDate("2023-02-29"));
  EXPECT_FALSE(IsValidDate("1900-02-29"));
  EXPECT_FALSE(IsValidDate("2024-04-31"));
  EXPECT_FALSE(IsValidDate("2024-13-01"));
  EXPECT_FALSE(IsValidDate("2024-00-10"));
  EXPECT_FALSE(IsValidDate("0000-01-01"));
}

TEST(IsValidDateTest, RejectsOtherShapes) {
  for (const char* text : {"", "2024-2-29", "2024-02-9", "24-02-29", "2024/02/29", "2024-02-29T",
                           "2024-02-29T00:00:00Z", " 2024-02-29", "2024-02-29 ", "2024-0a-29",
                           "20240229", "2024--2-29"}) {
    EXPECT_FALSE(IsValidDate(text)) << '"' << text << '"';
  }
}

}  // namespace
}  // namespace zebros::core
