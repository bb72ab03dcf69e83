// ISO-8601 timestamps for logs, Redis and the CLI: always written in UTC, read with offsets.
#include "bot/clock.hpp"

#include <cstdio>

namespace auditbot {

namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::seconds;

// Reads exactly `len` digits at `pos`; nullopt when any is not a digit.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t len) {
  if (pos + len > s.size()) {
    return std::nullopt;
  }
  int v = 0;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return std::nullopt;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::string format_iso8601(TimePoint t) {
  auto secs = floor<seconds>(t);
  auto day = floor<days>(secs);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::optional<TimePoint> parse_iso8601(std::string_view s) {
  auto y = digits(s, 0, 4);
  auto mo = digits(s, 5, 2);
  auto d = digits(s, 8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-') {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(*y),
                                  std::chrono::month(static_cast<unsigned>(*mo)),
                                  std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) {
    return std::nullopt;
  }
  TimePoint t{std::chrono::sys_days(ymd)};
  if (s.size() == 10) {
    return t;  // a bare date is midnight UTC
  }
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') {
    return std::nullopt;
  }
  auto h = digits(s, 11, 2);
  auto mi = digits(s, 14, 2);
  if (!h || !mi || s.size() < 16 || s[13] != ':' || *h > 23 || *mi > 59) {
    return std::nullopt;
  }
  t += std::chrono::hours(*h) + std::chrono::minutes(*mi);
  std::size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    auto sec = digits(s, pos + 1, 2);
    if (!sec || *sec > 59) {
      return std::nullopt;
    }
    t += seconds(*sec);
    pos += 3;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      std::int64_t frac_ns = 0;
      int n = 0;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (n < 9) {
          frac_ns = frac_ns * 10 + (s[pos] - '0');
        }
        ++n;
        ++pos;
      }
      if (n == 0) {
        return std::nullopt;
      }
      for (int i = n; i < 9; ++i) {
        frac_ns *= 10;
      }
      t += std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(frac_ns));
    }
  }
  if (pos == s.size()) {
    return t;  // no offset: read as UTC, like the bare date
  }
  if (s[pos] == 'Z' || s[pos] == 'z') {
    return pos + 1 == s.size() ? std::optional<TimePoint>(t) : std::nullopt;
  }
  if (s[pos] != '+' && s[pos] != '-') {
    return std::nullopt;
  }
  int sign = s[pos] == '+' ? 1 : -1;
  auto oh = digits(s, pos + 1, 2);
  if (!oh) {
    return std::nullopt;
  }
  pos += 3;
  int om = 0;
  if (pos < s.size()) {
    if (s[pos] == ':') {
      ++pos;
    }
    auto m = digits(s, pos, 2);
    if (!m) {
      return std::nullopt;
    }
    om = *m;
    pos += 2;
  }
  if (pos != s.size() || *oh > 23 || om > 59) {
    return std::nullopt;
  }
  // Local time = UTC + offset, so UTC = local - offset.
  return t - sign * (std::chrono::hours(*oh) + std::chrono::minutes(om));
}

std::int64_t unix_seconds(TimePoint t) {
  return floor<seconds>(t).time_since_epoch().count();
}

std::int64_t unix_millis(TimePoint t) {
  return floor<std::chrono::milliseconds>(t).time_since_epoch().count();
}

}  // namespace auditbot
