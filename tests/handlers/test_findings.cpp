// Findings as the liaison, the approver and the auditor live them: record the auditor's
// wording, review its accuracy, draft the management response in a form, get it approved,
// export it for the report, open a gap; every wrong or stale move changes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

const std::string kWording =
    "Two of 25 sampled terminated users kept production access for more than 30 days.";

class FindingFlow : public ::testing::Test {
 protected:
  Harness h;

  struct Snapshot {
    std::int64_t keys;
    std::size_t audit;
    std::size_t delivered;
    std::map<std::string, std::string> item;
  };
  Snapshot snapshot(const std::string& id = "F-1") {
    return {h.redis_key_count(), h.audit_entries().size(), h.delivered(), h.item(id)};
  }
  void expect_unchanged(const Snapshot& before, const std::string& id = "F-1") {
    EXPECT_EQ(h.redis_key_count(), before.keys);
    EXPECT_EQ(h.audit_entries().size(), before.audit);
    EXPECT_EQ(h.delivered(), before.delivered);
    EXPECT_EQ(h.item(id), before.item);
  }

  // REQ-1 about AC-01, then F-1 recorded by lena from it.
  void record() {
    ASSERT_FALSE(h.command("lena", "request add \"Terminated users list Q3\" control AC-01").error);
    const Reply r = h.command("lena", "finding add \"" + kWording +
                                          "\" ref \"EXC-04\" control AC-01 CC6.2 request REQ-1");
    ASSERT_FALSE(r.error) << r.text;
  }
  void review_accurate() { ASSERT_FALSE(h.command("lena", "finding F-1 accurate").error); }
  Reply draft(std::map<std::string, std::string> inputs = {}) {
    std::map<std::string, std::string> in{{"root_cause",
                                           "HR offboarding tickets were not linked "
                                           "to the IdP deprovisioning job"},
                                          {"plan",
                                           "Automate deprovisioning from the HRIS feed; "
                                           "weekly reconciliation until then"},
                                          {"target", "2027-02-26"},
                                          {"owner", "@bob"}};
    for (auto& [k, v] : inputs)
      in[k] = v;
    return h.press_latest("lena", "finding.respond", in);
  }
};

TEST_F(FindingFlow, LiaisonRecordsTheAuditorsWordingWithControlsAndRequests) {
  record();
  EXPECT_THAT(h.sent_to("lena").back().title, HasSubstr("Finding F-1 (EXC-04)"));
  const auto f = h.item("F-1");
  EXPECT_EQ(f.at("kind"), "finding");
  EXPECT_EQ(f.at("status"), "open");
  EXPECT_EQ(f.at("wording"), kWording);
  EXPECT_EQ(f.at("auditor_ref"), "EXC-04");
  EXPECT_EQ(f.at("controls"), "AC-01 CC6.2");
  EXPECT_EQ(f.at("requests"), "REQ-1");
  EXPECT_EQ(f.at("recorded_by"), "lena");
  // Response due in the request SLA (5 business days from Tue 2026-12-01 in Berlin).
  EXPECT_EQ(f.at("due"), "2026-12-08");

  const auto audit = h.audit_entries();
  EXPECT_EQ(audit.back().action, "finding.recorded");
  EXPECT_EQ(audit.back().actor, "lena");
  EXPECT_THAT(audit.back().detail, HasSubstr("EXC-04"));

  const Message* latest = h.latest("lena", "finding:F-1:liaison:");
  ASSERT_NE(latest, nullptr);
  const Message& form = *latest;
  EXPECT_EQ(form.text, kWording);
  ASSERT_NE(find_button(form, "finding.review"), nullptr);
  ASSERT_NE(find_button(form, "finding.respond"), nullptr);
  ASSERT_NE(find_button(form, "finding.gap"), nullptr);
  // The response form asks for the four parts of a management response.
  const auto& inputs = find_button(form, "finding.respond")->inputs;
  ASSERT_EQ(inputs.size(), 4u);
  EXPECT_EQ(inputs[0].name, "root_cause");
  EXPECT_EQ(inputs[1].name, "plan");
  EXPECT_EQ(inputs[2].kind, Input::Kind::date);
  EXPECT_EQ(inputs[3].kind, Input::Kind::person);

  // It is in lena's open items until the response is approved.
  const Reply mine = h.command("lena", "mine");
  EXPECT_THAT(mine.text, HasSubstr("F-1"));
}

TEST_F(FindingFlow, OnlyALiaisonRecordsAndBadReferencesWriteNothing) {
  ASSERT_FALSE(h.command("lena", "request add \"Terminated users list Q3\" control AC-01").error);
  const auto before = snapshot();
  Reply r = h.command("bob", "finding add \"" + kWording + "\" control AC-01");
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("liaison"));
  r = h.command("lena", "finding add \"" + kWording + "\" control ZZ-99");
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("ZZ-99"));
  r = h.command("lena", "finding add \"" + kWording + "\" request REQ-7");
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("REQ-7"));
  r = h.command("lena", "finding add control AC-01");
  EXPECT_TRUE(r.error);
  expect_unchanged(before);
  EXPECT_TRUE(h.item("F-1").empty());
}

TEST_F(FindingFlow, SameDeliveryTwiceRecordsOneFinding) {
  h.command("lena", "finding add \"" + kWording + "\" control AC-01", "ev-1");
  const Reply again = h.command("lena", "finding add \"" + kWording + "\" control AC-01", "ev-1");
  EXPECT_THAT(again.text, HasSubstr("already recorded"));
  EXPECT_FALSE(h.item("F-1").empty());
  EXPECT_TRUE(h.item("F-2").empty());
}

TEST_F(FindingFlow, AccuracyReviewNeedsAReasonWhenInaccurate) {
  record();
  const auto before = snapshot();
  Reply r = h.command("lena", "finding F-1 inaccurate");
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("why"));
  r = h.press_latest("lena", "finding.review", {{"verdict", "maybe"}});
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("accurate, inaccurate or mitigating"));
  r = h.command("bob", "finding F-1 accurate");
  EXPECT_TRUE(r.error);
  expect_unchanged(before);

  r = h.press_latest(
      "lena", "finding.review",
      {{"verdict", "mitigating"},
       {"note", "Both accounts were disabled in the IdP; only the VPN group lingered."}});
  EXPECT_FALSE(r.error) << r.text;
  const auto f = h.item("F-1");
  EXPECT_EQ(f.at("accuracy"), "mitigating");
  EXPECT_THAT(f.at("accuracy_note"), HasSubstr("VPN group"));
  EXPECT_EQ(f.at("reviewed_by"), "lena");
  EXPECT_EQ(h.audit_entries().back().action, "finding.reviewed");
  EXPECT_THAT(h.sent_to("lena").back().fields.back().value, HasSubstr("management response"));
}

TEST_F(FindingFlow, ResponseDraftedInTheFormIsApprovedAndExportedForTheReport) {
  record();
  // The response waits for the accuracy review.
  const auto before = snapshot();
  Reply r = draft();
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("factual-accuracy review"));
  expect_unchanged(before);

  review_accurate();
  r = draft();
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_THAT(r.text, HasSubstr("Dana Okafor"));
  auto f = h.item("F-1");
  EXPECT_EQ(f.at("status"), "response_in_review");
  EXPECT_EQ(f.at("target"), "2027-02-26");
  EXPECT_EQ(f.at("response_owner"), "bob");
  EXPECT_EQ(f.at("drafted_by"), "lena");

  const auto to_dana = h.sent_to("dana");
  ASSERT_EQ(to_dana.size(), 1u);
  EXPECT_EQ(to_dana[0].title, "Management response to approve: F-1");
  ASSERT_NE(find_button(to_dana[0], "finding.approve"), nullptr);
  EXPECT_THAT(h.command("dana", "mine").text, HasSubstr("F-1"));

  // Only an approver decides: not the liaison, not the remediation owner.
  for (const char* who : {"lena", "bob"}) {
    const auto b = snapshot();
    r = h.press(who, "finding.approve", find_button(to_dana[0], "finding.approve")->value);
    EXPECT_TRUE(r.error) << who;
    expect_unchanged(b);
  }

  r = h.press_latest("dana", "finding.approve");
  EXPECT_FALSE(r.error) << r.text;
  f = h.item("F-1");
  EXPECT_EQ(f.at("status"), "approved");
  EXPECT_EQ(f.at("approved_by"), "dana");
  EXPECT_EQ(h.audit_entries().back().action, "finding.response_approved");
  // Bob hears he owns the remediation; nobody has F-1 open any more.
  EXPECT_EQ(h.sent_to("bob").back().title, "You own the remediation of finding F-1");
  EXPECT_THAT(h.command("lena", "mine").text, Not(HasSubstr("F-1")));
  EXPECT_THAT(h.command("dana", "mine").text, Not(HasSubstr("F-1")));
  // The approval message lost its buttons; a second press changes nothing.
  EXPECT_TRUE(h.sent_to("dana").back().buttons.empty());
  const auto after = snapshot();
  r = h.press("dana", "finding.approve", "F-1/1");
  EXPECT_TRUE(r.error);
  expect_unchanged(after);

  const Reply exported = h.command("alice", "finding export");
  EXPECT_FALSE(exported.error) << exported.text;
  EXPECT_THAT(exported.text, HasSubstr("Finding F-1 (EXC-04)"));
  EXPECT_THAT(exported.text, HasSubstr("Auditor's description: " + kWording));
  EXPECT_THAT(exported.text, HasSubstr("Factual accuracy: accurate"));
  EXPECT_THAT(exported.text, HasSubstr("approved by Dana Okafor (@dana) on 2026-12-01"));
  EXPECT_THAT(exported.text, HasSubstr("Root cause: HR offboarding tickets"));
  EXPECT_THAT(exported.text, HasSubstr("Target date: 2027-02-26"));
  EXPECT_THAT(exported.text, HasSubstr("Owner: Bob Li (@bob)"));
  EXPECT_EQ(exported.text, h.app().findings().export_text());
  EXPECT_TRUE(verify_audit_log(h.app().store()).ok);
}

TEST_F(FindingFlow, SentBackDraftIsRevisedAndTheOldApprovalButtonIsStale) {
  record();
  review_accurate();
  ASSERT_FALSE(draft().error);
  const std::string first_approve = find_button(h.sent_to("dana").back(), "finding.approve")->value;
  Reply r = h.press_latest("dana", "finding.return", {});
  EXPECT_TRUE(r.error);  // a reason is required
  r = h.press_latest("dana", "finding.return", {{"reason", "Name the interim control"}});
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("F-1").at("status"), "open");
  EXPECT_EQ(h.sent_to("lena").back().context, "Sent back: Name the interim control");
  EXPECT_EQ(h.audit_entries().back().action, "finding.response_returned");

  r = draft({{"plan", "Automate deprovisioning; weekly reconciliation by IT (interim control)"}});
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("F-1").at("drafts"), "2");

  const auto before = snapshot();
  r = h.press("dana", "finding.approve", first_approve);
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("out of date"));
  expect_unchanged(before);
  EXPECT_FALSE(h.press_latest("dana", "finding.approve").error);
  EXPECT_THAT(h.item("F-1").at("plan"), HasSubstr("interim control"));
}

TEST_F(FindingFlow, AFormDrawnBeforeAChangeIsRejected) {
  record();
  const std::string stale = find_button(h.sent_to("lena").back(), "finding.respond")->value;
  review_accurate();  // bumps the finding's version
  const auto before = snapshot();
  const Reply r =
      h.press("lena", "finding.respond", stale,
              {{"root_cause", "x"}, {"plan", "y"}, {"target", "2027-01-29"}, {"owner", "@bob"}});
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("changed since that form was shown"));
  expect_unchanged(before);
}

TEST_F(FindingFlow, BadResponseInputsWriteNothing) {
  record();
  review_accurate();
  const auto before = snapshot();
  EXPECT_TRUE(draft({{"target", "2026-01-01"}}).error);  // in the past
  EXPECT_TRUE(draft({{"target", "soon"}}).error);
  EXPECT_TRUE(draft({{"owner", "@zed"}}).error);
  EXPECT_TRUE(draft({{"root_cause", ""}}).error);
  expect_unchanged(before);
}

TEST_F(FindingFlow, AFindingOpensAGapInTheSameChange) {
  record();
  const auto before = snapshot();
  Reply r = h.command("lena", "finding F-1 gap urgent");
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("critical, significant or minor"));
  expect_unchanged(before);
  EXPECT_TRUE(h.item("GAP-1").empty());

  r = h.command("lena", "finding F-1 gap significant \"Deprovisioning is manual\"");
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_THAT(r.text, HasSubstr("Opened GAP-1"));
  const auto gap = h.item("GAP-1");
  EXPECT_EQ(gap.at("source"), "F-1");
  EXPECT_EQ(gap.at("severity"), "significant");
  EXPECT_EQ(gap.at("owner"), "bob");  // the owner of AC-01
  EXPECT_EQ(gap.at("title"), "Deprovisioning is manual");
  EXPECT_EQ(h.item("F-1").at("gaps"), "GAP-1");
  const auto audit = h.audit_entries();
  ASSERT_GE(audit.size(), 2u);
  EXPECT_EQ(audit[audit.size() - 2].action, "gap.created");
  EXPECT_EQ(audit.back().action, "finding.gap_opened");
  EXPECT_EQ(h.sent_to("bob").back().title, "Gap to remediate: GAP-1 (significant)");
  EXPECT_THAT(h.command("lena", "finding F-1").text, HasSubstr("F-1"));
}

TEST_F(FindingFlow, AuditorSeesTheWordingAndOnlyTheApprovedResponse) {
  record();
  ASSERT_FALSE(h.command("lena",
                         "finding F-1 inaccurate \"Sample 14 was a contractor, "
                         "offboarded on time per the MSA\"")
                   .error);
  Reply r = h.command("ava", "finding F-1");
  EXPECT_FALSE(r.error) << r.text;
  std::string seen = r.text;
  for (const auto& f : r.fields)
    seen += f.label + ": " + f.value + "\n";
  EXPECT_THAT(seen, HasSubstr(kWording));
  EXPECT_THAT(seen, Not(HasSubstr("contractor")));
  EXPECT_THAT(seen, Not(HasSubstr("REQ-1")));
  EXPECT_TRUE(h.command("bob", "finding F-1").error);
  EXPECT_TRUE(h.command("ava", "finding list").error);
}

}  // namespace
}  // namespace auditbot::test
