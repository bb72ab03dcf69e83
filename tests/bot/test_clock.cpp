// Timestamps written to Redis, logs and the CLI: UTC out, offsets and bare dates in.
#include <gtest/gtest.h>

#include "bot/clock.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;

TimePoint utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return TimePoint{std::chrono::sys_days{std::chrono::year(y) / std::chrono::month(m) /
                                         std::chrono::day(d)}} +
         std::chrono::hours(hh) + std::chrono::minutes(mm) + std::chrono::seconds(ss);
}

TEST(Clock, FormatsUtcWithSecondsPrecision) {
  EXPECT_EQ(format_iso8601(utc(2026, 12, 5, 14, 3, 7)), "2026-12-05T14:03:07Z");
  EXPECT_EQ(format_iso8601(utc(2026, 12, 5, 14, 3, 7) + 999ms), "2026-12-05T14:03:07Z");
  EXPECT_EQ(format_iso8601(TimePoint{}), "1970-01-01T00:00:00Z");
}

TEST(Clock, ParsesUtcOffsetsFractionsAndBareDates) {
  EXPECT_EQ(parse_iso8601("2026-12-05T14:03:07Z"), utc(2026, 12, 5, 14, 3, 7));
  EXPECT_EQ(parse_iso8601("2026-12-05T15:03:07+01:00"), utc(2026, 12, 5, 14, 3, 7));
  EXPECT_EQ(parse_iso8601("2026-12-05T09:33:07-0430"), utc(2026, 12, 5, 14, 3, 7));
  EXPECT_EQ(parse_iso8601("2026-12-06T00:03:07+10"), utc(2026, 12, 5, 14, 3, 7));
  EXPECT_EQ(parse_iso8601("2026-12-05T14:03:07.250Z"), utc(2026, 12, 5, 14, 3, 7) + 250ms);
  EXPECT_EQ(parse_iso8601("2026-12-05T14:03:07.123456789Z"),
            utc(2026, 12, 5, 14, 3, 7) + 123456789ns);
  EXPECT_EQ(parse_iso8601("2026-12-05"), utc(2026, 12, 5));
  EXPECT_EQ(parse_iso8601("2026-12-05T14:03Z"), utc(2026, 12, 5, 14, 3));
  EXPECT_EQ(parse_iso8601("2026-12-05T14:03:07"), utc(2026, 12, 5, 14, 3, 7));  // read as UTC
  // An offset can move the instant to the previous day.
  EXPECT_EQ(parse_iso8601("2026-01-01T01:00:00+02:00"), utc(2025, 12, 31, 23));
}

TEST(Clock, RejectsMalformedTimestamps) {
  for (const char* bad :
       {"", "2026", "2026-12-5", "2026-02-30", "2026-12-05T25:00:00Z", "2026-12-05T14:60:00Z",
        "2026-12-05T14:03:07ZZ", "2026-12-05T14:03:07+1", "2026-12-05T14:03:07.Z",
        "2026-12-05X14:03:07Z", "2026-12-05T14:03:07 trailing", "yesterday", "2026-12-05T"}) {
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
  }
}

TEST(Clock, RoundTrips) {
  auto t = utc(2027, 2, 28, 23, 59, 59);
  EXPECT_EQ(parse_iso8601(format_iso8601(t)), t);
}

TEST(Clock, UnixSecondsAndMillis) {
  auto t = utc(2026, 12, 5, 14, 3, 7) + 456ms;
  EXPECT_EQ(unix_seconds(t), 1796479387);
  EXPECT_EQ(unix_millis(t), 1796479387456);
  // Before 1970 the values round down, not towards zero.
  EXPECT_EQ(unix_seconds(TimePoint{} - 1ms), -1);
  EXPECT_EQ(unix_millis(TimePoint{} - 1us), -1);
}

TEST(Clock, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(utc(2026, 11, 26, 10));
  EXPECT_EQ(format_iso8601(clock.now()), "2026-11-26T10:00:00Z");
  clock.advance(std::chrono::hours(25));
  EXPECT_EQ(format_iso8601(clock.now()), "2026-11-27T11:00:00Z");
  clock.set(utc(2027, 1, 1));
  EXPECT_EQ(format_iso8601(clock.now()), "2027-01-01T00:00:00Z");
}

}  // namespace
}  // namespace auditbot
