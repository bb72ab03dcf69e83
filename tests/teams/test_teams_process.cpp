// `auditbot serve` with Teams credentials against the Bot Framework fakes over TLS
// (AUDITBOT_CA_FILE): a command POSTed to /api/messages ends in a proactive DM card.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <thread>

#include "tests/fakes/teams_https.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
namespace bhttp = boost::beast::http;

const std::string kApp = "app-proc-2222";

// POST /api/messages; 0 while the listener is not up yet.
unsigned post_http(int port, const std::string& auth, const std::string& body) {
  try {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket sock(ioc);
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/api/messages", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::authorization, auth);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(sock, req);
    boost::beast::flat_buffer buf;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(sock, buf, res);
    return res.result_int();
  } catch (const std::exception&) {
    return 0;
  }
}

TEST(TeamsProcess, CommandPostedToApiMessagesEndsInAProactiveDm) {
  TeamsSigningKey key("kid-proc", {"msteams"});
  FakeTeamsHttps ms(key);
  ms.cloud().add_member("29:lena", "aad-lena", "lena@northwind.example");
  ms.cloud().add_member("29:bob", "aad-bob", "bob@northwind.example");
  RedisServer redis;
  const int port = free_loopback_port();
  const std::string dir = make_temp_dir("teams-process");
  const std::map<std::string, std::string> env = {
      {"REDIS_URL", redis.url()},
      {"AUDITBOT_LISTEN", "127.0.0.1:" + std::to_string(port)},
      {"AUDITBOT_LOG_LEVEL", "debug"},
      {"AUDITBOT_CA_FILE", TestCa::get().ca_file},
      {"TEAMS_APP_ID", kApp},
      {"TEAMS_APP_PASSWORD", "s3cret-pw"},
      {"TEAMS_OPENID_METADATA_URL", ms.metadata_url()},
      {"TEAMS_TOKEN_URL", ms.token_url()},
      {"TEAMS_SERVICE_URL_ALLOWLIST", ms.service_url()},
  };
  BackgroundProcess bot({AUDITBOT_BINARY, "serve", "--config",
                         std::string(AUDITBOT_SOURCE_DIR) + "/config/auditbot.yaml"},
                        env, dir + "/bot.log");

  int n = 0;
  auto activity = [&](const std::string& type, const std::string& who, const std::string& conv,
                      const std::string& conv_type) {
    return json{{"type", type},
                {"id", "proc-" + std::to_string(++n)},
                {"channelId", "msteams"},
                {"serviceUrl", ms.service_url()},
                {"from", {{"id", "29:" + who}, {"aadObjectId", "aad-" + who}}},
                {"recipient", {{"id", "28:" + kApp}, {"name", "auditbot"}}},
                {"conversation",
                 {{"id", conv}, {"conversationType", conv_type}, {"tenantId", "tenant-1"}}}};
  };
  // Tokens are checked against the real clock in the binary.
  auto auth = [&] {
    return "Bearer " + key.sign(TeamsSigningKey::channel_claims(kApp, ms.service_url(),
                                                                std::chrono::system_clock::now()));
  };
  auto lena_install = activity("installationUpdate", "lena", "a:personal-lena", "personal");
  lena_install["action"] = "add";
  unsigned status = 0;
  for (int i = 0; i < 300 && status == 0 && bot.running(); ++i) {
    status = post_http(port, auth(), lena_install.dump());
    if (status == 0) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(status, 200u) << bot.log();

  // Bob added the bot to a team: no 1:1 chat yet.
  auto bob_team = activity("conversationUpdate", "bob", "19:team-channel", "channel");
  bob_team["membersAdded"] = json::array({{{"id", "28:" + kApp}}});
  ASSERT_EQ(post_http(port, auth(), bob_team.dump()), 200u) << bot.log();

  auto ask = activity("message", "lena", "a:personal-lena", "personal");
  ask["text"] = "soc2 ask @bob AC-01 \"Q4 access review export\" due +10bd";
  ASSERT_EQ(post_http(port, auth(), ask.dump()), 200u) << bot.log();

  // The outbox dispatcher creates Bob's 1:1 conversation and sends the card into it.
  ASSERT_TRUE(ms.server().wait_for("/amer/v3/conversations", 1, 30s)) << bot.log();
  // (The server records a request before the fake cloud has handled it: wait for the cloud.)
  auto eventually = [](const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); ++i)
      std::this_thread::sleep_for(100ms);
    return done();
  };
  ASSERT_TRUE(eventually([&] { return !ms.cloud().activities("a:dm-29:bob").empty(); }))
      << bot.log();
  const auto dm = ms.cloud().activities("a:dm-29:bob");
  ASSERT_EQ(dm.size(), 1u);
  EXPECT_THAT(dm[0].dump(), HasSubstr("ASK-1"));
  EXPECT_EQ(dm[0]["attachments"][0]["content"]["version"], "1.5");
  for (const auto& r : ms.server().requests()) {
    if (r.path.rfind("/amer/", 0) == 0) {
      EXPECT_EQ(r.header("authorization"), "Bearer bf-token-1");
    }
  }
  // Lena got her confirmation in her chat (sent after the HTTP answer).
  EXPECT_TRUE(eventually([&] {
    for (const auto& a : ms.cloud().activities("a:personal-lena"))
      if (a.dump().find("ASK-1") != std::string::npos) return true;
    return false;
  })) << bot.log();

  bot.signal(SIGTERM);
  EXPECT_EQ(bot.wait(), 0) << bot.log();
  const std::string log = bot.log();
  EXPECT_THAT(log, HasSubstr("teams.enabled"));
  EXPECT_THAT(log, Not(HasSubstr("s3cret-pw")));
  EXPECT_THAT(log, Not(HasSubstr("bf-token-1")));
}

}  // namespace
}  // namespace auditbot::test
