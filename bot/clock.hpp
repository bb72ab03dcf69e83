// The injected clock: every piece of logic asks a Clock for the time, never the system.
// SystemClock runs in production; FakeClock lets tests and `scheduler run-once` set it.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace auditbot {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(TimePoint::duration(now_.load())); }
  void set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void advance(std::chrono::nanoseconds d) {
    now_.fetch_add(std::chrono::duration_cast<TimePoint::duration>(d).count());
  }

 private:
  std::atomic<TimePoint::rep> now_;
};

// "2026-12-05T14:03:07Z" (UTC, seconds precision).
std::string format_iso8601(TimePoint t);
// Accepts "2026-12-05T14:03:07Z", "...+01:00", fractional seconds, and a bare date (midnight UTC).
std::optional<TimePoint> parse_iso8601(std::string_view text);
std::int64_t unix_seconds(TimePoint t);
std::int64_t unix_millis(TimePoint t);

}  // namespace auditbot
