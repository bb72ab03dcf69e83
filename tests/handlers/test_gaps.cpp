// Gaps as the compliance team lives them: recorded by command, form or finding; a critical
// one proposed for risk acceptance, declined, remediated and re-assessed; the weekly status.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const Button* find_button(const Message& m, const std::string& action) {
  for (const auto& b : m.buttons) {
    if (b.action_id == action) return &b;
  }
  return nullptr;
}

class GapFlow : public ::testing::Test {
 protected:
  Harness h;

  struct Snapshot {
    std::int64_t keys;
    std::size_t audit;
    std::size_t delivered;
    std::map<std::string, std::string> gap;
  };
  Snapshot snapshot(const std::string& id = "GAP-1") {
    return {h.redis_key_count(), h.audit_entries().size(), h.delivered(), h.item(id)};
  }
  void expect_unchanged(const Snapshot& before, const std::string& id = "GAP-1") {
    EXPECT_EQ(h.redis_key_count(), before.keys);
    EXPECT_EQ(h.audit_entries().size(), before.audit);
    EXPECT_EQ(h.delivered(), before.delivered);
    EXPECT_EQ(h.item(id), before.gap);
  }
  std::vector<nlohmann::json> history(const std::string& id) {
    std::vector<nlohmann::json> out;
    for (const auto& s : h.app().store().lrange(h.app().store().keys().item_history(id)))
      out.push_back(nlohmann::json::parse(s));
    return out;
  }
  const AuditEntry* last_audit(const std::string& action) {
    static std::vector<AuditEntry> all;
    all = h.audit_entries();
    const AuditEntry* found = nullptr;
    for (const auto& e : all)
      if (e.action == action) found = &e;
    return found;
  }
};

TEST_F(GapFlow, CriticalGapRiskDeclinedThenRemediatedAndReassessed) {
  const Reply add = h.command(
      "lena",
      "gap add critical @bob AC-01 CC6.2 \"No quarterly access review in Q3\" due 2026-12-31 "
      "plan \"Run the review, then automate the export\" compensating \"Monthly admin list "
      "check\"");
  ASSERT_FALSE(add.error) << add.text;
  EXPECT_THAT(add.text, HasSubstr("Recorded GAP-1 (critical) for Bob Li (@bob)"));
  auto gap = h.item("GAP-1");
  EXPECT_EQ(gap.at("severity"), "critical");
  EXPECT_EQ(gap.at("status"), "open");
  EXPECT_EQ(gap.at("controls"), "AC-01,CC6.2");
  EXPECT_EQ(gap.at("due"), "2026-12-31");
  EXPECT_EQ(gap.at("compensating"), "Monthly admin list check");
  EXPECT_THAT(h.command("bob", "mine").text, HasSubstr("GAP-1 · critical gap: No quarterly"));

  // Only the owner proposes risk acceptance.
  auto before = snapshot();
  EXPECT_TRUE(h.press("kenji", "gap.propose_risk", "GAP-1", {{"rationale", "x"}}).error);
  EXPECT_TRUE(h.press_latest("bob", "gap.propose_risk", {{"rationale", ""}}).error);
  expect_unchanged(before);

  const Reply propose = h.press_latest(
      "bob", "gap.propose_risk", {{"rationale", "Only two admins; the monthly check covers it"}});
  ASSERT_FALSE(propose.error) << propose.text;
  EXPECT_EQ(h.item("GAP-1").at("status"), "risk_review");
  const auto to_dana = h.sent_to("dana");
  ASSERT_EQ(to_dana.size(), 1u);
  EXPECT_THAT(to_dana[0].title, HasSubstr("Risk acceptance to decide: GAP-1 (critical)"));
  ASSERT_NE(find_button(to_dana[0], "gap.risk_approve"), nullptr);

  // Not an approver: nothing happens.
  before = snapshot();
  EXPECT_THAT(h.press("lena", "gap.risk_approve", "GAP-1/1").text,
              HasSubstr("Only a approver can decide on risk acceptance"));
  expect_unchanged(before);

  h.clock().advance(std::chrono::hours(2));
  const Reply decline = h.press_latest("dana", "gap.risk_decline",
                                       {{"reason", "Critical gaps are fixed, not accepted"}});
  ASSERT_FALSE(decline.error) << decline.text;
  EXPECT_THAT(decline.text, HasSubstr("stays open for remediation"));
  gap = h.item("GAP-1");
  EXPECT_EQ(gap.at("status"), "open");
  EXPECT_EQ(gap.at("decided_by"), "dana");
  EXPECT_EQ(gap.at("decided_at"), "2026-12-01T17:00:00Z");
  const auto hist = history("GAP-1");
  ASSERT_EQ(hist.size(), 2u);
  EXPECT_EQ(hist[1]["risk_decision"], "declined");
  EXPECT_EQ(hist[1]["by"], "dana");
  EXPECT_EQ(hist[1]["at"], "2026-12-01T17:00:00Z");
  EXPECT_EQ(hist[1]["state"]["status"], "risk_review");
  EXPECT_EQ(hist[1]["state"]["severity"], "critical");
  EXPECT_EQ(hist[1]["state"]["rationale"], "Only two admins; the monthly check covers it");
  const AuditEntry* declined = last_audit("gap.risk_declined");
  ASSERT_NE(declined, nullptr);
  EXPECT_EQ(declined->actor, "dana");
  EXPECT_THAT(declined->detail, HasSubstr("\"status\":\"risk_review\""));
  EXPECT_THAT(h.sent_to("bob").back().context, HasSubstr("Risk acceptance declined: Critical"));

  // The stale approve button from that round now records nothing.
  before = snapshot();
  const Reply stale = h.press("dana", "gap.risk_approve", "GAP-1/1");
  EXPECT_TRUE(stale.error);
  EXPECT_THAT(stale.text, HasSubstr("out of date"));
  expect_unchanged(before);

  // Remediation: a fix without evidence is refused; with a link it goes to the liaison.
  before = snapshot();
  EXPECT_THAT(h.command("bob", "gap fix GAP-1 not-a-link").text, HasSubstr("web address"));
  expect_unchanged(before);
  ASSERT_FALSE(
      h.command("bob", "gap fix GAP-1 https://drive.example/q3-review.pdf \"done by IT\"").error);
  EXPECT_EQ(h.item("GAP-1").at("status"), "fix_review");
  ASSERT_NE(find_button(h.sent_to("lena").back(), "gap.fix_reopen"), nullptr);
  const Reply reopen =
      h.press_latest("lena", "gap.fix_reopen", {{"reason", "The export is missing two systems"}});
  ASSERT_FALSE(reopen.error) << reopen.text;
  EXPECT_EQ(h.item("GAP-1").at("status"), "open");
  EXPECT_EQ(h.item("GAP-1").at("reopen_reason"), "The export is missing two systems");
  EXPECT_EQ(h.sent_to("bob").back().context, "Reopened: The export is missing two systems");

  h.press_latest("bob", "gap.fix", {{"link", "https://drive.example/q3-review-v2.pdf"}});
  before = snapshot();
  EXPECT_TRUE(h.press("lena", "gap.fix_accept", "GAP-1/1").error);  // round 1 was reopened
  expect_unchanged(before);
  const Reply accept = h.press_latest("lena", "gap.fix_accept");
  ASSERT_FALSE(accept.error) << accept.text;
  EXPECT_THAT(accept.text, HasSubstr("GAP-1 is closed"));
  gap = h.item("GAP-1");
  EXPECT_EQ(gap.at("status"), "closed");
  EXPECT_EQ(gap.at("fix_link"), "https://drive.example/q3-review-v2.pdf");
  EXPECT_THAT(h.command("bob", "mine").text, HasSubstr("no open items"));
  EXPECT_THAT(h.command("lena", "gap GAP-1").text, HasSubstr("GAP-1 · critical · closed"));
  EXPECT_TRUE(verify_audit_log(h.app().store()).ok);
}

TEST_F(GapFlow, ApprovedRiskAcceptanceClosesTheGapWithTheRecord) {
  ASSERT_FALSE(h.command("lena", "gap add minor @kenji CM-01 \"Two merges without review\"").error);
  EXPECT_EQ(h.item("GAP-1").at("due"), "2027-03-01");  // minor: 90 days by default
  h.press_latest("kenji", "gap.propose_risk", {{"rationale", "Emergency fixes, reviewed after"}});
  const Reply ok = h.press_latest("dana", "gap.risk_approve");
  ASSERT_FALSE(ok.error) << ok.text;
  EXPECT_EQ(h.item("GAP-1").at("status"), "risk_accepted");
  const AuditEntry* e = last_audit("gap.risk_accepted");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->actor, "dana");
  EXPECT_THAT(e->detail, HasSubstr("Emergency fixes, reviewed after"));
  EXPECT_THAT(h.command("lena", "gap list").text, HasSubstr("No open gaps"));
}

TEST_F(GapFlow, BadInputIsOneLineAndWritesNothing) {
  const auto keys = h.redis_key_count();
  const auto audit = h.audit_entries().size();
  EXPECT_THAT(h.command("bob", "gap add critical @bob AC-01 \"x\"").text,
              HasSubstr("Only a liaison or admin can record gaps"));
  EXPECT_THAT(h.command("lena", "gap add urgent @bob AC-01 \"x\"").text,
              HasSubstr("critical, significant or minor"));
  EXPECT_THAT(h.command("lena", "gap add critical @nobody AC-01 \"x\"").text,
              HasSubstr("'@nobody'"));
  EXPECT_THAT(h.command("lena", "gap add critical @bob ZZ-99 \"x\"").text,
              HasSubstr("no control ZZ-99"));
  EXPECT_THAT(h.command("lena", "gap add critical @bob AC-01 \"x\" due 2026-01-01").text,
              HasSubstr("in the past"));
  EXPECT_THAT(h.command("lena", "gap list urgent").text, HasSubstr("expected critical"));
  EXPECT_TRUE(h.command("lena", "gap GAP-9").error);
  EXPECT_EQ(h.redis_key_count(), keys);
  EXPECT_EQ(h.audit_entries().size(), audit);
}

TEST_F(GapFlow, FormFindingAndListFilters) {
  const Reply form = h.command("lena", "gap new");
  ASSERT_EQ(form.buttons.size(), 1u);
  EXPECT_EQ(form.buttons[0].action_id, "gap.create");
  const Reply created = h.press("lena", "gap.create", "new",
                                {{"severity", "Significant"},
                                 {"owner", "@kenji"},
                                 {"controls", "CM-01, CC8.1"},
                                 {"title", "No rollback plan in change tickets"},
                                 {"due", "2026-12-10"}});
  ASSERT_FALSE(created.error) << created.text;
  EXPECT_EQ(h.item("GAP-1").at("controls"), "CM-01,CC8.1");
  EXPECT_EQ(h.item("GAP-1").at("severity"), "significant");

  GapDraft d;
  d.severity = "critical";
  d.owner = "bob";
  d.controls = {"AC-01"};
  d.title = "Terminated users kept access";
  d.due = *parse_date("2026-12-05");
  const std::string id = h.app().gaps().open_from_finding("F-1", d, "lena");
  EXPECT_EQ(id, "GAP-2");
  h.deliver();
  EXPECT_EQ(h.item("GAP-2").at("source"), "F-1");
  EXPECT_THAT(h.sent_to("bob").back().title, HasSubstr("Gap to remediate: GAP-2 (critical)"));

  h.clock().set(*parse_iso8601("2026-12-08T15:00:00Z"));
  const std::string critical = h.command("lena", "gap list critical").text;
  EXPECT_THAT(critical, HasSubstr("GAP-2"));
  EXPECT_THAT(critical, Not(HasSubstr("GAP-1")));
  const std::string overdue = h.command("lena", "gap list overdue").text;
  EXPECT_THAT(overdue, HasSubstr("GAP-2 · critical · Terminated users kept access · @bob · "
                                 "target 2026-12-05 (overdue)"));
  EXPECT_THAT(overdue, Not(HasSubstr("GAP-1")));
  const std::string kenji = h.command("lena", "gap list @kenji").text;
  EXPECT_THAT(kenji, HasSubstr("GAP-1"));
  EXPECT_THAT(kenji, Not(HasSubstr("GAP-2")));
}

TEST_F(GapFlow, WeeklyStatusComparesWithLastWeek) {
  h.command("lena", "gap add critical @bob AC-01 \"A\" due 2026-12-04");
  h.command("lena", "gap add minor @kenji CM-01 \"B\"");
  const Message first =
      GapReport(h.app().services()).weekly(*parse_iso8601("2026-12-07T14:00:00Z"));
  h.deliver();
  EXPECT_EQ(first.to, Recipient::channel("compliance"));
  EXPECT_EQ(first.text, "2 open gaps, 1 overdue.");

  h.clock().set(*parse_iso8601("2026-12-09T15:00:00Z"));
  h.press_latest("kenji", "gap.fix", {{"link", "https://drive.example/fix.pdf"}});
  h.press_latest("lena", "gap.fix_accept");
  const Message second =
      GapReport(h.app().services()).weekly(*parse_iso8601("2026-12-14T14:00:00Z"));
  h.deliver();
  EXPECT_EQ(second.text, "1 open gap (last week 2), 1 overdue (last week 1).");
  std::map<std::string, std::string> f;
  for (const auto& x : second.fields)
    f[x.label] = x.value;
  EXPECT_EQ(f["Opened this week"], "0 (last week 2)");
  EXPECT_EQ(f["Closed this week"], "1 (last week 0)");
  EXPECT_EQ(f["Open critical"], "1 (last week 1)");
  EXPECT_EQ(f["Open minor"], "0 (last week 1)");
  EXPECT_EQ(h.sent_to("compliance").size(), 2u);
}

}  // namespace
}  // namespace auditbot::test
