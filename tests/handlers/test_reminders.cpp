// Reminders, escalation and self-posted reports through the whole app with a fake clock:
// DMs land in each person's own working hours, holidays move them, the ladder climbs on
// the expected days and stops when the item is resolved, reports post once each.
#include <gtest/gtest.h>

#include "handlers/items.hpp"
#include "tests/support/harness.hpp"
#include "tests/support/process.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;
using test::Harness;

TimePoint at(const char* iso) {
  return *parse_iso8601(iso);
}

// Items written straight into Redis as any capability writes them (kind/owner/due/...).
void put_item(Harness& h, const std::string& id, const std::string& kind, const std::string& owner,
              const std::string& due, const std::string& severity = "",
              const std::string& reviewer = "") {
  auto& st = h.app().store();
  const auto& k = st.keys();
  Txn t;
  std::map<std::string, std::string> f{{"kind", kind},        {"id", id},
                                       {"owner", owner},      {"due", due},
                                       {"status", "open"},    {"summary", "Fix " + id},
                                       {"severity", severity}};
  if (!reviewer.empty()) f["reviewer"] = reviewer;
  t.hset(k.item(id), f);
  items::assign(t, k, id, owner, *parse_date(due));
  if (!reviewer.empty()) items::assign(t, k, id, reviewer, *parse_date(due));
  items::set_due(t, k, id, *parse_date(due));
  t.zadd(k.items_of_kind(kind), 0, id);
  ASSERT_TRUE(st.commit(t).ok());
}

void resolve(Harness& h, const std::string& id) {
  auto& st = h.app().store();
  Txn t;
  t.hset(st.keys().item(id), {{"status", "closed"}});
  items::resolved(t, st.keys(), id);
  ASSERT_TRUE(st.commit(t).ok());
}

struct Sent {
  TimePoint when;
  Message message;
};

// Runs a pass every `step` from `from` to `to`; returns what `who` got, with the pass time.
std::vector<Sent> run(Harness& h, TimePoint from, TimePoint to, std::chrono::minutes step,
                      const std::string& who) {
  std::vector<Sent> got;
  for (TimePoint t = from; t <= to; t += step) {
    const std::size_t before = h.sent_to(who).size();
    h.run_scheduler(t);
    const auto all = h.sent_to(who);
    for (std::size_t i = before; i < all.size(); ++i)
      got.push_back({t, all[i]});
  }
  return got;
}

std::vector<std::string> local_days(const std::vector<Sent>& sent, const std::string& tz) {
  std::vector<std::string> out;
  for (const auto& s : sent)
    out.push_back(format_date(BusinessCalendar::local_date(s.when, tz)));
  return out;
}

void expect_in_working_hours(const std::vector<Sent>& sent, const std::string& tz) {
  for (const auto& s : sent) {
    const Date d = BusinessCalendar::local_date(s.when, tz);
    EXPECT_GE(s.when, BusinessCalendar::local_time(d, 9 * 60, tz)) << format_iso8601(s.when);
    EXPECT_LT(s.when, BusinessCalendar::local_time(d, 17 * 60, tz)) << format_iso8601(s.when);
  }
}

TEST(Reminders, TokyoAndSanFranciscoGetTheSameItemInTheirOwnWorkingHours) {
  Harness h;  // starts 2026-12-01 15:00 UTC, a Tuesday
  // Due Monday 2026-12-07: reminders 3 and 1 business days before (Wed 2nd, Fri 4th), then on the
  // day.
  put_item(h, "ASK-1", "ask", "kenji", "2026-12-07", "", "bob");
  const auto kenji = run(h, at("2026-12-01T15:00:00Z"), at("2026-12-08T12:00:00Z"), 30min, "kenji");
  h.restart_app();  // nothing for bob went out twice through a restart either
  EXPECT_EQ(local_days(kenji, "Asia/Tokyo"),
            (std::vector<std::string>{"2026-12-02", "2026-12-04", "2026-12-07"}));
  expect_in_working_hours(kenji, "Asia/Tokyo");
  ASSERT_FALSE(kenji.empty());
  EXPECT_EQ(kenji[0].when, at("2026-12-02T00:00:00Z"));  // 09:00 in Tokyo
  EXPECT_NE(kenji[0].message.text.find("ASK-1"), std::string::npos);
  ASSERT_FALSE(kenji[0].message.buttons.empty());
  EXPECT_EQ(kenji[0].message.buttons[0].action_id, "ask.submit");

  // Bob (Los Angeles, the San Francisco zone), reviewer of the same item.
  std::vector<Sent> bob;
  for (const auto& m : h.sent_to("bob"))
    bob.push_back({TimePoint{}, m});
  ASSERT_EQ(bob.size(), 3u);
  Harness h2;
  put_item(h2, "ASK-1", "ask", "kenji", "2026-12-07", "", "bob");
  const auto bob2 = run(h2, at("2026-12-01T15:00:00Z"), at("2026-12-08T12:00:00Z"), 30min, "bob");
  EXPECT_EQ(local_days(bob2, "America/Los_Angeles"),
            (std::vector<std::string>{"2026-12-02", "2026-12-04", "2026-12-07"}));
  expect_in_working_hours(bob2, "America/Los_Angeles");
  ASSERT_FALSE(bob2.empty());
  EXPECT_EQ(bob2[0].when, at("2026-12-02T17:00:00Z"));  // 09:00 in San Francisco
}

TEST(Reminders, OneBatchedDmPerPersonPerDay) {
  Harness h;
  put_item(h, "ASK-1", "ask", "bob", "2026-12-07");
  put_item(h, "ASK-2", "ask", "bob", "2026-12-07");
  put_item(h, "GAP-9", "gap", "bob", "2026-12-04", "minor");  // 1 business day before: Thu 3rd
  const auto bob = run(h, at("2026-12-01T15:00:00Z"), at("2026-12-03T05:00:00Z"), 30min, "bob");
  // Tue 1st: GAP-9 (3 business days before); Wed 2nd: ASK-1 and ASK-2 in one DM.
  ASSERT_EQ(bob.size(), 2u);
  EXPECT_NE(bob[0].message.text.find("GAP-9"), std::string::npos);
  EXPECT_EQ(bob[0].message.text.find("ASK-1"), std::string::npos);
  EXPECT_NE(bob[1].message.text.find("ASK-1"), std::string::npos);
  EXPECT_NE(bob[1].message.text.find("ASK-2"), std::string::npos);
  EXPECT_EQ(bob[1].message.text.find("GAP-9"), std::string::npos);
  EXPECT_EQ(bob[1].message.buttons.size(), 4u);  // submit + snooze for each ask
}

TEST(Reminders, AHolidayMovesTheReminder) {
  Harness h([](Config& c) { c.holidays.push_back("2026-12-04"); });
  put_item(h, "ASK-1", "ask", "bob", "2026-12-07");
  const auto bob = run(h, at("2026-12-01T15:00:00Z"), at("2026-12-08T03:00:00Z"), 30min, "bob");
  // Friday the 4th is off: "1 business day before" is Thursday, "3 before" is Tuesday.
  EXPECT_EQ(local_days(bob, "America/Los_Angeles"),
            (std::vector<std::string>{"2026-12-01", "2026-12-03", "2026-12-07"}));
  expect_in_working_hours(bob, "America/Los_Angeles");
}

TEST(Reminders, CriticalGapClimbsTheLadderAndStopsWhenResolved) {
  Harness h([](Config& c) {
    c.reminders.escalate_manager_after = 2;
    c.reminders.escalate_leadership_after = 4;
  });
  // Gap items written directly (kind gap, severity critical), owner bob, manager dana.
  put_item(h, "GAP-1", "gap", "bob", "2026-12-02", "critical");
  put_item(h, "GAP-2", "gap", "bob", "2026-12-02", "critical");
  const auto bob = run(h, at("2026-12-01T15:00:00Z"), at("2026-12-04T23:00:00Z"), 60min, "bob");
  const auto dana_before = h.sent_to("dana");
  resolve(h, "GAP-2");  // Friday evening, after the first rung
  const auto bob2 = run(h, at("2026-12-05T00:00:00Z"), at("2026-12-10T23:00:00Z"), 60min, "bob");

  // Overdue nags daily (critical) on business days, in one DM per day.
  auto days = local_days(bob, "America/Los_Angeles");
  auto days2 = local_days(bob2, "America/Los_Angeles");
  days.insert(days.end(), days2.begin(), days2.end());
  EXPECT_EQ(days,
            (std::vector<std::string>{"2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04",
                                      "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"}));
  EXPECT_NE(bob2.back().message.text.find("GAP-1"), std::string::npos);
  EXPECT_EQ(bob2.back().message.text.find("GAP-2"), std::string::npos);  // resolved: no nag

  // Rung 1: dana on Friday 4th (2 business days overdue) for both gaps.
  ASSERT_EQ(dana_before.size(), 2u);
  for (const auto& m : dana_before)
    EXPECT_EQ(m.title.rfind("Overdue 2 business days", 0), 0u);
  // Rung 2: leadership on Tuesday 8th (4 business days), only for the gap still open.
  const auto lead = h.sent_to("leadership");
  ASSERT_EQ(lead.size(), 1u);
  EXPECT_NE(lead[0].title.find("GAP-1"), std::string::npos);

  std::vector<std::string> steps;
  for (const auto& e : h.audit_entries()) {
    if (e.action == "item.escalated")
      steps.push_back(e.item + ":" + e.detail.substr(0, 0) + e.ts.substr(0, 10));
  }
  EXPECT_EQ(steps,
            (std::vector<std::string>{"GAP-1:2026-12-04", "GAP-2:2026-12-04", "GAP-1:2026-12-08"}));
}

TEST(Reminders, SnoozeNeedsAReasonIsCappedAndAudited) {
  Harness h;
  put_item(h, "ASK-1", "ask", "bob", "2026-12-03");
  EXPECT_TRUE(h.press("bob", "remind.snooze", "ASK-1", {{"reason", " "}}).error);
  EXPECT_FALSE(h.press("bob", "remind.snooze", "ASK-1", {{"reason", "on call"}}).error);
  EXPECT_FALSE(h.press("bob", "remind.snooze", "ASK-1", {{"reason", "still on call"}}).error);
  const auto keys_before = h.redis_key_count();
  const auto audit_before = h.audit_entries().size();
  const Reply third = h.press("bob", "remind.snooze", "ASK-1", {{"reason", "again"}});
  EXPECT_TRUE(third.error);
  EXPECT_NE(third.text.find("limit is 2"), std::string::npos);
  EXPECT_EQ(h.audit_entries().size(), audit_before);
  EXPECT_EQ(h.redis_key_count(), keys_before);
  int snoozes = 0;
  for (const auto& e : h.audit_entries()) {
    if (e.action == "reminder.snoozed") {
      ++snoozes;
      EXPECT_NE(e.detail.find("on call"), std::string::npos);
    }
  }
  EXPECT_EQ(snoozes, 2);
  // Snoozed on Tue 1st for 1 business day: no reminder on Tue 1st... and Wed 2nd (1 bd before due)
  // is the snooze end: reminders resume then.
  const auto bob = run(h, at("2026-12-01T15:00:00Z"), at("2026-12-02T23:00:00Z"), 60min, "bob");
  EXPECT_EQ(local_days(bob, "America/Los_Angeles"), (std::vector<std::string>{"2026-12-02"}));
}

// Kenji (Tokyo) works Tuesday to Saturday, 13:00-19:00: his reminders follow his own
// business days and hours, not the organisation's Monday-Friday 09:00-17:00.
TEST(Reminders, APersonsOwnWorkingHoursAndDaysOverrideTheOrganisations) {
  Harness h([](Config& c) {
    for (auto& p : c.people) {
      if (p.id == "kenji") p.working_hours = WorkingHours{13 * 60, 19 * 60, {2, 3, 4, 5, 6}};
    }
  });
  // Due Tuesday the 8th. Kenji's calendar: 3 business days before is Thursday the 3rd (Fri,
  // Sat, Tue), 1 before is Saturday the 5th; the org's would be Thu 3rd and Monday the 7th.
  put_item(h, "ASK-1", "ask", "kenji", "2026-12-08");
  const auto kenji = run(h, at("2026-12-01T15:00:00Z"), at("2026-12-08T12:00:00Z"), 30min, "kenji");
  EXPECT_EQ(local_days(kenji, "Asia/Tokyo"),
            (std::vector<std::string>{"2026-12-03", "2026-12-05", "2026-12-08"}));
  ASSERT_FALSE(kenji.empty());
  EXPECT_EQ(kenji[0].when, at("2026-12-03T04:00:00Z"));  // 13:00 in Tokyo
  for (const auto& s : kenji) {
    const Date d = BusinessCalendar::local_date(s.when, "Asia/Tokyo");
    EXPECT_GE(s.when, BusinessCalendar::local_time(d, 13 * 60, "Asia/Tokyo"));
    EXPECT_LT(s.when, BusinessCalendar::local_time(d, 19 * 60, "Asia/Tokyo"));
  }
  // Bob, with the same kind of item, keeps the organisation's calendar.
  put_item(h, "ASK-2", "ask", "bob", "2026-12-15");
  const auto bob = run(h, at("2026-12-08T12:00:00Z"), at("2026-12-15T12:00:00Z"), 60min, "bob");
  EXPECT_EQ(local_days(bob, "America/Los_Angeles"),
            (std::vector<std::string>{"2026-12-10", "2026-12-14"}));
  expect_in_working_hours(bob, "America/Los_Angeles");
}

// reminders.cadence: asks get one early reminder 5 business days ahead, none on the due date
// and a nag every 3 business days; gaps keep the defaults.
TEST(Reminders, CadencePerKindAndSeverityComesFromConfig) {
  Harness h([](Config& c) {
    CadenceRule ask;
    ask.kind = "ask";
    ask.before_due = {5};
    ask.on_due = false;
    ask.overdue_every = 3;
    c.reminders.cadence.push_back(ask);
    CadenceRule critical;
    critical.kind = "gap";
    critical.severity = "critical";
    critical.escalate_manager_after = 1;
    critical.escalate_leadership_after = 10;
    c.reminders.cadence.push_back(critical);
  });
  put_item(h, "ASK-1", "ask", "bob", "2026-12-14");
  put_item(h, "GAP-1", "gap", "kenji", "2026-12-14", "minor");
  const auto bob = run(h, at("2026-12-01T15:00:00Z"), at("2026-12-18T23:00:00Z"), 60min, "bob");
  // Default would be Wed 9th, Fri 11th, Mon 14th, Wed 16th, Fri 18th.
  EXPECT_EQ(local_days(bob, "America/Los_Angeles"),
            (std::vector<std::string>{"2026-12-07", "2026-12-17"}));
  const auto kenji = h.sent_to("kenji");
  // Minor gap, defaults: 3 and 1 before (Wed 9th, Fri 11th), due Mon 14th, then Wed 16th,
  // Fri 18th (Tokyo dates; the run ends Sat 19th 08:00 in Tokyo).
  EXPECT_EQ(kenji.size(), 5u);
}

TEST(Reminders, ACriticalGapsOwnLadderComesFromItsCadence) {
  Harness h([](Config& c) {
    CadenceRule critical;
    critical.kind = "gap";
    critical.severity = "critical";
    critical.escalate_manager_after = 1;
    critical.escalate_leadership_after = 2;
    c.reminders.cadence.push_back(critical);
  });
  put_item(h, "GAP-1", "gap", "bob", "2026-12-02", "critical");
  put_item(h, "GAP-2", "gap", "bob", "2026-12-02", "minor");  // defaults: 2 and 5 days
  run(h, at("2026-12-01T15:00:00Z"), at("2026-12-04T23:00:00Z"), 60min, "bob");
  std::vector<std::string> steps;
  for (const auto& e : h.audit_entries()) {
    if (e.action == "item.escalated") steps.push_back(e.item + ":" + e.ts.substr(0, 10));
  }
  EXPECT_EQ(steps,
            (std::vector<std::string>{"GAP-1:2026-12-03", "GAP-1:2026-12-04", "GAP-2:2026-12-04"}));
}

TEST(ReminderConfig, PeopleHoursAndCadenceAreReadStrictly) {
  const std::string dir = test::make_temp_dir("reminder-config");
  const std::string path = dir + "/auditbot.yaml";
  const auto none = [](const std::string&) { return std::optional<std::string>(); };
  test::write_file(path, R"(working_hours: {start: "08:00", end: "16:00"}
reminders:
  cadence:
    - {kind: gap, severity: critical, overdue_every_business_days: 1, on_due: false}
people:
  - id: kenji
    timezone: Asia/Tokyo
    working_hours: {start: "10:00", days: [tue, sat]}
  - id: bob
)");
  const Config c = load_config(path, none);
  ASSERT_EQ(c.people.size(), 2u);
  ASSERT_TRUE(c.people[0].working_hours.has_value());
  EXPECT_EQ(c.people[0].working_hours->start_minute, 10 * 60);
  EXPECT_EQ(c.people[0].working_hours->end_minute, 16 * 60);  // the org's end
  EXPECT_EQ(c.people[0].working_hours->days, (std::set<int>{2, 6}));
  EXPECT_FALSE(c.people[1].working_hours.has_value());
  ASSERT_EQ(c.reminders.cadence.size(), 1u);
  EXPECT_EQ(c.reminders.cadence[0].kind, "gap");
  EXPECT_EQ(c.reminders.cadence[0].overdue_every, 1);
  EXPECT_FALSE(c.reminders.cadence[0].on_due);

  test::write_file(path,
                   "people:\n  - id: kenji\n    working_hours: {start: \"10:00\", lunch: 1}\n");
  try {
    load_config(path, none);
    ADD_FAILURE() << "unknown key accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("working_hours.lunch"), std::string::npos) << e.what();
  }
  test::write_file(path, "reminders:\n  cadence:\n    - {kind: ask, on_due: maybe}\n");
  EXPECT_THROW(load_config(path, none), ConfigError);
}

TEST(Reminders, AZoneAPlatformReportedPlacesRemindersInThatPersonsHours) {
  // Bob has no zone in the config; Slack or Teams reported Asia/Tokyo for him. Kenji's
  // configured zone wins over a different one reported by a platform.
  Harness h([](Config& c) {
    for (auto& p : c.people)
      if (p.id == "bob") p.timezone.clear();
  });
  auto& store = h.app().store();
  EXPECT_TRUE(store.remember_timezone("bob", "Asia/Tokyo"));
  EXPECT_FALSE(store.remember_timezone("bob", "Asia/Tokyo"));  // unchanged
  EXPECT_FALSE(store.remember_timezone("bob", "Mars/Olympus_Mons"));
  EXPECT_TRUE(store.remember_timezone("kenji", "America/Los_Angeles"));
  EXPECT_EQ(store.hgetall(store.keys().learned_timezones())->at("bob"), "Asia/Tokyo");

  put_item(h, "ASK-1", "ask", "bob", "2026-12-07");
  put_item(h, "ASK-2", "ask", "kenji", "2026-12-07");
  const auto bob = run(h, at("2026-12-01T15:00:00Z"), at("2026-12-08T12:00:00Z"), 30min, "bob");
  EXPECT_EQ(h.app().people().timezone_of(*h.app().people().find("bob")), "Asia/Tokyo");
  EXPECT_EQ(h.app().people().timezone_of(*h.app().people().find("kenji")), "Asia/Tokyo");
  EXPECT_EQ(local_days(bob, "Asia/Tokyo"),
            (std::vector<std::string>{"2026-12-02", "2026-12-04", "2026-12-07"}));
  expect_in_working_hours(bob, "Asia/Tokyo");
  ASSERT_FALSE(bob.empty());
  EXPECT_EQ(bob[0].when, at("2026-12-02T00:00:00Z"));  // 09:00 in Tokyo, not in New York
}

TEST(Reports, ReadinessPostsOnceEachAt60And30And14Days) {
  Harness h([](Config& c) { c.reports.audit_window_start = "2027-02-15"; });
  put_item(h, "GAP-1", "gap", "bob", "2027-03-01", "critical");
  std::vector<std::string> titles;
  for (TimePoint t = at("2026-12-01T15:00:00Z"); t <= at("2027-02-16T15:00:00Z"); t += 24h) {
    h.run_scheduler(t);
    h.run_scheduler(t + 1h);
    if (t == at("2027-01-10T15:00:00Z")) h.restart_app();  // jobs re-ensured: still once each
  }
  for (const auto& m : h.sent_to("compliance")) {
    if (m.key.rfind("report:readiness:", 0) == 0) titles.push_back(m.title);
  }
  EXPECT_EQ(titles, (std::vector<std::string>{"Audit readiness: 60 days to the window",
                                              "Audit readiness: 30 days to the window",
                                              "Audit readiness: 14 days to the window"}));
  // Weekly digest: Mondays at 09:00 New York, 11 of them from Dec 7 to Feb 15.
  int digests = 0;
  for (const auto& m : h.sent_to("compliance"))
    digests += m.key.rfind("report:digest:", 0) == 0;
  EXPECT_EQ(digests, 11);
}

TEST(Reports, StatusShowsFiguresFromWhatExists) {
  Harness h([](Config& c) { c.reports.audit_window_start = "2027-01-30"; });
  put_item(h, "GAP-1", "gap", "bob", "2026-12-20", "critical");
  put_item(h, "GAP-2", "gap", "bob", "2026-12-20", "minor");
  const Reply r = h.command("alice", "status");
  ASSERT_FALSE(r.error) << r.text;
  std::map<std::string, std::string> f;
  for (const auto& x : r.fields)
    f[x.label] = x.value;
  EXPECT_EQ(f["Open gaps"], "2 (critical 1, minor 1)");
  EXPECT_EQ(f["Days to the audit window"], "60");
  EXPECT_EQ(f["Evidence by TSC category"], "CC 0% (0/2)");
}

}  // namespace
}  // namespace auditbot
