// The console beside a running `auditbot serve`: from the moment a serve replica delivers
// the organisation's messages, the console leaves them queued for it and refuses /track,
// whose message would exist only in the console.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "integrations/console/console.hpp"
#include "integrations/redis/outbox_queue.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

TEST(ConsoleBesideServe, LeavesMessagesQueuedFromTheMomentAServeReplicaDelivers) {
  Harness h;
  RedisOutboxQueue outbox(h.app().store(), "console-test");
  std::optional<std::string> serving;
  std::ostringstream out;
  ConsoleChat chat(h.app().router(), h.app().people(), outbox, out, [&] { return serving; });
  chat.switch_to("lena");
  chat.handle_line("/soc2 ask @bob AC-01 \"Q4 access review export\" due 2026-12-11");
  EXPECT_THAT(out.str(), HasSubstr(">> DM to bob"));  // nobody else delivers: printed here

  serving = "host-7";  // serve started while this console was open
  out.str("");
  chat.handle_line("/soc2 ask @kenji CM-01 \"Q4 change sample\" due 2026-12-11");
  EXPECT_THAT(out.str(), HasSubstr("auditbot serve (host-7) is delivering"));
  EXPECT_THAT(out.str(), HasSubstr("ASK-2"));  // Lena's own reply still shows
  EXPECT_THAT(out.str(), Not(HasSubstr(">> DM to kenji")));
  RedisOutboxQueue serve_side(h.app().store(), "serve-host-7");
  const auto left = serve_side.claim(10, 0ms);
  ASSERT_EQ(left.size(), 1u);  // Kenji's DM waits for serve, untouched
  EXPECT_EQ(left[0].message.to.id, "kenji");

  const auto keys = h.redis_key_count();
  out.str("");
  chat.handle_line("/track Please send the CC6.1 access reviews");
  EXPECT_THAT(out.str(), HasSubstr("track the auditor's message in Slack or Teams"));
  EXPECT_EQ(h.redis_key_count(), keys);
  EXPECT_TRUE(h.item("REQ-1").empty());

  serving.reset();  // serve stopped: the console prints deliveries again
  out.str("");
  chat.handle_line("/track Please send the CC6.1 access reviews");
  EXPECT_THAT(out.str(), HasSubstr("REQ-1"));
  EXPECT_THAT(out.str(), HasSubstr(">> #auditor (reply in thread console-"));
}

}  // namespace
}  // namespace auditbot::test
