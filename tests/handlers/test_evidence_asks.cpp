// The evidence-ask flow as people live it: a liaison asks, the owner submits, the liaison
// accepts or rejects; every wrong move gets one line and changes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const Button* find_button(const Message& m, const std::string& action) {
  for (const auto& b : m.buttons) {
    if (b.action_id == action) return &b;
  }
  return nullptr;
}

class EvidenceAskFlow : public ::testing::Test {
 protected:
  Harness h;

  // Snapshot of what a rejected command must leave untouched.
  struct Snapshot {
    std::int64_t keys;
    std::size_t audit;
    std::size_t delivered;
  };
  Snapshot snapshot() { return {h.redis_key_count(), h.audit_entries().size(), h.delivered()}; }
  void expect_unchanged(const Snapshot& before) {
    EXPECT_EQ(h.redis_key_count(), before.keys);
    EXPECT_EQ(h.audit_entries().size(), before.audit);
    EXPECT_EQ(h.delivered(), before.delivered);
  }
};

TEST_F(EvidenceAskFlow, LiaisonCreatesAskAndOwnerGetsDmWithButtons) {
  const Reply r = h.command("lena", "ask @bob AC-01 \"Q4 access review export\" due 2026-12-11");
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_THAT(r.text, HasSubstr("Created ASK-1 for Bob Li (@bob)"));

  const auto item = h.item("ASK-1");
  EXPECT_EQ(item.at("status"), "open");
  EXPECT_EQ(item.at("owner"), "bob");
  EXPECT_EQ(item.at("control"), "AC-01");
  EXPECT_EQ(item.at("due"), "2026-12-11");
  EXPECT_EQ(item.at("created_by"), "lena");

  const auto to_bob = h.sent_to("bob");
  ASSERT_EQ(to_bob.size(), 1u);
  EXPECT_EQ(to_bob[0].title, "Evidence needed: ASK-1");
  EXPECT_EQ(to_bob[0].text, "Q4 access review export");
  ASSERT_NE(find_button(to_bob[0], "ask.submit"), nullptr);
  ASSERT_NE(find_button(to_bob[0], "ask.more_time"), nullptr);
  ASSERT_NE(find_button(to_bob[0], "ask.reassign"), nullptr);
  EXPECT_EQ(find_button(to_bob[0], "ask.submit")->value, "ASK-1");
  EXPECT_TRUE(h.sent_to("lena").empty());

  const auto audit = h.audit_entries();
  ASSERT_EQ(audit.size(), 2u);  // controls seeded, then the ask
  EXPECT_EQ(audit[1].action, "ask.created");
  EXPECT_EQ(audit[1].actor, "lena");
  EXPECT_EQ(audit[1].item, "ASK-1");
  EXPECT_TRUE(verify_audit_log(h.app().store()).ok);
}

TEST_F(EvidenceAskFlow, SubmitThenAcceptClosesTheAsk) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review export\" due 2026-12-11 period 2026-Q4");
  const Reply sub = h.press_latest(
      "bob", "ask.submit", {{"link", "https://drive.example/ar-q4.pdf"}, {"note", "signed by IT"}});
  EXPECT_FALSE(sub.error) << sub.text;
  EXPECT_THAT(sub.text, HasSubstr("Lena Fischer"));
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");

  const auto to_lena = h.sent_to("lena");
  ASSERT_EQ(to_lena.size(), 1u);
  EXPECT_EQ(to_lena[0].title, "Evidence to review: ASK-1");
  ASSERT_NE(find_button(to_lena[0], "ask.accept"), nullptr);
  ASSERT_NE(find_button(to_lena[0], "ask.reject"), nullptr);
  // The owner's message lost its buttons: nothing left to press while in review.
  const Message* bob_msg = h.latest("bob", "ask:ASK-1:owner");
  ASSERT_NE(bob_msg, nullptr);
  EXPECT_TRUE(bob_msg->buttons.empty());

  const Reply acc = h.press_latest("lena", "ask.accept");
  EXPECT_FALSE(acc.error) << acc.text;
  const auto item = h.item("ASK-1");
  EXPECT_EQ(item.at("status"), "accepted");
  EXPECT_EQ(item.at("decided_by"), "lena");
  EXPECT_EQ(item.at("link"), "https://drive.example/ar-q4.pdf");
  bob_msg = h.latest("bob", "ask:ASK-1:owner");
  EXPECT_THAT(bob_msg->context, HasSubstr("Accepted by Lena Fischer"));

  EXPECT_THAT(h.command("bob", "mine").text, HasSubstr("no open items"));
  EXPECT_THAT(h.command("lena", "mine").text, HasSubstr("no open items"));

  std::vector<std::string> actions;
  for (const auto& e : h.audit_entries())
    actions.push_back(e.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"controls.seeded", "ask.created", "ask.submitted",
                                               "ask.accepted"}));
  EXPECT_TRUE(verify_audit_log(h.app().store()).ok);
}

TEST_F(EvidenceAskFlow, RejectReopensWithReasonAndOldReviewButtonIsStale) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11");
  h.press_latest("bob", "ask.submit", {{"link", "https://drive.example/v1.pdf"}});
  const std::string first_review_value = h.sent_to("lena").back().buttons.front().value;
  const Reply rej = h.press_latest("lena", "ask.reject", {{"reason", "missing the database tier"}});
  EXPECT_FALSE(rej.error) << rej.text;
  auto item = h.item("ASK-1");
  EXPECT_EQ(item.at("status"), "open");
  EXPECT_EQ(item.at("reject_reason"), "missing the database tier");
  const Message* bob_msg = h.latest("bob", "ask:ASK-1:owner");
  EXPECT_THAT(bob_msg->context, HasSubstr("missing the database tier"));
  EXPECT_NE(find_button(*bob_msg, "ask.submit"), nullptr);

  h.press_latest("bob", "ask.submit", {{"link", "https://drive.example/v2.pdf"}});
  EXPECT_EQ(h.item("ASK-1").at("submissions"), "2");
  const auto before = h.audit_entries().size();
  // A press on the first review's Accept must not accept the second submission.
  const Reply stale = h.press("lena", "ask.accept", first_review_value);
  EXPECT_TRUE(stale.error);
  EXPECT_THAT(stale.text, HasSubstr("out of date"));
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");
  EXPECT_EQ(h.audit_entries().size(), before);
}

TEST_F(EvidenceAskFlow, RejectWithoutReasonIsRefused) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11");
  h.press_latest("bob", "ask.submit", {{"link", "https://drive.example/v1.pdf"}});
  const auto before = snapshot();
  const Reply r = h.press_latest("lena", "ask.reject", {});
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("Say why"));
  expect_unchanged(before);
}

TEST_F(EvidenceAskFlow, CriterionResolvesToTheOnlyControlMappingIt) {
  const Reply r = h.command("lena", "ask @kenji CC8.1 \"PR sample\" due +3bd");
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("ASK-1").at("control"), "CM-01");
  // Tuesday 2026-12-01 + 3 business days = Friday 2026-12-04.
  EXPECT_EQ(h.item("ASK-1").at("due"), "2026-12-04");
}

TEST_F(EvidenceAskFlow, DefaultDueDateIsTheSlaInBusinessDays) {
  h.command("alice", "ask @bob AC-01 \"export\"");
  EXPECT_EQ(h.item("ASK-1").at("due"), "2026-12-08");  // 5 business days after Tue 12-01
}

TEST_F(EvidenceAskFlow, BadCommandsGetOneLineAndChangeNothing) {
  const auto before = snapshot();
  struct Case {
    std::string person, text, expect;
  };
  const std::vector<Case> cases = {
      {"lena", "asq @bob AC-01 \"x\"", "Did you mean: /soc2 ask"},
      {"lena", "ask @bob AC-01 \"x\" due 2026-13-40", "2026-13-40"},
      {"lena", "ask @zed AC-01 \"x\" due 2026-12-11", "@zed"},
      {"lena", "ask @bob ZZ-99 \"x\" due 2026-12-11", "no control ZZ-99"},
      {"lena", "ask @bob CC6.9 \"x\" due 2026-12-11", "no control CC6.9"},
      {"bob", "ask @kenji CM-01 \"x\" due 2026-12-11", "Only a liaison or admin"},
      {"lena", "ask @bob AC-01 \"x\" due 2026-11-02", "in the past"},
      {"lena", "ask @bob AC-01 \"unterminated due 2026-12-11", "quote"},
      {"lena", "ask bob AC-01 \"x\"", "@person"},
  };
  for (const auto& c : cases) {
    const Reply r = h.command(c.person, c.text);
    EXPECT_TRUE(r.error) << c.text;
    EXPECT_THAT(r.text, HasSubstr(c.expect)) << c.text;
    EXPECT_LE(std::count(r.text.begin(), r.text.end(), '\n'), 1) << r.text;
  }
  expect_unchanged(before);
}

TEST_F(EvidenceAskFlow, ButtonsPressedByTheWrongPersonChangeNothing) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11");
  auto before = snapshot();
  Reply r = h.press("kenji", "ask.submit", "ASK-1", {{"link", "https://x.example/a"}});
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("assigned to Bob Li"));
  r = h.press("ava", "ask.reassign", "ASK-1", {{"person", "@kenji"}});
  EXPECT_TRUE(r.error);
  r = h.press("kenji", "ask.more_time", "ASK-1", {{"date", "2026-12-20"}, {"reason", "x"}});
  EXPECT_TRUE(r.error);
  expect_unchanged(before);

  h.press_latest("bob", "ask.submit", {{"link", "https://drive.example/v1.pdf"}});
  before = snapshot();
  r = h.press("bob", "ask.accept", "ASK-1/1");  // owners do not accept their own evidence
  EXPECT_TRUE(r.error);
  r = h.press("ava", "ask.accept", "ASK-1/1");  // auditors do not review
  EXPECT_TRUE(r.error);
  r = h.press("lena", "ask.nonsense", "ASK-1/1");
  EXPECT_TRUE(r.error);
  expect_unchanged(before);
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");
}

TEST_F(EvidenceAskFlow, BadInputsOnButtonsChangeNothing) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11");
  const auto before = snapshot();
  EXPECT_TRUE(h.press("bob", "ask.submit", "ASK-1", {{"link", "not a link"}}).error);
  EXPECT_TRUE(
      h.press("bob", "ask.more_time", "ASK-1", {{"date", "2026-12-05"}, {"reason", "x"}}).error);
  EXPECT_TRUE(h.press("bob", "ask.more_time", "ASK-1", {{"date", "2026-12-20"}}).error);
  EXPECT_TRUE(h.press("bob", "ask.more_time", "ASK-1", {{"date", "soon"}, {"reason", "x"}}).error);
  EXPECT_TRUE(h.press("bob", "ask.reassign", "ASK-1", {{"person", "@nobody"}}).error);
  EXPECT_TRUE(h.press("bob", "ask.submit", "ASK-99", {{"link", "https://x.example/a"}}).error);
  expect_unchanged(before);
}

TEST_F(EvidenceAskFlow, MoreTimeMovesTheDueDateAndTellsTheLiaison) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11");
  const Reply r = h.press_latest("bob", "ask.more_time",
                                 {{"date", "2026-12-18"}, {"reason", "waiting on the IdP export"}});
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("ASK-1").at("due"), "2026-12-18");
  const auto to_lena = h.sent_to("lena");
  ASSERT_EQ(to_lena.size(), 1u);
  EXPECT_THAT(to_lena[0].text, HasSubstr("from 2026-12-11 to 2026-12-18"));
  EXPECT_EQ(to_lena[0].fields.back().value, "waiting on the IdP export");
  EXPECT_EQ(h.audit_entries().back().action, "ask.extended");
}

TEST_F(EvidenceAskFlow, ReassignMovesTheAskAndRetiresTheOldButtons) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11");
  const Reply r = h.press_latest("bob", "ask.reassign", {{"person", "@kenji"}});
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("ASK-1").at("owner"), "kenji");
  const Message* old_msg = h.latest("bob", "ask:ASK-1:owner");
  EXPECT_TRUE(old_msg->buttons.empty());
  EXPECT_THAT(old_msg->context, HasSubstr("Reassigned to Kenji Sato"));
  ASSERT_EQ(h.sent_to("kenji").size(), 1u);
  EXPECT_THAT(h.command("kenji", "mine").text, HasSubstr("ASK-1"));
  EXPECT_THAT(h.command("bob", "mine").text, HasSubstr("no open items"));
  EXPECT_TRUE(h.press("bob", "ask.submit", "ASK-1", {{"link", "https://x.example/a"}}).error);
}

TEST_F(EvidenceAskFlow, RedeliveredEventChangesStateOnce) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11", "Ev1");
  const Reply again =
      h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11", "Ev1");
  EXPECT_THAT(again.text, HasSubstr("already recorded"));
  EXPECT_EQ(h.sent_to("bob").size(), 1u);
  EXPECT_TRUE(h.item("ASK-2").empty());

  h.press("bob", "ask.submit", "ASK-1", {{"link", "https://x.example/a"}}, "Ev2");
  h.press("bob", "ask.submit", "ASK-1", {{"link", "https://x.example/a"}}, "Ev2");
  EXPECT_EQ(h.item("ASK-1").at("submissions"), "1");
  EXPECT_EQ(h.sent_to("lena").size(), 1u);
}

TEST_F(EvidenceAskFlow, MineShowsDueDatesAndOverdue) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-03");
  h.command("lena", "ask @bob AC-01 \"Q3 access review\" due 2026-12-02");
  h.clock().set(*parse_iso8601("2026-12-04T18:00:00Z"));  // Friday morning in Los Angeles
  const std::string text = h.command("bob", "mine").text;
  EXPECT_THAT(text, HasSubstr("Your open items (2)"));
  const auto first = text.find("ASK-2");
  const auto second = text.find("ASK-1");
  ASSERT_NE(first, std::string::npos);
  EXPECT_LT(first, second);  // soonest due first
  EXPECT_THAT(text, HasSubstr("due 2026-12-02 (overdue by 2 days)"));
  EXPECT_THAT(text, HasSubstr("due 2026-12-03 (overdue by 1 day)"));
}

TEST_F(EvidenceAskFlow, StateSurvivesRestartOfBotAndRedis) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11");
  h.press_latest("bob", "ask.submit", {{"link", "https://drive.example/v1.pdf"}});
  h.redis().stop();
  h.redis().restart();
  h.restart_app();
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");
  EXPECT_EQ(h.audit_entries().size(), 3u);
  EXPECT_TRUE(verify_audit_log(h.app().store()).ok);
  const Reply acc = h.press("lena", "ask.accept", "ASK-1/1");
  EXPECT_FALSE(acc.error) << acc.text;
  EXPECT_EQ(h.item("ASK-1").at("status"), "accepted");
  // Ids continue after a restart rather than starting again.
  h.command("lena", "ask @bob AC-01 \"again\" due 2026-12-11");
  EXPECT_EQ(h.item("ASK-2").at("status"), "open");
}

TEST_F(EvidenceAskFlow, OwnersAndLiaisonsSeeAnAskOthersDoNot) {
  h.command("lena", "ask @bob AC-01 \"Q4 access review\" due 2026-12-11");
  EXPECT_THAT(h.command("bob", "ask ASK-1").text, StartsWith("ASK-1 · AC-01"));
  EXPECT_FALSE(h.command("alice", "ask ASK-1").error);
  EXPECT_TRUE(h.command("kenji", "ask ASK-1").error);
  EXPECT_TRUE(h.command("lena", "ask ASK-7").error);
}

}  // namespace
}  // namespace auditbot::test
