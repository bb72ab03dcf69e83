// `auditbot serve` as operators run it: health, readiness that follows Redis, metrics,
// a clean exit on SIGTERM, and a JSON log with no secret in it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {
namespace {

namespace http = boost::beast::http;
using ::testing::HasSubstr;

struct Got {
  int status = 0;
  std::string body;
};

Got get(int port, const std::string& path) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return {};
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer admin-secret-token-7781");
  http::write(s, req, ec);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res, ec);
  if (ec) return {};
  return {static_cast<int>(res.result_int()), res.body()};
}

TEST(ServeProcess, HealthReadinessMetricsShutdownAndNoSecretsInTheLog) {
  RedisServer redis;
  const int port = free_loopback_port();
  const std::string dir = make_temp_dir("serve");
  const std::map<std::string, std::string> env = {
      {"REDIS_URL", redis.url()},
      {"AUDITBOT_LISTEN", "127.0.0.1:" + std::to_string(port)},
      {"AUDITBOT_LOG_LEVEL", "debug"},
      {"AUDITBOT_LOG_FORMAT", "json"},
      {"SLACK_BOT_TOKEN", "xoxb-secret-bot-token-4242"},
      {"SLACK_SIGNING_SECRET", "signing-secret-5353"},
      {"AUDITBOT_ADMIN_TOKEN", "admin-secret-token-7781"},
  };
  BackgroundProcess bot({AUDITBOT_BINARY, "serve", "--config",
                         std::string(AUDITBOT_SOURCE_DIR) + "/config/auditbot.yaml"},
                        env, dir + "/bot.log");
  Got health;
  for (int i = 0; i < 200 && health.status != 200; ++i) {
    ASSERT_TRUE(bot.running()) << bot.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    health = get(port, "/healthz");
  }
  ASSERT_EQ(health.status, 200) << bot.log();
  EXPECT_EQ(get(port, "/readyz").status, 200);
  EXPECT_EQ(get(port, "/nope").status, 404);
  const Got metrics = get(port, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE auditbot_http_requests_total counter"));

  redis.stop();
  EXPECT_EQ(get(port, "/readyz").status, 503);
  EXPECT_EQ(get(port, "/healthz").status, 200);
  redis.restart();
  EXPECT_EQ(get(port, "/readyz").status, 200);

  bot.signal(SIGTERM);
  EXPECT_EQ(bot.wait(), 0);

  const std::string log = bot.log();
  EXPECT_THAT(log, HasSubstr("serve.started"));
  for (const char* secret :
       {"xoxb-secret-bot-token-4242", "signing-secret-5353", "admin-secret-token-7781"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret;
  }
  std::istringstream lines(log);
  int parsed = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    const auto event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(event.is_object()) << line;
    ++parsed;
  }
  EXPECT_GE(parsed, 3);
  std::filesystem::remove_all(dir);
}

TEST(ServeProcess, UnknownConfigKeyStopsStartUpNamingIt) {
  const std::string dir = make_temp_dir("badcfg");
  write_file(dir + "/auditbot.yaml", "org: {id: x}\nslack:\n  bot_tokn: abc\n");
  const auto r =
      run_process({AUDITBOT_BINARY, "serve", "--config", dir + "/auditbot.yaml"}, {}, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("slack.bot_tokn"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace auditbot::test
