// Calendar arithmetic with real time-zone rules: local dates per person, business days
// that skip weekends and the organisation's holidays, and "+3bd" style due dates.
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bot/clock.hpp"
#include "config/config.hpp"

namespace auditbot {

using Date = std::chrono::year_month_day;

std::string format_date(Date d);                     // 2026-12-05
std::optional<Date> parse_date(std::string_view s);  // strict YYYY-MM-DD, valid day

class BusinessCalendar {
 public:
  BusinessCalendar(WorkingHours hours, const std::vector<std::string>& holidays);

  bool is_business_day(Date d) const;
  Date add_business_days(Date from, int n) const;  // n >= 0; n == 0 returns `from`
  Date add_days(Date from, int n) const;
  // Business days strictly after `from` up to and including `to` (0 when to <= from).
  int business_days_between(Date from, Date to) const;

  // The local calendar date at `t` in IANA zone `tz` (throws ConfigError for unknown zones).
  static Date local_date(TimePoint t, std::string_view tz);
  // The instant when local wall time `minute_of_day` on `d` happens in `tz`.
  static TimePoint local_time(Date d, int minute_of_day, std::string_view tz);
  static bool is_valid_zone(std::string_view tz);

  const WorkingHours& hours() const { return hours_; }

 private:
  WorkingHours hours_;
  std::set<std::chrono::sys_days> holidays_;
};

}  // namespace auditbot
