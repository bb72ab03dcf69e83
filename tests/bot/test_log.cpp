// Logging as an operator sees it: one line per event, text or JSON, secrets scrubbed, and the
// level filter honoured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "bot/errors.hpp"
#include "bot/log.hpp"

namespace auditbot {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

namespace fs = std::filesystem;

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "auditbot-log-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    file_ = (dir_ / "bot.log").string();
  }
  void TearDown() override {
    log::init({.level = log::Level::info});  // back to stderr before the file goes away
    fs::remove_all(dir_);
  }

  void use(log::Level level, bool json, std::vector<std::string> secrets = {}) {
    log::init({.level = level, .json = json, .file = file_}, std::move(secrets));
  }

  std::vector<std::string> lines() const {
    std::ifstream in(file_);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) {
      out.push_back(l);
    }
    return out;
  }

  fs::path dir_;
  std::string file_;
};

TEST_F(LogTest, TextLineHasTimestampLevelEventAndFields) {
  use(log::Level::info, false);
  log::info("ask.created", {{"item", "ASK-1"}, {"owner", "bob"}, {"note", "needs a review"}});
  auto out = lines();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out[0], MatchesRegex(R"(20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.)"
                                   R"([0-9]{3}Z INFO ask\.created item=ASK-1 owner=bob )"
                                   R"(note="needs a review")"));
}

TEST_F(LogTest, SecretsNeverReachTheFile) {
  const std::string token = "xoxb-1234-very-secret";
  use(log::Level::debug, false, {token, "abc"});
  log::add_secret("admin-token-42");
  log::warn("slack.auth token=" + token, {{"header", "Bearer " + token}, {"k", "admin-token-42"}});
  log::info("short", {{"word", "abc"}});  // secrets under 4 characters are not scrubbed
  auto out = lines();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(out[0], Not(HasSubstr(token)));
  EXPECT_THAT(out[0], Not(HasSubstr("admin-token-42")));
  EXPECT_THAT(out[0], HasSubstr("slack.auth token=[redacted]"));
  EXPECT_THAT(out[0], HasSubstr("header=\"Bearer [redacted]\""));
  EXPECT_THAT(out[0], HasSubstr("k=[redacted]"));
  EXPECT_THAT(out[1], HasSubstr("word=abc"));
}

TEST_F(LogTest, SecretsNeverReachJsonEvenWhenEscaped) {
  const std::string secret = "pa\"ss\\word";  // JSON escaping would hide a naive search
  use(log::Level::info, true, {secret});
  log::error("teams.token failed for " + secret, {{"password", secret}});
  auto out = lines();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out[0], Not(HasSubstr("pa\\\"ss")));
  EXPECT_THAT(out[0], Not(HasSubstr("ss\\\\word")));
  auto j = nlohmann::json::parse(out[0]);
  EXPECT_EQ(j["event"], "teams.token failed for [redacted]");
  EXPECT_EQ(j["password"], "[redacted]");
}

TEST_F(LogTest, JsonLinesParseWithEnvelopeAndFields) {
  use(log::Level::info, true);
  log::info("ask.created", {{"item", "ASK-1"}, {"owner", "bob"}});
  log::warn("http.request", {{"path", "/slack/events"}, {"level", "spoofed"}});
  auto out = lines();
  ASSERT_EQ(out.size(), 2u);
  auto first = nlohmann::json::parse(out[0]);
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["event"], "ask.created");
  EXPECT_EQ(first["item"], "ASK-1");
  EXPECT_EQ(first["owner"], "bob");
  EXPECT_THAT(first["ts"].get<std::string>(), MatchesRegex(R"(.*T.*\.[0-9]{3}Z)"));
  EXPECT_EQ(out[0].rfind("{\"ts\":", 0), 0u);  // envelope keys come first
  auto second = nlohmann::json::parse(out[1]);
  EXPECT_EQ(second["level"], "warn");  // a field cannot overwrite the envelope
  EXPECT_EQ(second["_level"], "spoofed");
}

TEST_F(LogTest, LevelFilterDropsLowerLevels) {
  use(log::Level::warn, false);
  EXPECT_FALSE(log::enabled(log::Level::info));
  EXPECT_TRUE(log::enabled(log::Level::error));
  log::debug("dropped.debug");
  log::info("dropped.info");
  log::warn("kept.warn");
  log::error("kept.error");
  log::write(log::Level::off, "never");
  auto out = lines();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_THAT(out[0], HasSubstr("WARN kept.warn"));
  EXPECT_THAT(out[1], HasSubstr("ERROR kept.error"));

  use(log::Level::off, false);
  log::error("silenced");
  EXPECT_EQ(lines().size(), 2u);
}

TEST_F(LogTest, NewlinesInInputStayOnOneLine) {
  use(log::Level::info, false);
  log::info("command.text\nINJECTED fake line", {{"text", "a\nb"}, {"quote", "say \"hi\""}});
  auto out = lines();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_THAT(out[0], HasSubstr("command.text\\nINJECTED fake line"));
  EXPECT_THAT(out[0], HasSubstr("text=\"a\\nb\""));
  EXPECT_THAT(out[0], HasSubstr("quote=\"say \\\"hi\\\"\""));
}

TEST_F(LogTest, ParallelWritersProduceWholeLines) {
  use(log::Level::info, true, {"thread-secret"});
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        log::info("load.line", {{"thread", std::to_string(t)}, {"s", "thread-secret"}});
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  auto out = lines();
  ASSERT_EQ(out.size(), 800u);
  for (const auto& l : out) {
    auto j = nlohmann::json::parse(l);
    ASSERT_EQ(j["s"], "[redacted]");
  }
}

TEST_F(LogTest, ParseLevelNames) {
  EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
  EXPECT_EQ(log::parse_level("WARN"), log::Level::warn);
  EXPECT_EQ(log::parse_level("warning"), log::Level::warn);
  EXPECT_EQ(log::parse_level("off"), log::Level::off);
  EXPECT_EQ(log::parse_level("loud"), std::nullopt);
}

TEST_F(LogTest, UnwritableFileIsAConfigError) {
  std::ofstream(dir_ / "plain-file") << "x";
  EXPECT_THROW(log::init({.file = (dir_ / "plain-file" / "bot.log").string()}), ConfigError);
}

}  // namespace
}  // namespace auditbot
