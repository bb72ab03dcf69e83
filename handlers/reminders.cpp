// Reminder and escalation jobs. Items are read from the open-item indexes (handlers/items);
// a job that finds its item resolved does nothing, so resolving stops the ladder at once.
#include "handlers/reminders.hpp"

#include <algorithm>
#include <limits>

#include "bot/errors.hpp"
#include "bot/log.hpp"
#include "handlers/items.hpp"
#include "integrations/redis/job_queue.hpp"

namespace auditbot {

namespace {

using Hash = std::map<std::string, std::string>;

std::string field(const Hash& h, const std::string& k) {
  auto it = h.find(k);
  return it == h.end() ? std::string() : it->second;
}

// The item's own primary action, so the reminder can be acted on in place.
void add_item_buttons(Message& m, const std::string& id, const std::string& kind) {
  if (kind == "ask") {
    m.buttons.push_back({"ask.submit",
                         "Submit evidence for " + id,
                         id,
                         {{"link", "Link to the evidence", Input::Kind::url, false},
                          {"note", "Note for the reviewer", Input::Kind::multiline, true}},
                         Button::Style::primary});
  }
  m.buttons.push_back({"remind.snooze",
                       "Snooze " + id,
                       id,
                       {{"reason", "Why", Input::Kind::text, false}},
                       Button::Style::normal});
}

std::string escalation_step_key(const std::string& id) {
  return "escalate:" + id;
}

}  // namespace

Reminders::Reminders(Services& s, JobQueue& jobs) : s_(s), jobs_(jobs) {
  for (const Person& p : s_.people.all()) {
    if (p.working_hours) {
      own_calendars_.emplace(p.id, BusinessCalendar(*p.working_hours, s_.config.holidays));
    }
  }
  const auto& rc = s_.config.reminders;
  for (int b : rc.before_due)
    horizon_ = std::max(horizon_, b);
  for (const auto& rule : rc.cadence) {
    for (int b : rule.before_due)
      horizon_ = std::max(horizon_, b);
  }
}

const BusinessCalendar& Reminders::calendar_for(const Person& p) const {
  auto it = own_calendars_.find(p.id);
  return it == own_calendars_.end() ? s_.calendar : it->second;
}

Reminders::Cadence Reminders::cadence_for(const std::string& kind,
                                          const std::string& severity) const {
  const auto& rc = s_.config.reminders;
  Cadence c;
  c.before_due = rc.before_due;
  c.overdue_every = severity == "critical" ? rc.overdue_every_critical : rc.overdue_every;
  c.manager_after = rc.escalate_manager_after;
  c.leadership_after = rc.escalate_leadership_after;
  for (const auto& rule : rc.cadence) {
    if (!rule.kind.empty() && rule.kind != kind) continue;
    if (!rule.severity.empty() && rule.severity != severity) continue;
    if (!rule.before_due.empty()) c.before_due = rule.before_due;
    c.on_due = rule.on_due;
    if (rule.overdue_every > 0) c.overdue_every = rule.overdue_every;
    if (rule.escalate_manager_after > 0) c.manager_after = rule.escalate_manager_after;
    if (rule.escalate_leadership_after > 0) c.leadership_after = rule.escalate_leadership_after;
    break;
  }
  return c;
}

TimePoint Reminders::work_start(const std::string& tz, Date d) const {
  return BusinessCalendar::local_time(d, s_.calendar.hours().start_minute, tz);
}
TimePoint Reminders::work_start(const Person& p, Date d) const {
  return BusinessCalendar::local_time(d, calendar_for(p).hours().start_minute,
                                      s_.people.timezone_of(p));
}
TimePoint Reminders::work_end(const Person& p, Date d) const {
  return BusinessCalendar::local_time(d, calendar_for(p).hours().end_minute,
                                      s_.people.timezone_of(p));
}

bool Reminders::is_reminder_day(const BusinessCalendar& cal, Date day, Date due,
                                const Cadence& c) const {
  if (!cal.is_business_day(day)) return false;
  if (std::chrono::sys_days(day) < std::chrono::sys_days(due)) {
    const int left = cal.business_days_between(day, due);
    return std::find(c.before_due.begin(), c.before_due.end(), left) != c.before_due.end();
  }
  // Business days overdue; a due date on a non-business day is "due" on the next one.
  const int late = cal.business_days_between(due, day) - (cal.is_business_day(due) ? 0 : 1);
  if (late <= 0) return c.on_due;
  return late % std::max(c.overdue_every, 1) == 0;
}

bool Reminders::is_reminder_day(Date day, Date due, bool critical) const {
  return is_reminder_day(s_.calendar, day, due, cadence_for("", critical ? "critical" : ""));
}

std::optional<Date> Reminders::next_reminder_day(const BusinessCalendar& cal, Date from, Date due,
                                                 const Cadence& c) const {
  for (int i = 0; i < 400; ++i) {
    const Date d = cal.add_days(from, i);
    if (is_reminder_day(cal, d, due, c)) return d;
  }
  return std::nullopt;
}

std::optional<Date> Reminders::next_reminder_day(Date from, Date due, bool critical) const {
  return next_reminder_day(s_.calendar, from, due, cadence_for("", critical ? "critical" : ""));
}

bool Reminders::is_open(const std::string& id) {
  const redis::Reply r =
      s_.store.client().command({"ZSCORE", s_.store.keys().key("items:due"), id});
  if (r.type == redis::Reply::Type::error) throw redis::ReplyError(r.str);
  return !r.is_nil();
}

void Reminders::schedule_reminder(const Person& p, Date day, TimePoint now) {
  const TimePoint at = std::max(now, work_start(p, day));
  jobs_.schedule("remind:" + p.id + ":" + format_date(day), at);
}

void Reminders::register_jobs(Scheduler& scheduler) {
  scheduler.register_kind("plan", [this](const Job& j, TimePoint now) { plan(j, now); });
  scheduler.register_kind("remind", [this](const Job& j, TimePoint now) { remind(j, now); });
  scheduler.register_kind("escalate", [this](const Job& j, TimePoint now) { escalate(j, now); });
}

void Reminders::register_with(Router& router) {
  router.add(ActionSpec{"remind.snooze", [this](ActionCall& c) { return snooze(c); }});
}

// An item was assigned or its due date changed: schedule its owner's next reminder day
// and the next step of its escalation ladder.
void Reminders::plan(const Job& job, TimePoint now) {
  const std::string& id = job.arg;
  if (!is_open(id)) {
    jobs_.cancel(escalation_step_key(id));
    return;
  }
  const auto h = s_.store.hgetall(s_.store.keys().item(id));
  if (!h) return;
  const auto due = parse_date(field(*h, "due"));
  if (!due) return;
  const Cadence cadence = cadence_for(field(*h, "kind"), field(*h, "severity"));
  // Everyone who must act on it: the owner, and a reviewer when there is one.
  for (const std::string& who : {field(*h, "owner"), field(*h, "reviewer")}) {
    const Person* p = s_.people.find(who);
    if (!p) continue;
    const BusinessCalendar& cal = calendar_for(*p);
    Date from = BusinessCalendar::local_date(now, s_.people.timezone_of(*p));
    if (now >= work_end(*p, from)) from = cal.add_days(from, 1);  // their hours are over
    if (auto until = parse_date(field(*h, "snoozed_until:" + p->id))) {
      if (std::chrono::sys_days(*until) > std::chrono::sys_days(from)) from = *until;
    }
    if (auto day = next_reminder_day(cal, from, *due, cadence)) schedule_reminder(*p, *day, now);
  }

  const int step = std::atoi(field(*h, "escalation_step").c_str());
  if (step < 2) {
    const int after = step == 0 ? cadence.manager_after : cadence.leadership_after;
    const Date on = s_.calendar.add_business_days(*due, after);
    jobs_.schedule(escalation_step_key(id), std::max(now, work_start(s_.config.org_timezone, on)),
                   /*keep_earlier=*/false);
  }
}

// One DM with every item of this person that has a reminder today, once per local day.
void Reminders::remind(const Job& job, TimePoint now) {
  const auto colon = job.arg.rfind(':');
  const Person* p = s_.people.find(job.arg.substr(0, colon));
  if (!p) return;
  const BusinessCalendar& cal = calendar_for(*p);
  Date today = BusinessCalendar::local_date(now, s_.people.timezone_of(*p));
  // Never outside their working hours: a late or early pass moves to the next good moment.
  if (!cal.is_business_day(today) || now >= work_end(*p, today)) {
    Date next = cal.add_days(today, 1);
    while (!cal.is_business_day(next))
      next = cal.add_days(next, 1);
    schedule_reminder(*p, next, now);
    return;
  }
  if (now < work_start(*p, today)) {
    schedule_reminder(*p, today, now);
    return;
  }

  const Date last = cal.add_business_days(today, horizon_);
  const auto ids = s_.store.zrange_by_score(s_.store.keys().person_items(p->id),
                                            -std::numeric_limits<double>::infinity(),
                                            items::due_score(last), 500);
  std::vector<std::string> keys;
  for (const auto& id : ids)
    keys.push_back(s_.store.keys().item(id));
  const auto hashes = s_.store.hgetall_many(keys);

  Message m;
  m.to = Recipient::person(p->id);
  m.key = "remind:" + p->id + ":" + format_date(today);
  m.title = "Your SOC 2 items for " + format_date(today);
  std::vector<std::string> listed;
  std::vector<std::pair<std::string, Date>> next_days;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!hashes[i] || !is_open(ids[i])) continue;  // resolved: no more nags
    const Hash& h = *hashes[i];
    const auto due = parse_date(field(h, "due"));
    if (!due) continue;
    const auto snoozed = parse_date(field(h, "snoozed_until:" + p->id));
    if (snoozed && std::chrono::sys_days(*snoozed) > std::chrono::sys_days(today)) continue;
    const Cadence cadence = cadence_for(field(h, "kind"), field(h, "severity"));
    if (!is_reminder_day(cal, today, *due, cadence)) continue;
    listed.push_back(ids[i]);
    const auto days = (std::chrono::sys_days(*due) - std::chrono::sys_days(today)).count();
    std::string when = days > 0    ? "due " + field(h, "due")
                       : days == 0 ? "due today"
                                   : "overdue since " + field(h, "due");
    std::string line = "• " + ids[i] + " · " + field(h, "summary") + " · " + when;
    if (!field(h, "severity").empty()) line += " · " + field(h, "severity");
    m.text += (m.text.empty() ? "" : "\n") + line;
    add_item_buttons(m, ids[i], field(h, "kind"));
    if (auto next = next_reminder_day(cal, cal.add_days(today, 1), *due, cadence)) {
      next_days.emplace_back(ids[i], *next);
    }
  }
  if (!listed.empty()) {
    Txn txn;
    txn.claim_once(s_.store.keys().key("sent:" + m.key), std::chrono::hours(72));
    txn.send(m);
    txn.audit("system", "reminder.sent", "",
              {{"to", p->id}, {"items", listed}, {"day", format_date(today)}});
    s_.store.commit(txn);  // duplicate: today's DM already went out
  }
  for (const auto& [id, day] : next_days)
    schedule_reminder(*p, day, now);
}

// The next rung of the ladder for an item still open and overdue long enough.
void Reminders::escalate(const Job& job, TimePoint now) {
  const std::string& id = job.arg;
  if (!is_open(id)) return;  // resolved: stops climbing
  const auto h = s_.store.hgetall(s_.store.keys().item(id));
  if (!h) return;
  const auto due = parse_date(field(*h, "due"));
  if (!due) return;
  const Cadence cadence = cadence_for(field(*h, "kind"), field(*h, "severity"));
  const std::string step_text = field(*h, "escalation_step");
  const int step = std::atoi(step_text.c_str());
  if (step >= 2) return;
  const Date today = BusinessCalendar::local_date(now, s_.config.org_timezone);
  const int late = s_.calendar.business_days_between(*due, today);
  const int needed = step == 0 ? cadence.manager_after : cadence.leadership_after;
  if (late < needed) {  // the due date moved: wait for the new day
    const Date on = s_.calendar.add_business_days(*due, needed);
    jobs_.schedule(job.id, std::max(now, work_start(s_.config.org_timezone, on)), false);
    return;
  }
  const std::string owner_id = field(*h, "owner");
  const Person* owner = s_.people.find(owner_id);
  Message m;
  m.key = "escalate:" + id + ":" + std::to_string(step + 1);
  m.title = "Overdue " + std::to_string(late) + " business days: " + id;
  m.text = field(*h, "summary");
  m.fields = {{"Owner", owner ? display(*owner) : owner_id}, {"Due", field(*h, "due")}};
  if (!field(*h, "severity").empty()) m.fields.push_back({"Severity", field(*h, "severity")});
  std::vector<std::string> to;
  Txn txn;
  txn.expect_field(s_.store.keys().item(id), "escalation_step", step_text,
                   "escalation already moved on");
  if (step == 0) {
    if (owner && !owner->manager.empty()) {
      to.push_back(owner->manager);
    } else {
      for (const Person* a : s_.people.with_role(Role::approver))
        to.push_back(a->id);
    }
    for (const auto& person : to) {
      Message copy = m;
      copy.to = Recipient::person(person);
      txn.send(copy);
    }
  } else {
    to.push_back("#leadership");
    m.to = Recipient::channel("leadership");
    txn.send(m);
  }
  txn.hset(s_.store.keys().item(id), {{"escalation_step", std::to_string(step + 1)}});
  txn.audit("system", "item.escalated", id,
            {{"step", step + 1}, {"to", to}, {"overdue_business_days", late}});
  if (!s_.store.commit(txn).ok()) return;
  if (step == 0) {
    const Date on = s_.calendar.add_business_days(*due, cadence.leadership_after);
    jobs_.schedule(job.id, std::max(now, work_start(s_.config.org_timezone, on)), false);
  }
}

Reply Reminders::snooze(ActionCall& call) {
  const std::string& id = call.press.value;
  const std::string reason = [&] {
    auto it = call.press.inputs.find("reason");
    return it == call.press.inputs.end() ? std::string() : it->second;
  }();
  if (reason.find_first_not_of(" \t") == std::string::npos) {
    return Reply::fail("A snooze needs a reason.");
  }
  const auto h = s_.store.hgetall(s_.store.keys().item(id));
  if (!h || !is_open(id)) return Reply::fail(id + " is not open any more.");
  const std::string count_field = "snoozes:" + call.actor.id;
  const std::string count_text = field(*h, count_field);
  const int count = std::atoi(count_text.c_str());
  if (count >= s_.config.reminders.snooze_max) {
    return Reply::fail("You have already snoozed " + id + " " + std::to_string(count) +
                       " times; the limit is " + std::to_string(s_.config.reminders.snooze_max) +
                       ".");
  }
  const Date today = s_.today_for(call.actor);
  const Date until =
      calendar_for(call.actor).add_business_days(today, s_.config.reminders.snooze_business_days);
  Txn txn = s_.txn_for(call.event);
  txn.expect_field(s_.store.keys().item(id), count_field, count_text,
                   "That reminder was snoozed meanwhile.");
  txn.hset(s_.store.keys().item(id), {{count_field, std::to_string(count + 1)},
                                      {"snoozed_until:" + call.actor.id, format_date(until)}});
  txn.audit(call.actor.id, "reminder.snoozed", id,
            {{"reason", reason}, {"until", format_date(until)}, {"count", count + 1}});
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::conflict) return Reply::fail(r.reason);
  if (r.ok()) jobs_.schedule("plan:" + id, s_.clock.now());
  return Reply::ok("Snoozed " + id + " until " + format_date(until) + ".");
}

}  // namespace auditbot
