// `auditbot serve` with SLACK_APP_TOKEN against the fake Slack: it connects over Socket
// Mode, answers a slash command envelope, closes the link on SIGTERM, and logs no token.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "integrations/redis/store.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/fakes/fake_slack_socket.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(SlackSocketModeProcess, ServeConnectsAnswersAndClosesOnSigterm) {
  RedisServer redis;
  FakeSlack fake;
  const std::string dir = make_temp_dir("slack-socket");
  const std::map<std::string, std::string> env = {
      {"REDIS_URL", redis.url()},
      {"AUDITBOT_LISTEN", "127.0.0.1:" + std::to_string(free_loopback_port())},
      {"AUDITBOT_LOG_LEVEL", "debug"},
      {"AUDITBOT_CA_FILE", TestCa::get().ca_file},
      {"SLACK_API_URL", fake.api_url()},
      {"SLACK_BOT_TOKEN", "xoxb-secret-bot-token-4242"},
      {"SLACK_APP_TOKEN", "xapp-secret-app-token-9191"},
  };
  BackgroundProcess bot({AUDITBOT_BINARY, "serve", "--config",
                         std::string(AUDITBOT_SOURCE_DIR) + "/config/auditbot.yaml"},
                        env, dir + "/bot.log");
  auto link = FakeSocket::accept(fake.server(), 30s);
  ASSERT_TRUE(link) << bot.log();
  auto opens = fake.server().requests_to("/api/apps.connections.open");
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0].header("authorization"), "Bearer xapp-secret-app-token-9191");
  EXPECT_EQ(fake.server().requests_to("/api/auth.test").size(), 1u);

  const std::string id = link->push("slash_commands",
                                    {{"command", "/soc2"},
                                     {"user_id", "UNOBODY"},
                                     {"channel_id", "C1"},
                                     {"text", "help"},
                                     {"response_url", fake.response_url("p1")},
                                     {"trigger_id", "TP1"}},
                                    true);
  auto ack = link->ack(id, 20s);
  ASSERT_TRUE(ack) << bot.log();
  ASSERT_TRUE(fake.server().wait_for("/respond/p1", 1, 20s)) << bot.log();
  EXPECT_FALSE(fake.responses("p1").at(0).value("text", "").empty());

  // It tells consoles on the same Redis that it delivers (they leave the queue to it) ...
  redis::Client c(redis.client_options());
  const std::string replicas = Keys("demo").key("delivery:replicas");
  for (int i = 0; i < 200 && c.command({"ZCARD", replicas}).integer == 0; ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(c.command({"ZCARD", replicas}).integer, 1);

  bot.signal(SIGTERM);
  EXPECT_EQ(bot.wait(), 0) << bot.log();
  EXPECT_EQ(c.command({"ZCARD", replicas}).integer, 0);  // ... and no longer once stopped
  EXPECT_FALSE(link->ack("after-stop", 10s));            // returns once the link is closed
  EXPECT_TRUE(link->closed());
  const std::string log = bot.log();
  EXPECT_THAT(log, HasSubstr("slack.socket.connected"));
  EXPECT_THAT(log, Not(HasSubstr("xapp-secret-app-token-9191")));
  EXPECT_THAT(log, Not(HasSubstr("xoxb-secret-bot-token-4242")));
  EXPECT_THAT(log, Not(HasSubstr("ticket=")));
}

}  // namespace
}  // namespace auditbot::test
