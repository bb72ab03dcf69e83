// Reminders, escalation and self-posted reports through the whole app with a fake clock:
// DMs land in each person's own working hours, holidays move them, the ladder climbs on
// the expected days and stops when the item is resolved, reports post once each.
#include <gtest/gtest.h>

#include "handlers/items.hpp"
#include "tests/support/harness.hpp"

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
