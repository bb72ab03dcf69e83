// The console as a newcomer uses it: a piped script ask -> submit -> accept against the
// demo configuration, then `audit-log verify` on the chain, and again after tampering.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "integrations/redis/store.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kConfig = std::string(AUDITBOT_SOURCE_DIR) + "/config/auditbot.yaml";

class ConsoleScript : public ::testing::Test {
 protected:
  RedisServer redis;
  std::map<std::string, std::string> env() const { return {{"REDIS_URL", redis.url()}}; }
  ProcessResult console(const std::string& script) {
    return run_process({AUDITBOT_BINARY, "console", "--config", kConfig}, env(), script);
  }
  ProcessResult verify() {
    return run_process({AUDITBOT_BINARY, "audit-log", "verify", "--config", kConfig}, env(), "");
  }
};

TEST_F(ConsoleScript, AskSubmitAcceptEndsAcceptedWithAVerifiedChain) {
  const auto r = console(
      "# a liaison asks Bob for evidence\n"
      "/as lena\n"
      "/soc2 ask @bob AC-01 \"Q4 access review export\" due +10bd\n"
      "/as bob\n"
      "/soc2 mine\n"
      "/press 1 https://drive.example/ar-q4.pdf \"signed by IT\"\n"
      "/as lena\n"
      "/press 4\n"
      "/soc2 ask ASK-1\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& out = r.out;
  EXPECT_THAT(out, HasSubstr("lena> /soc2 ask @bob AC-01"));
  EXPECT_THAT(out, HasSubstr("↳ Created ASK-1 for Bob Li (@bob)"));
  EXPECT_THAT(out, HasSubstr(">> DM to bob (Bob Li)\n   *Evidence needed: ASK-1*"));
  EXPECT_THAT(out, HasSubstr("[1] Submit evidence <link> [note] [2] Need more time <date> <reason> "
                             "[3] Reassign <person>"));
  EXPECT_THAT(out, HasSubstr("ASK-1 · AC-01: Q4 access review export"));
  EXPECT_THAT(out, HasSubstr(">> DM to lena (Lena Fischer)\n   *Evidence to review: ASK-1*"));
  EXPECT_THAT(out, HasSubstr("Link: https://drive.example/ar-q4.pdf"));
  EXPECT_THAT(out, HasSubstr("Note: signed by IT"));
  EXPECT_THAT(out, HasSubstr("[4] Accept [5] Reject <reason>"));
  EXPECT_THAT(out, HasSubstr("↳ Accepted the evidence for ASK-1."));
  EXPECT_THAT(out, HasSubstr("(Accepted by Lena Fischer (@lena)"));
  EXPECT_THAT(out, HasSubstr("ASK-1 · AC-01 · accepted"));
  EXPECT_THAT(out, Not(HasSubstr(" ! ")));

  const auto v = verify();
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  EXPECT_THAT(v.out, HasSubstr("audit log OK: 4 entries"));
}

TEST_F(ConsoleScript, ErrorsAreOneLineAndTheScriptGoesOn) {
  const auto r = console(
      "/as bob\n"
      "/soc2 ask @kenji CM-01 \"x\"\n"
      "/soc2 asq\n"
      "/press 9\n"
      "/as nobody\n"
      "hello\n"
      "/soc2 mine\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("! Only a liaison or admin can create evidence asks."));
  EXPECT_THAT(r.out, HasSubstr("! Unknown command 'asq'. Did you mean: /soc2 ask"));
  EXPECT_THAT(r.out, HasSubstr("! There is no button [9] any more."));
  EXPECT_THAT(r.out, HasSubstr("! No such person 'nobody'"));
  EXPECT_THAT(r.out, HasSubstr("bob> /soc2 mine\n  ↳ You have no open items."));
}

// With an `auditbot serve` replica reading the same organisation's outbox, the console
// leaves the DMs on the queue for it instead of printing (and so consuming) them.
TEST_F(ConsoleScript, WhileServeDeliversTheConsoleLeavesMessagesQueued) {
  redis::Client c(redis.client_options());
  const Keys keys("demo");
  const std::string stream = keys.outbox_stream();
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // A replica that stopped two minutes ago does not count; one seen just now does.
  c.command({"ZADD", keys.key("delivery:replicas"), std::to_string(now_ms - 120000), "host-1"});
  c.command({"ZADD", keys.key("delivery:replicas"), std::to_string(now_ms), "host-4242"});
  const auto r = console(
      "/as lena\n/soc2 ask @bob AC-01 \"Q4 access review export\" due +10bd\n/as bob\n"
      "/soc2 mine\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("auditbot serve (host-4242) is delivering"));
  EXPECT_THAT(r.out, Not(HasSubstr("host-1")));
  EXPECT_THAT(r.out, HasSubstr("Created ASK-1 for Bob Li"));
  EXPECT_THAT(r.out, HasSubstr("ASK-1"));  // bob's own reply still shows in the console
  EXPECT_THAT(r.out, Not(HasSubstr(">> DM to bob")));
  // The DM to Bob is still in the stream, unread by anyone, for serve to send.
  EXPECT_GE(c.command({"XLEN", stream}).integer, 1);
  const auto pending = c.command({"XPENDING", stream, "delivery"});
  EXPECT_EQ(pending.elements.at(0).integer, 0);
}

// Kenji has no zone in this configuration; the one Slack or Teams reported for him (kept in
// Redis by serve) is his zone in the console too, not the organisation's.
TEST_F(ConsoleScript, APersonsZoneReportedByAPlatformIsUsedByTheConsole) {
  std::string yaml = read_file(kConfig);
  const std::string kenji_zone = "    timezone: Asia/Tokyo\n";
  ASSERT_NE(yaml.find(kenji_zone), std::string::npos);
  yaml.erase(yaml.find(kenji_zone), kenji_zone.size());
  const std::string dir = make_temp_dir("console-zone");
  write_file(dir + "/auditbot.yaml", yaml);
  std::filesystem::create_directory_symlink(std::string(AUDITBOT_SOURCE_DIR) + "/config/demo",
                                            dir + "/demo");
  redis::Client c(redis.client_options());
  c.command({"HSET", Keys("demo").learned_timezones(), "kenji", "Australia/Sydney"});
  const auto r = run_process({AUDITBOT_BINARY, "console", "--config", dir + "/auditbot.yaml"},
                             env(), "/who\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ContainsRegex("@kenji  Kenji[^\n]*Australia/Sydney"));
  std::filesystem::remove_all(dir);
}

TEST_F(ConsoleScript, VerifyNamesTheEntryThatWasChanged) {
  const auto r = console(
      "/as lena\n/soc2 ask @bob AC-01 \"Q4 access review export\" due +10bd\n"
      "/as bob\n/press 1 https://drive.example/ar-q4.pdf\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(verify().exit_code, 0);

  // Rewrite the stream with entry 2 (the ask's creation) quietly changed.
  redis::Client c(redis.client_options());
  const std::string key = "auditbot:{demo}:audit";
  const auto all = c.command({"XRANGE", key, "-", "+"});
  ASSERT_EQ(all.elements.size(), 3u);
  c.command({"DEL", key});
  for (const auto& entry : all.elements) {
    redis::Command add{"XADD", key, entry.elements[0].str};
    const auto& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      std::string value = fields[i + 1].str;
      if (fields[i].str == "detail" && entry.elements[0].str == all.elements[1].elements[0].str) {
        const auto pos = value.find("2026-");
        ASSERT_NE(pos, std::string::npos);
        value.replace(pos, 4, "2030");  // a later due date than was asked
      }
      add.push_back(fields[i].str);
      add.push_back(value);
    }
    ASSERT_FALSE(c.command(add).type == redis::Reply::Type::error);
  }
  const auto v = verify();
  EXPECT_NE(v.exit_code, 0);
  EXPECT_THAT(v.out, HasSubstr("BROKEN at entry 2"));
  EXPECT_THAT(v.out, HasSubstr(all.elements[1].elements[0].str));
}

}  // namespace
}  // namespace auditbot::test
