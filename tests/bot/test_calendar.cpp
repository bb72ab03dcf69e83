// Calendar behaviour people notice: what day it is where they live, when 9:00 happens around
// DST changes, and due dates that skip weekends and holidays.
#include <gtest/gtest.h>

#include "bot/calendar.hpp"
#include "bot/errors.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;
using std::chrono::November;

Date d(const char* s) {
  auto parsed = parse_date(s);
  EXPECT_TRUE(parsed.has_value()) << s;
  return parsed.value_or(Date{});
}

TimePoint at(const char* iso) {
  auto t = parse_iso8601(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(TimePoint{});
}

TEST(Calendar, OneInstantIsTwoDatesInTokyoAndSanFrancisco) {
  auto t = at("2026-11-26T20:00:00Z");  // 05:00 Friday in Tokyo, 12:00 Thursday in SF
  EXPECT_EQ(format_date(BusinessCalendar::local_date(t, "Asia/Tokyo")), "2026-11-27");
  EXPECT_EQ(format_date(BusinessCalendar::local_date(t, "America/Los_Angeles")), "2026-11-26");
  EXPECT_EQ(format_date(BusinessCalendar::local_date(t, "UTC")), "2026-11-26");
}

TEST(Calendar, NineInTheMorningFollowsNewYorkDaylightSaving) {
  const char* ny = "America/New_York";
  // 2026-03-08 clocks go from 02:00 EST to 03:00 EDT.
  EXPECT_EQ(format_iso8601(BusinessCalendar::local_time(d("2026-03-07"), 9 * 60, ny)),
            "2026-03-07T14:00:00Z");
  EXPECT_EQ(format_iso8601(BusinessCalendar::local_time(d("2026-03-09"), 9 * 60, ny)),
            "2026-03-09T13:00:00Z");
  // 02:30 never happens that night: the first instant after the jump (03:00 EDT).
  EXPECT_EQ(format_iso8601(BusinessCalendar::local_time(d("2026-03-08"), 2 * 60 + 30, ny)),
            "2026-03-08T07:00:00Z");
  // 2026-11-01 01:30 happens twice: the earlier one, still EDT.
  EXPECT_EQ(format_iso8601(BusinessCalendar::local_time(d("2026-11-01"), 60 + 30, ny)),
            "2026-11-01T05:30:00Z");
  // Late evening UTC is still the previous day in New York.
  EXPECT_EQ(format_date(BusinessCalendar::local_date(at("2026-03-08T04:30:00Z"), ny)),
            "2026-03-07");
}

TEST(Calendar, EndOfDayMinuteIsNextMidnight) {
  EXPECT_EQ(format_iso8601(BusinessCalendar::local_time(d("2026-06-01"), 24 * 60, "UTC")),
            "2026-06-02T00:00:00Z");
}

TEST(Calendar, UnknownZonesAreRejected) {
  EXPECT_TRUE(BusinessCalendar::is_valid_zone("Europe/London"));
  EXPECT_FALSE(BusinessCalendar::is_valid_zone("Mars/Base"));
  EXPECT_FALSE(BusinessCalendar::is_valid_zone(""));
  EXPECT_THROW(BusinessCalendar::local_date(TimePoint{}, "Mars/Base"), ConfigError);
  EXPECT_THROW(BusinessCalendar::local_time(d("2026-01-01"), 0, "Mars/Base"), ConfigError);
}

TEST(Calendar, BusinessDaysSkipWeekendsAndHolidays) {
  BusinessCalendar cal(WorkingHours{}, {"2026-12-25"});
  EXPECT_TRUE(cal.is_business_day(d("2026-12-24")));
  EXPECT_FALSE(cal.is_business_day(d("2026-12-25")));  // holiday, a Friday
  EXPECT_FALSE(cal.is_business_day(d("2026-12-26")));  // Saturday
  EXPECT_FALSE(cal.is_business_day(d("2026-12-27")));  // Sunday
  // Wed 23 -> Tue 29: Thu 24, Mon 28, Tue 29.
  EXPECT_EQ(cal.business_days_between(d("2026-12-23"), d("2026-12-29")), 3);
  EXPECT_EQ(cal.business_days_between(d("2026-12-29"), d("2026-12-23")), 0);
  EXPECT_EQ(cal.business_days_between(d("2026-12-23"), d("2026-12-23")), 0);
  // A plain week without holidays.
  EXPECT_EQ(cal.business_days_between(d("2026-11-20"), d("2026-11-27")), 5);
}

TEST(Calendar, AddingBusinessDaysFromAFriday) {
  BusinessCalendar cal(WorkingHours{}, {"2026-12-25"});
  EXPECT_EQ(format_date(cal.add_business_days(d("2026-11-27"), 0)), "2026-11-27");
  EXPECT_EQ(format_date(cal.add_business_days(d("2026-11-27"), 1)), "2026-11-30");  // Monday
  EXPECT_EQ(format_date(cal.add_business_days(d("2026-11-27"), 5)), "2026-12-04");  // Friday
  // Across the Christmas holiday: Mon 21 .. Thu 24, then Mon 28.
  EXPECT_EQ(format_date(cal.add_business_days(d("2026-12-18"), 5)), "2026-12-28");
  // Backwards from a Monday lands on the Friday before.
  EXPECT_EQ(format_date(cal.add_business_days(d("2026-11-30"), -1)), "2026-11-27");
  // Starting on a Saturday counts from the next Monday.
  EXPECT_EQ(format_date(cal.add_business_days(d("2026-11-28"), 1)), "2026-11-30");
  EXPECT_EQ(format_date(cal.add_days(d("2026-12-30"), 3)), "2027-01-02");
}

TEST(Calendar, CustomWorkingWeek) {
  WorkingHours sun_to_thu;
  sun_to_thu.days = {7, 1, 2, 3, 4};
  BusinessCalendar cal(sun_to_thu, {});
  EXPECT_FALSE(cal.is_business_day(d("2026-11-27")));  // Friday
  EXPECT_TRUE(cal.is_business_day(d("2026-11-29")));   // Sunday
  EXPECT_EQ(format_date(cal.add_business_days(d("2026-11-26"), 1)), "2026-11-29");
}

TEST(Calendar, BusinessDaysBetweenAgreesWithCountingDayByDay) {
  BusinessCalendar cal(WorkingHours{}, {"2026-12-25", "2027-01-01", "2026-12-26", "2027-02-15"});
  auto start = d("2026-12-01");
  for (int from = 0; from < 20; ++from) {
    for (int span = 0; span < 90; span += 3) {
      auto a = cal.add_days(start, from);
      auto b = cal.add_days(a, span);
      int expected = 0;
      for (int i = 1; i <= span; ++i) {
        expected += cal.is_business_day(cal.add_days(a, i)) ? 1 : 0;
      }
      ASSERT_EQ(cal.business_days_between(a, b), expected) << format_date(a) << " " << span;
      if (expected > 0) {
        // Adding that many business days lands on the last business day up to b.
        auto landed = cal.add_business_days(a, expected);
        EXPECT_TRUE(cal.is_business_day(landed));
        EXPECT_EQ(cal.business_days_between(a, landed), expected);
      }
    }
  }
}

TEST(Calendar, StrictDates) {
  EXPECT_EQ(parse_date("2026-11-26"), Date{2026y / November / 26d});
  EXPECT_TRUE(parse_date("2028-02-29").has_value());
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-1-05",
                          "26-01-05", "2026/01/05", " 2026-01-05", "2026-01-05T00:00", ""}) {
    EXPECT_FALSE(parse_date(bad).has_value()) << bad;
  }
  EXPECT_EQ(format_date(Date{2027y / std::chrono::January / 3d}), "2027-01-03");
}

TEST(Calendar, BadHolidayIsAConfigError) {
  EXPECT_THROW(BusinessCalendar(WorkingHours{}, {"2026-02-30"}), ConfigError);
}

}  // namespace
}  // namespace auditbot
