// Reminders and escalation (C8): one batched DM per person per day inside their working
// hours, cadence per severity, snooze with a reason, and the ladder owner -> manager -> leadership.
#pragma once

#include <optional>
#include <string>

#include "bot/router.hpp"
#include "bot/scheduler.hpp"
#include "handlers/services.hpp"

namespace auditbot {

class Reminders {
 public:
  Reminders(Services& s, JobQueue& jobs) : s_(s), jobs_(jobs) {}
  void register_with(Router& router);        // the snooze button
  void register_jobs(Scheduler& scheduler);  // plan:, remind:, escalate:

  // Is `day` (the person's local date) a reminder day for an item due on `due`?
  bool is_reminder_day(Date day, Date due, bool critical) const;
  // The first reminder day on or after `from` (nullopt when none within a year).
  std::optional<Date> next_reminder_day(Date from, Date due, bool critical) const;

 private:
  void plan(const Job& job, TimePoint now);
  void remind(const Job& job, TimePoint now);
  void escalate(const Job& job, TimePoint now);
  Reply snooze(ActionCall& call);

  // Schedules the person's batched DM for `day` at the start of their working hours.
  void schedule_reminder(const Person& p, Date day, TimePoint now);
  bool is_open(const std::string& id);
  TimePoint work_start(const std::string& tz, Date d) const;
  TimePoint work_end(const std::string& tz, Date d) const;

  Services& s_;
  JobQueue& jobs_;
};

}  // namespace auditbot
