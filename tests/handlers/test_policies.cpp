// Policy acknowledgment campaigns as the organisation lives them: publish to 50 people,
// chase the two who did not answer, new versions (material or minor), newcomers, reviews.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kV1 = sha256_hex("Information security policy, text of v1.0");
const std::string kV11 = sha256_hex("Information security policy, text of v1.1");
const std::string kV2 = sha256_hex("Information security policy, text of v2.0");

std::string person_id(int i) {
  return std::string("p") + (i < 10 ? "0" : "") + std::to_string(i);
}

// The test organisation (5 people bound by policies; ava is the external auditor) plus
// p01..p45: 50 people in the audience of "everyone".
void fifty_people(Config& c, bool newcomers) {
  for (auto& p : c.people) {
    p.groups = {"leadership"};
  }
  for (int i = 1; i <= 45; ++i) {
    PersonConfig p;
    p.id = person_id(i);
    p.name = "Person " + std::to_string(i);
    p.email = p.id + "@test.example";
    p.groups = {i % 2 == 0 ? "engineering" : "sales"};
    c.people.push_back(p);
  }
  if (newcomers) {
    for (const char* id : {"zoe", "yuki"}) {
      PersonConfig p;
      p.id = id;
      p.name = std::string(id) == "zoe" ? "Zoe Adams" : "Yuki Mori";
      p.email = std::string(id) + "@test.example";
      p.groups = {"engineering"};
      c.people.push_back(p);
    }
  }
  PolicyConfig sec;
  sec.id = "SEC-01";
  sec.title = "Information Security Policy";
  sec.version = "1.0";
  sec.owner = "alice";
  sec.url = "https://policies.example/sec-01";
  sec.sha256 = kV1;
  sec.effective = "2026-01-15";
  sec.next_review = "2027-01-15";
  PolicyConfig eng = sec;
  eng.id = "ENG-01";
  eng.title = "Secure Development Policy";
  eng.url = "https://policies.example/eng-01";
  eng.audience = {"engineering"};
  c.policies = {sec, eng};
}

class PolicyCampaign : public ::testing::Test {
 protected:
  bool newcomers = false;
  Harness h{[this](Config& c) { fifty_people(c, newcomers); }};

  void SetUp() override { ASSERT_EQ(h.app().seed_policies(), 2u); }

  std::vector<std::string> audience() const {
    std::vector<std::string> ids{"alice", "lena", "bob", "kenji", "dana"};
    for (int i = 1; i <= 45; ++i)
      ids.push_back(person_id(i));
    return ids;
  }
  std::size_t acks_recorded(const std::string& policy) {
    return h.app().policies().acks(policy).size();
  }
  std::size_t audit_count(const std::string& action) {
    const auto all = h.audit_entries();
    return static_cast<std::size_t>(std::count_if(
        all.begin(), all.end(), [&](const AuditEntry& e) { return e.action == action; }));
  }
  struct Snapshot {
    std::int64_t keys;
    std::size_t audit;
    std::size_t delivered;
    std::string acks;
  };
  Snapshot snapshot() {
    return {h.redis_key_count(), h.audit_entries().size(), h.delivered(),
            h.app().policies().export_acks_csv()};
  }
  void expect_unchanged(const Snapshot& before) {
    EXPECT_EQ(h.redis_key_count(), before.keys);
    EXPECT_EQ(h.audit_entries().size(), before.audit);
    EXPECT_EQ(h.delivered(), before.delivered);
    EXPECT_EQ(h.app().policies().export_acks_csv(), before.acks);
  }
};

TEST_F(PolicyCampaign, FiftyPeopleFortyEightAcknowledgeTwoAreChasedThenNewVersions) {
  const Reply pub = h.command("alice", "policy publish SEC-01 1.0 due 2026-12-15");
  ASSERT_FALSE(pub.error) << pub.text;
  EXPECT_THAT(pub.text, HasSubstr("asked 50 people to acknowledge by 2026-12-15"));

  for (const auto& id : audience()) {
    const auto msgs = h.sent_to(id);
    ASSERT_EQ(msgs.size(), 1u) << id;
    ASSERT_EQ(msgs[0].buttons.size(), 1u);
    EXPECT_EQ(msgs[0].buttons[0].label, "I have read and accept Information Security Policy v1.0");
    EXPECT_THAT(msgs[0].fields[0].value, "https://policies.example/sec-01");
  }
  EXPECT_TRUE(h.sent_to("ava").empty());  // the auditor is not bound by company policies

  const std::set<std::string> missing{"p44", "p45"};
  for (const auto& id : audience()) {
    if (missing.count(id)) continue;
    const Reply r = h.press_latest(id, "policy.ack");
    ASSERT_FALSE(r.error) << id << ": " << r.text;
  }
  EXPECT_EQ(acks_recorded("SEC-01"), 48u);

  const Reply status = h.command("lena", "policy status SEC-01");
  ASSERT_FALSE(status.error) << status.text;
  EXPECT_THAT(status.text, HasSubstr("48 of 50 acknowledged, 2 pending, 0 overdue"));
  std::string missing_field;
  for (const auto& f : status.fields) {
    if (f.label == "Missing") missing_field = f.value;
    if (f.label == "Group sales") {
      EXPECT_EQ(f.value, "22/23");  // p45 missing
    }
    if (f.label == "Group engineering") {
      EXPECT_EQ(f.value, "21/22");  // p44 missing
    }
  }
  EXPECT_EQ(missing_field, "Person 44 (@p44), Person 45 (@p45)");
  EXPECT_TRUE(h.command("bob", "policy status SEC-01").error);  // liaison and admin only

  const std::size_t before = h.delivered();
  const Reply remind = h.command("lena", "policy remind SEC-01");
  EXPECT_THAT(remind.text, HasSubstr("Reminded 2 people"));
  EXPECT_EQ(h.delivered(), before + 2);
  EXPECT_EQ(h.sent_to("p44").size(), 2u);
  EXPECT_EQ(h.sent_to("p45").size(), 2u);
  EXPECT_THAT(h.sent_to("p45").back().title, HasSubstr("Reminder: Information Security Policy"));
  EXPECT_EQ(h.sent_to("bob").size(), 2u);  // the DM and its "acknowledged" update, no reminder

  // A minor edit keeps the 48 acknowledgments (recorded as carried forward) and asks the 2.
  const Reply minor = h.command("alice", "policy publish SEC-01 1.1 minor sha256 " + kV11);
  ASSERT_FALSE(minor.error) << minor.text;
  EXPECT_THAT(minor.text, HasSubstr("asked 2 people"));
  EXPECT_THAT(minor.text, HasSubstr("48 acknowledgments of v1.0 carried forward"));
  EXPECT_THAT(h.command("lena", "policy status SEC-01").text,
              HasSubstr("48 of 50 acknowledged, 2 pending"));
  for (const auto& a : h.app().policies().acks("SEC-01")) {
    EXPECT_EQ(a.version, "1.1");
    EXPECT_EQ(a.sha256, kV11);
    EXPECT_EQ(a.carried_from, "1.0");
  }
  EXPECT_EQ(h.sent_to("bob").size(), 2u);  // bob is not asked again
  EXPECT_EQ(h.sent_to("p44").back().buttons.at(0).label,
            "I have read and accept Information Security Policy v1.1");

  // A material version resets everyone.
  const Reply material = h.command("alice", "policy publish SEC-01 2.0 material sha256 " + kV2);
  ASSERT_FALSE(material.error) << material.text;
  EXPECT_THAT(material.text, HasSubstr("asked 50 people"));
  EXPECT_EQ(acks_recorded("SEC-01"), 0u);
  EXPECT_THAT(h.command("lena", "policy status SEC-01").text,
              HasSubstr("0 of 50 acknowledged, 50 pending"));
  EXPECT_EQ(h.sent_to("bob").back().buttons.at(0).label,
            "I have read and accept Information Security Policy v2.0");
  EXPECT_EQ(audit_count("policy.acknowledged"), 48u);
  EXPECT_EQ(audit_count("policy.published"), 3u);
  EXPECT_TRUE(verify_audit_log(h.app().store()).ok);
}

TEST_F(PolicyCampaign, TwiceStaleAndSomeoneElsesButtonRecordNothing) {
  ASSERT_FALSE(h.command("alice", "policy publish SEC-01 1.0").error);
  const std::string bobs_value = h.sent_to("bob").at(0).buttons.at(0).value;
  const std::string kenjis_v1 = h.sent_to("kenji").at(0).buttons.at(0).value;

  ASSERT_FALSE(h.press("bob", "policy.ack", bobs_value).error);
  EXPECT_EQ(h.item("POLICY-ACK:SEC-01:bob").at("status"), "acknowledged");
  auto before = snapshot();
  const Reply twice = h.press("bob", "policy.ack", bobs_value);
  EXPECT_FALSE(twice.error);
  EXPECT_THAT(twice.text, HasSubstr("You already acknowledged Information Security Policy v1.0"));
  expect_unchanged(before);

  const Reply other = h.press("kenji", "policy.ack", bobs_value);
  EXPECT_TRUE(other.error);
  EXPECT_EQ(other.text,
            "This acknowledgment was sent to Bob Li (@bob); only they can give it. Nothing was "
            "recorded.");
  expect_unchanged(before);

  ASSERT_FALSE(h.command("alice", "policy publish SEC-01 1.1 minor sha256 " + kV11).error);
  before = snapshot();
  const Reply stale = h.press("kenji", "policy.ack", kenjis_v1);
  EXPECT_TRUE(stale.error);
  EXPECT_THAT(stale.text, HasSubstr("That button is for Information Security Policy v1.0; the "
                                    "current version is v1.1. Nothing was recorded"));
  expect_unchanged(before);
  // Bob's v1.0 acknowledgment was carried to v1.1: his old button says so and records nothing.
  EXPECT_THAT(h.press("bob", "policy.ack", bobs_value).text, HasSubstr("already acknowledged"));
  expect_unchanged(before);

  ASSERT_FALSE(h.command("alice", "policy publish SEC-01 2.0 material sha256 " + kV2).error);
  before = snapshot();
  const Reply old = h.press("bob", "policy.ack", bobs_value);
  EXPECT_TRUE(old.error);
  EXPECT_THAT(old.text, HasSubstr("the current version is v2.0"));
  expect_unchanged(before);

  // The same delivery twice (a platform retry) is recorded once.
  const std::string v2 = h.sent_to("kenji").back().buttons.at(0).value;
  EXPECT_FALSE(h.press("kenji", "policy.ack", v2, {}, "evt-1").error);
  const auto after_first = snapshot();
  EXPECT_FALSE(h.press("kenji", "policy.ack", v2, {}, "evt-1").error);
  expect_unchanged(after_first);
}

TEST_F(PolicyCampaign, PublishingNeedsAnAdminAndANewHash) {
  const auto before = snapshot();
  EXPECT_THAT(h.command("lena", "policy publish SEC-01 1.0").text, HasSubstr("Only a admin"));
  EXPECT_THAT(h.command("alice", "policy publish SEC-99 1.0").text, HasSubstr("no policy SEC-99"));
  EXPECT_THAT(h.command("alice", "policy publish SEC-01 2.0").text, HasSubstr("sha256 <hex>"));
  EXPECT_THAT(h.command("alice", "policy publish SEC-01 2.0 sha256 abc").text,
              HasSubstr("64 hex digits"));
  EXPECT_THAT(h.command("alice", "policy publish SEC-01 1.0 due 2026-11-01").text,
              HasSubstr("in the past"));
  expect_unchanged(before);
  ASSERT_FALSE(h.command("alice", "policy publish SEC-01 1.0").error);
  EXPECT_THAT(h.command("alice", "policy publish SEC-01 1.0").text, HasSubstr("already published"));
}

TEST_F(PolicyCampaign, LibraryListingAndDetails) {
  h.command("alice", "policy publish ENG-01 1.0 due 2026-12-20");
  const Reply list = h.command("p02", "policies");
  EXPECT_THAT(list.text, HasSubstr("ENG-01 · Secure Development Policy v1.0"));
  EXPECT_THAT(list.text, HasSubstr("waiting for your acknowledgment (due 2026-12-20)"));
  EXPECT_THAT(h.command("p01", "policies").text, Not(HasSubstr("waiting")));  // sales: not asked
  EXPECT_TRUE(h.sent_to("p01").empty());
  EXPECT_EQ(h.sent_to("p02").size(), 1u);
  const Reply one = h.command("p02", "policy ENG-01");
  EXPECT_THAT(one.text, HasSubstr("ENG-01 · Secure Development Policy v1.0"));
  bool hash = false;
  for (const auto& f : one.fields)
    hash = hash || (f.label == "SHA-256" && f.value == kV1);
  EXPECT_TRUE(hash);
  EXPECT_THAT(h.command("p02", "mine").text,
              HasSubstr("Acknowledge Secure Development Policy v1.0"));
  h.press_latest("p02", "policy.ack");
  EXPECT_THAT(h.command("p02", "mine").text, HasSubstr("no open items"));
}

TEST_F(PolicyCampaign, NewcomersGetTheCurrentPoliciesAndExportListsEveryAck) {
  ASSERT_FALSE(h.command("alice", "policy publish SEC-01 1.0 due 2026-12-15").error);
  ASSERT_FALSE(h.command("alice", "policy publish ENG-01 1.0 due 2026-12-15").error);
  h.press_latest("bob", "policy.ack");

  newcomers = true;  // zoe and yuki are added to the config file
  h.restart_app();
  h.join("zoe");
  const auto to_zoe = h.sent_to("zoe");
  ASSERT_EQ(to_zoe.size(), 2u);  // SEC-01 (everyone) and ENG-01 (engineering)
  EXPECT_THAT(to_zoe[0].fields[3].value, "2026-12-15");  // today + 14 days
  h.join("zoe");
  EXPECT_EQ(h.sent_to("zoe").size(), 2u);  // a second join asks nothing twice

  EXPECT_TRUE(h.sent_to("yuki").empty());
  EXPECT_EQ(h.app().policies().enroll_missing(h.clock().now()), 1u);  // yuki only
  h.deliver();
  EXPECT_EQ(h.sent_to("yuki").size(), 2u);
  EXPECT_EQ(h.app().policies().enroll_missing(h.clock().now()), 0u);

  h.press_latest("zoe", "policy.ack");
  const std::string csv = h.app().policies().export_acks_csv();
  EXPECT_THAT(csv, HasSubstr("person,email,policy,version,sha256,acknowledged_at,message_id"));
  EXPECT_THAT(csv, HasSubstr("bob,bob@test.example,SEC-01,1.0," + kV1 + ",2026-12-01T15:00:00"));
  EXPECT_THAT(csv, HasSubstr("zoe,zoe@test.example,SEC-01,1.0,"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
}

TEST_F(PolicyCampaign, OwnersAreRemindedOfTheAnnualReviewAndApproveIt) {
  EXPECT_EQ(h.app().policies().remind_reviews(h.clock().now()), 0u);  // 2027-01-15 is 45 days off
  h.clock().set(*parse_iso8601("2026-12-20T15:00:00Z"));
  EXPECT_EQ(h.app().policies().remind_reviews(h.clock().now()), 2u);
  EXPECT_EQ(h.app().policies().remind_reviews(h.clock().now()), 0u);  // once per review date
  h.deliver();
  ASSERT_EQ(h.sent_to("alice").size(), 2u);
  EXPECT_THAT(h.sent_to("alice")[0].title, HasSubstr("Annual review due"));
  const Reply other = h.press("bob", "policy.review_approve", "SEC-01");
  EXPECT_TRUE(other.error);
  const Reply ok = h.press("alice", "policy.review_approve", "SEC-01");
  ASSERT_FALSE(ok.error) << ok.text;
  EXPECT_THAT(ok.text, HasSubstr("next review 2028-01-15"));
  EXPECT_EQ(h.app().policies().load("SEC-01")->next_review, "2028-01-15");
  EXPECT_EQ(audit_count("policy.reviewed"), 1u);
}

}  // namespace
}  // namespace auditbot::test
