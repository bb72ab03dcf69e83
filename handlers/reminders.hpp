// Reminders and escalation (C8): one batched DM per person per day inside their working
// hours, cadence per severity, snooze with a reason, and the ladder owner -> manager -> leadership.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bot/router.hpp"
#include "bot/scheduler.hpp"
#include "handlers/services.hpp"

namespace auditbot {

class Reminders {
 public:
  Reminders(Services& s, JobQueue& jobs);
  void register_with(Router& router);        // the snooze button
  void register_jobs(Scheduler& scheduler);  // plan:, remind:, escalate:

  // The cadence that applies to an item of `kind` and `severity` (reminders.cadence, the
  // first matching rule, filled in from the reminders defaults).
  struct Cadence {
    std::vector<int> before_due;
    bool on_due = true;
    int overdue_every = 1;
    int manager_after = 0;
    int leadership_after = 0;
  };
  Cadence cadence_for(const std::string& kind, const std::string& severity) const;
  // A person's business calendar: their own working hours and days, the org's holidays.
  const BusinessCalendar& calendar_for(const Person& p) const;

  // Is `day` (the person's local date) a reminder day for an item due on `due`?
  bool is_reminder_day(Date day, Date due, bool critical) const;
  bool is_reminder_day(const BusinessCalendar& cal, Date day, Date due, const Cadence& c) const;
  // The first reminder day on or after `from` (nullopt when none within a year).
  std::optional<Date> next_reminder_day(Date from, Date due, bool critical) const;
  std::optional<Date> next_reminder_day(const BusinessCalendar& cal, Date from, Date due,
                                        const Cadence& c) const;

 private:
  void plan(const Job& job, TimePoint now);
  void remind(const Job& job, TimePoint now);
  void escalate(const Job& job, TimePoint now);
  Reply snooze(ActionCall& call);

  // Schedules the person's batched DM for `day` at the start of their working hours.
  void schedule_reminder(const Person& p, Date day, TimePoint now);
  bool is_open(const std::string& id);
  TimePoint work_start(const std::string& tz, Date d) const;  // the org's hours
  TimePoint work_start(const Person& p, Date d) const;        // the person's own
  TimePoint work_end(const Person& p, Date d) const;

  Services& s_;
  JobQueue& jobs_;
  // People with their own working_hours; everyone else uses s_.calendar. Built once.
  std::map<std::string, BusinessCalendar> own_calendars_;
  int horizon_ = 0;  // the longest before-due offset of any cadence
};

}  // namespace auditbot
