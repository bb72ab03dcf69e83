// The outbox campaign with the real binary: 2,000 queued DMs, two `auditbot serve` replicas
// against the fake Slack over TLS that answers 429 to every fifth chat.postMessage; both
// replicas SIGKILLed while Slack holds an accepted post (the crash between "Slack has it" and
// "we recorded it"), then one SIGKILLed again anywhere. Each message is on Slack exactly once.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <thread>

#include "integrations/redis/durable_outbox.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kMessages = 2000;
constexpr const char* kOrg = "camp";

std::string person(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%04d", i);
  return buf;
}

// A small org of 2,000 people, each with a Slack id so no lookup is needed.
std::string write_config(const std::string& dir) {
  std::string y =
      "org:\n  id: camp\n  name: Campaign\n  timezone: UTC\n"
      "log:\n  level: info\n  format: json\n"
      "outbox:\n  reclaim_after_seconds: 2\n"
      "people:\n";
  for (int i = 0; i < kMessages; ++i) {
    const std::string p = person(i);
    y += "  - id: " + p + "\n    email: " + p + "@test.example\n    slack_id: U" + p + "\n";
  }
  const std::string path = dir + "/auditbot.yaml";
  write_file(path, y);
  return path;
}

std::vector<std::string> queue_campaign(Store& store) {
  std::vector<std::string> ids;
  for (int i = 0; i < kMessages; i += 100) {
    Txn t;
    for (int k = i; k < std::min(kMessages, i + 100); ++k) {
      Message m;
      m.to = Recipient::person(person(k));
      m.key = "campaign:SEC-01:" + person(k);
      m.title = "Please read and acknowledge SEC-01";
      m.text = "Information Security Policy, version 2.0";
      ids.push_back(t.send(m));
    }
    EXPECT_TRUE(store.commit(t).ok());
  }
  return ids;
}

std::map<std::string, int> posts_by_outbox_id(const FakeSlack& fake) {
  std::map<std::string, int> out;
  for (const json& p : fake.posted()) {
    if (!p.contains("metadata")) continue;
    ++out[p["metadata"]["event_payload"].value("outbox_id", "")];
  }
  return out;
}

TEST(OutboxCampaignProcess, TwoThousandDmsExactlyOnceThroughTwoKilledServeReplicas) {
  RedisServer redis;
  FakeSlack fake;
  fake.rate_limit_posts(5, 0);  // Retry-After: 0 keeps the wall time short; 1 s works the same
  constexpr std::size_t kHeldPost = 600;
  fake.delay_accepted_post(kHeldPost, 4s);
  const std::string dir = make_temp_dir("campaign-process");
  const std::string config = write_config(dir);

  redis::Client client(redis.client_options());
  FakeClock clock(TimePoint(std::chrono::seconds(1796479387)));
  Store store(client, kOrg, clock);
  RedisDurableOutbox observer(store, "observer", 1h);  // creates the group; never claims
  const auto ids = queue_campaign(store);

  int generation = 0;
  auto spawn = [&](const std::string& name) {
    const std::map<std::string, std::string> env{
        {"REDIS_URL", redis.url()},
        {"AUDITBOT_LISTEN", "127.0.0.1:" + std::to_string(free_loopback_port())},
        {"SLACK_BOT_TOKEN", "xoxb-campaign-token"},
        {"SLACK_SIGNING_SECRET", "campaign-signing-secret"},
        {"SLACK_API_URL", fake.api_url()},
        {"AUDITBOT_CA_FILE", TestCa::get().ca_file},
    };
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{AUDITBOT_BINARY, "serve", "--config", config}, env,
        dir + "/" + name + std::to_string(++generation) + ".log");
  };
  auto a = spawn("a");
  auto b = spawn("b");
  bool killed_both = false, killed_b = false;
  const auto give_up = std::chrono::steady_clock::now() + 180s;  // a hang bound only
  while (std::chrono::steady_clock::now() < give_up) {
    ASSERT_TRUE(a->running()) << a->log();
    ASSERT_TRUE(b->running()) << b->log();
    const std::size_t posted = fake.posted_count();
    if (!killed_both && posted >= kHeldPost) {
      // Post 600 is on Slack, its answer held back: whichever replica sent it dies before
      // it can record it. The other one dies too, wherever it is.
      a->signal(SIGKILL);
      b->signal(SIGKILL);
      a->wait();
      b->wait();
      a = spawn("a");
      b = spawn("b");
      killed_both = true;
    }
    if (killed_both && !killed_b && posted >= 1300) {
      b->signal(SIGKILL);
      b->wait();
      b = spawn("b");
      killed_b = true;
    }
    if (killed_b && posts_by_outbox_id(fake).size() >= ids.size() && observer.pending() == 0) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  a->signal(SIGTERM);
  b->signal(SIGTERM);
  a->wait();
  b->wait();

  ASSERT_TRUE(killed_both);
  ASSERT_TRUE(killed_b);
  const auto posts = posts_by_outbox_id(fake);
  int lost = 0, twice = 0;
  for (const auto& id : ids) {
    auto it = posts.find(id);
    if (it == posts.end()) {
      ++lost;
    } else if (it->second != 1) {
      ++twice;
    }
  }
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(twice, 0);
  EXPECT_EQ(fake.posted_count(), ids.size());  // nothing else was posted either
  EXPECT_EQ(observer.pending(), 0u);
  // Acknowledged entries were trimmed: the stream holds nothing once all is delivered.
  EXPECT_EQ(client.command({"XLEN", store.keys().outbox_stream()}).integer, 0);
  // Every fifth call was throttled, and the held post was checked on Slack, not resent.
  const std::size_t throttled = fake.calls("chat.postMessage").size() - fake.posted_count();
  EXPECT_GE(throttled, ids.size() / 4 - 1);  // one call in five of at least 2,500
  EXPECT_GE(fake.server().requests_to("/api/conversations.history").size(), 1u);
  const std::string held =
      fake.posted().at(kHeldPost - 1)["metadata"]["event_payload"].value("outbox_id", "");
  EXPECT_EQ(posts.at(held), 1);
  EXPECT_TRUE(observer.find(held).has_value());  // recorded in the ledger on recovery
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace auditbot::test
