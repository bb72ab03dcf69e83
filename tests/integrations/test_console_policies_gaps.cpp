// The C4/C5 console scenario through the real binary: a policy published to 50 people, 48
// acknowledge, the 2 are chased, minor and material versions; a critical gap whose risk
// acceptance is declined, then remediated and re-assessed; the acknowledgments exported.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include "integrations/redis/store.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string pid(int i) {
  return std::string("p") + (i < 10 ? "0" : "") + std::to_string(i);
}

// alice (admin), lena (liaison), bob, kenji, dana (approver), p01..p45: 50 people.
std::string config_yaml() {
  std::string y =
      "org: {id: console56, name: \"Console Org\", timezone: America/New_York}\n"
      "channels: {compliance: compliance}\n"
      "controls_file: " +
      std::string(AUDITBOT_SOURCE_DIR) +
      "/config/demo/controls.yaml\n"
      "policies:\n"
      "  ack_days: 14\n"
      "  library:\n"
      "    - id: SEC-01\n"
      "      title: Information Security Policy\n"
      "      version: \"1.0\"\n"
      "      owner: alice\n"
      "      url: https://policies.example/sec-01\n"
      "      sha256: " +
      sha256_hex("v1") +
      "\n"
      "      effective: 2026-01-15\n"
      "      next_review: 2027-01-15\n"
      "people:\n"
      "  - {id: alice, name: Alice Moreno, email: alice@c.example, roles: [admin]}\n"
      "  - {id: lena, name: Lena Fischer, email: lena@c.example, roles: [liaison]}\n"
      "  - {id: bob, name: Bob Li, email: bob@c.example, groups: [engineering]}\n"
      "  - {id: kenji, name: Kenji Sato, email: kenji@c.example, groups: [engineering]}\n"
      "  - {id: dana, name: Dana Okafor, email: dana@c.example, roles: [approver]}\n";
  for (int i = 1; i <= 45; ++i) {
    y += "  - {id: " + pid(i) + ", name: Person " + std::to_string(i) + ", email: " + pid(i) +
         "@c.example}\n";
  }
  return y;
}

class ConsolePoliciesGaps : public ::testing::Test {
 protected:
  RedisServer redis;
  std::string config_path = "/tmp/auditbot-c56-" + std::to_string(::getpid()) + ".yaml";
  void SetUp() override { write_file(config_path, config_yaml()); }
  void TearDown() override { ::unlink(config_path.c_str()); }
  std::map<std::string, std::string> env() const { return {{"REDIS_URL", redis.url()}}; }
  ProcessResult run(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> all{AUDITBOT_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    all.push_back("--config");
    all.push_back(config_path);
    return run_process(all, env(), input);
  }
};

TEST_F(ConsolePoliciesGaps, FiftyPeopleCampaignThenDeclinedRiskThenRemediatedGap) {
  // Buttons are numbered in delivery order: alice [1], lena [2], bob [3], kenji [4], dana [5],
  // p01 [6] ... p45 [50]. Everyone but p44 and p45 acknowledges.
  const std::vector<std::string> people = [] {
    std::vector<std::string> v{"alice", "lena", "bob", "kenji", "dana"};
    for (int i = 1; i <= 45; ++i)
      v.push_back(pid(i));
    return v;
  }();
  std::string script = "/as alice\n/soc2 policy publish SEC-01 1.0\n";
  for (std::size_t i = 0; i < 48; ++i)
    script += "/as " + people[i] + "\n/press " + std::to_string(i + 1) + "\n";
  script += "/as bob\n/press 3\n/as kenji\n/press 3\n";  // twice, and someone else's button
  script += "/as lena\n/soc2 policy status SEC-01\n/soc2 policy remind SEC-01\n";
  script += "/as alice\n/soc2 policy publish SEC-01 1.1 minor sha256 " + sha256_hex("v1.1") + "\n";
  script += "/as alice\n/soc2 policy publish SEC-01 2.0 material sha256 " + sha256_hex("v2") + "\n";
  const auto r = run({"console"}, script);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& out = r.out;
  EXPECT_THAT(out, HasSubstr("↳ Published Information Security Policy v1.0 (material): asked 50 "
                             "people to acknowledge by"));
  EXPECT_THAT(out, HasSubstr(">> DM to p45 (Person 45)\n   *Please read: Information Security "
                             "Policy v1.0*"));
  EXPECT_THAT(out, HasSubstr("[50] I have read and accept Information Security Policy v1.0"));
  EXPECT_THAT(out, HasSubstr("p43> /press 48\n  ↳ Thanks: you acknowledged Information Security "
                             "Policy v1.0."));
  // Bob's acknowledged DM was replaced without its button: a second press (his or anyone's)
  // finds nothing to press; the handler-level refusals are covered in test_policies.cpp.
  EXPECT_THAT(out, HasSubstr("bob> /press 3\n  ! There is no button [3] any more."));
  EXPECT_THAT(out, HasSubstr("kenji> /press 3\n  ! There is no button [3] any more."));
  EXPECT_THAT(out, HasSubstr("48 of 50 acknowledged, 2 pending, 0 overdue"));
  EXPECT_THAT(out, HasSubstr("Missing: Person 44 (@p44), Person 45 (@p45)"));
  const auto remind_at = out.find("lena> /soc2 policy remind SEC-01");
  const auto minor_at = out.find("alice> /soc2 policy publish SEC-01 1.1");
  ASSERT_NE(remind_at, std::string::npos);
  ASSERT_NE(minor_at, std::string::npos);
  const std::string reminders = out.substr(remind_at, minor_at - remind_at);
  EXPECT_THAT(reminders, HasSubstr("Reminded 2 people"));
  EXPECT_THAT(reminders, HasSubstr(">> DM to p44 (Person 44)\n   *Reminder: Information Security"));
  EXPECT_THAT(reminders, HasSubstr(">> DM to p45 (Person 45)\n   *Reminder: Information Security"));
  EXPECT_THAT(reminders, Not(HasSubstr("DM to bob")));
  EXPECT_THAT(out, HasSubstr("asked 2 people to acknowledge by"));
  EXPECT_THAT(out, HasSubstr("48 acknowledgments of v1.0 carried forward."));
  EXPECT_THAT(out, HasSubstr("Published Information Security Policy v2.0 (material): asked 50 "
                             "people"));

  const auto gap = run({"console"},
                       "/as lena\n"
                       "/soc2 gap add critical @bob AC-01 \"No quarterly access review in Q3\" "
                       "due +30d\n"
                       "/as bob\n"
                       "/press 2 \"Only two admins; the monthly check covers it\"\n"
                       "/as dana\n"
                       "/press 4 \"Critical gaps are fixed, not accepted\"\n"
                       "/as bob\n"
                       "/press 5 https://drive.example/q3-review.pdf \"done by IT\"\n"
                       "/as lena\n"
                       "/press 7\n"
                       "/soc2 gap GAP-1\n");
  ASSERT_EQ(gap.exit_code, 0) << gap.err;
  EXPECT_THAT(gap.out, HasSubstr("↳ Recorded GAP-1 (critical) for Bob Li (@bob)"));
  EXPECT_THAT(gap.out, HasSubstr("[1] Submit fix evidence <link> [note] [2] Propose risk "
                                 "acceptance <rationale>"));
  EXPECT_THAT(gap.out, HasSubstr("[3] Accept the risk [4] Decline <reason>"));
  EXPECT_THAT(gap.out, HasSubstr("Declined the risk acceptance of GAP-1; it stays open"));
  EXPECT_THAT(gap.out, HasSubstr("[7] Accept the fix [8] Reopen <reason>"));
  EXPECT_THAT(gap.out, HasSubstr("↳ Accepted the fix; GAP-1 is closed."));
  EXPECT_THAT(gap.out, HasSubstr("GAP-1 · critical · closed"));
  EXPECT_THAT(gap.out, Not(HasSubstr(" ! ")));

  const auto csv = run({"export", "acks"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("person,email,policy,version,sha256,acknowledged_at,message_id"));
  EXPECT_THAT(csv.out, HasSubstr("\np43,p43@c.example,SEC-01,1.0," + sha256_hex("v1") + ","));
  EXPECT_THAT(csv.out, HasSubstr(",console,1.0\n"));  // carried forward to 1.1
  // 48 acknowledgments of v1.0 and their 48 carried-forward records, after the header.
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 97);

  const auto v = run({"audit-log", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

}  // namespace
}  // namespace auditbot::test
