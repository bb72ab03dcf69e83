// Business-day arithmetic and local dates with the OS time-zone database (date/tz.h).
#include "bot/calendar.hpp"

#include <date/tz.h>
#include <cstdio>

#include "bot/errors.hpp"

namespace auditbot {

namespace {

using std::chrono::sys_days;

// ISO weekday: 1 = Monday .. 7 = Sunday.
int iso_weekday(Date d) {
  return static_cast<int>(std::chrono::weekday(sys_days(d)).iso_encoding());
}

const date::time_zone* zone(std::string_view tz) {
  try {
    return date::locate_zone(tz);
  } catch (const std::exception&) {
    throw ConfigError("unknown time zone '" + std::string(tz) + "'");
  }
}

// std::chrono and date:: share system_clock, so a count of seconds converts exactly.
date::sys_seconds to_date(TimePoint t) {
  return date::sys_seconds(date::sys_seconds::duration(
      std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count()));
}

TimePoint from_date(date::sys_seconds t) {
  return TimePoint(std::chrono::seconds(t.time_since_epoch().count()));
}

}  // namespace

std::string format_date(Date d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

std::optional<Date> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
    return std::nullopt;
  }
  int fields[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lens[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (std::size_t i = starts[f]; i < starts[f] + lens[f]; ++i) {
      if (s[i] < '0' || s[i] > '9') {
        return std::nullopt;
      }
      fields[f] = fields[f] * 10 + (s[i] - '0');
    }
  }
  Date d{std::chrono::year(fields[0]), std::chrono::month(static_cast<unsigned>(fields[1])),
         std::chrono::day(static_cast<unsigned>(fields[2]))};
  if (!d.ok()) {
    return std::nullopt;
  }
  return d;
}

BusinessCalendar::BusinessCalendar(WorkingHours hours, const std::vector<std::string>& holidays)
    : hours_(std::move(hours)) {
  for (const auto& h : holidays) {
    auto d = parse_date(h);
    if (!d) {
      throw ConfigError("holidays: '" + h + "' is not a date YYYY-MM-DD");
    }
    holidays_.insert(sys_days(*d));
  }
}

bool BusinessCalendar::is_business_day(Date d) const {
  return hours_.days.count(iso_weekday(d)) > 0 && holidays_.count(sys_days(d)) == 0;
}

Date BusinessCalendar::add_days(Date from, int n) const {
  return Date{sys_days(from) + std::chrono::days(n)};
}

Date BusinessCalendar::add_business_days(Date from, int n) const {
  if (n == 0) {
    return from;
  }
  if (hours_.days.empty()) {
    throw ConfigError("working_hours.days: no business days configured");
  }
  int step = n > 0 ? 1 : -1;
  int left = n > 0 ? n : -n;
  auto d = sys_days(from);
  while (left > 0) {
    d += std::chrono::days(step);
    if (is_business_day(Date{d})) {
      --left;
    }
  }
  return Date{d};
}

int BusinessCalendar::business_days_between(Date from, Date to) const {
  auto a = sys_days(from);
  auto b = sys_days(to);
  if (b <= a) {
    return 0;
  }
  // Whole weeks hold the same number of working weekdays; walk only the remainder.
  auto span = (b - a).count();
  auto weeks = span / 7;
  long count = weeks * static_cast<long>(hours_.days.size());
  for (auto d = a + std::chrono::days(weeks * 7 + 1); d <= b; d += std::chrono::days(1)) {
    if (hours_.days.count(iso_weekday(Date{d})) > 0) {
      ++count;
    }
  }
  for (auto it = holidays_.upper_bound(a); it != holidays_.end() && *it <= b; ++it) {
    if (hours_.days.count(iso_weekday(Date{*it})) > 0) {
      --count;
    }
  }
  return static_cast<int>(count);
}

Date BusinessCalendar::local_date(TimePoint t, std::string_view tz) {
  auto local = zone(tz)->to_local(to_date(t));
  auto day = date::floor<date::days>(local);
  return Date{sys_days(std::chrono::days(day.time_since_epoch().count()))};
}

TimePoint BusinessCalendar::local_time(Date d, int minute_of_day, std::string_view tz) {
  const auto* z = zone(tz);
  auto local =
      date::local_seconds(date::local_days(date::days(sys_days(d).time_since_epoch().count())) +
                          std::chrono::minutes(minute_of_day));
  auto info = z->get_info(local);
  switch (info.result) {
    case date::local_info::nonexistent:
      // The clocks jumped over this wall time: the first instant after the jump.
      return from_date(info.second.begin);
    case date::local_info::ambiguous:
      // The wall time happens twice: the earlier one, still on the old offset.
    case date::local_info::unique:
      break;
  }
  return from_date(date::sys_seconds(local.time_since_epoch() - info.first.offset));
}

bool BusinessCalendar::is_valid_zone(std::string_view tz) {
  if (tz.empty()) {
    return false;
  }
  try {
    return date::locate_zone(tz) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace auditbot
