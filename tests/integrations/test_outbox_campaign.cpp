// The durable outbox under crashes: 2,000 messages through a fake platform that answers 429
// to every fifth send, two replica processes, both SIGKILLed mid-way (one exactly between the
// platform accepting and the ledger record) and restarted: each delivered exactly once.
// Also: a Redis crash/restart (AOF) loses no queued message.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "integrations/redis/durable_outbox.hpp"
#include "tests/fakes/fake_chat_platform.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;

const TimePoint kStart = TimePoint(std::chrono::seconds(1796479387));

std::vector<std::string> queue_messages(Store& store, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; i += 100) {
    Txn t;
    for (int k = i; k < std::min(n, i + 100); ++k) {
      Message m;
      m.to = Recipient::person("p" + std::to_string(k));
      m.key = "campaign:" + std::to_string(k);
      m.text = "Please acknowledge the policy";
      ids.push_back(t.send(m));
    }
    EXPECT_TRUE(store.commit(t).ok());
  }
  return ids;
}

std::string self_exe() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

// The replica process: the real dispatcher on the durable queue with the test deliverer.
TEST(OutboxReplica, Run) {
  const char* redis_port = std::getenv("ENGINE_REPLICA_REDIS_PORT");
  if (!redis_port) GTEST_SKIP() << "only runs as a child of the campaign test";
  redis::Options o;
  o.port = std::atoi(redis_port);
  redis::Client client(o);
  FakeClock clock(kStart);
  Store store(client, "acme", clock);
  RedisDurableOutbox queue(store, std::getenv("ENGINE_REPLICA_NAME"), 2s);
  test::FakePlatformDeliverer deliverer(std::atoi(std::getenv("ENGINE_REPLICA_PLATFORM_PORT")),
                                        std::atoi(std::getenv("ENGINE_REPLICA_CRASH_AFTER")));
  DispatcherOptions opts;
  opts.ledger = &queue;
  opts.backoff_min = 50ms;
  OutboxDispatcher d(queue, deliverer, opts);
  std::atomic<bool> stop{false};
  d.run(stop);  // until killed
}

TEST(OutboxCampaign, TwoThousandMessagesExactlyOnceThroughThrottlingAndKills) {
  test::RedisServer server;
  redis::Client client(server.client_options());
  FakeClock clock(kStart);
  Store store(client, "acme", clock);
  RedisDurableOutbox observer(store, "observer", 1h);  // creates the group; never claims
  const auto ids = queue_messages(store, 2000);
  test::FakeChatPlatform platform(5, 1);
  const std::string dir = test::make_temp_dir("campaign");

  int generation = 0;
  auto spawn = [&](const std::string& name, int crash_after) {
    std::map<std::string, std::string> env{
        {"ENGINE_REPLICA_REDIS_PORT", std::to_string(server.port())},
        {"ENGINE_REPLICA_PLATFORM_PORT", std::to_string(platform.port())},
        {"ENGINE_REPLICA_NAME", name + "-" + std::to_string(++generation)},
        {"ENGINE_REPLICA_CRASH_AFTER", std::to_string(crash_after)}};
    return std::make_unique<test::BackgroundProcess>(
        std::vector<std::string>{self_exe(), "--gtest_filter=OutboxReplica.Run"}, env,
        dir + "/" + name + std::to_string(generation) + ".log");
  };
  // Replica a dies by itself right after its 300th accepted send (before the ledger record).
  auto a = spawn("a", 300);
  auto b = spawn("b", 0);
  bool killed_b = false, killed_a2 = false, respawned_a = false;
  const auto give_up = std::chrono::steady_clock::now() + 300s;  // a hang bound, not an assertion
  while (std::chrono::steady_clock::now() < give_up) {
    const std::size_t done = platform.unique_accepted();
    if (!respawned_a && !a->running()) {
      a = spawn("a", 0);
      respawned_a = true;
    }
    if (!killed_b && done >= 800) {
      b->signal(SIGKILL);  // mid-way, wherever it is
      b->wait();
      b = spawn("b", 0);
      killed_b = true;
    }
    if (!killed_a2 && respawned_a && done >= 1400) {
      a->signal(SIGKILL);
      a->wait();
      a = spawn("a", 0);
      killed_a2 = true;
    }
    if (done == ids.size() && observer.pending() == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  a->signal(SIGKILL);
  b->signal(SIGKILL);

  EXPECT_TRUE(respawned_a);
  EXPECT_TRUE(killed_b);
  EXPECT_TRUE(killed_a2);
  const auto accepted = platform.accepted();
  EXPECT_EQ(accepted.size(), ids.size());
  int twice = 0;
  for (const auto& id : ids) {
    auto it = accepted.find(id);
    EXPECT_TRUE(it != accepted.end()) << id << " lost";
    if (it != accepted.end() && it->second != 1) ++twice;
  }
  EXPECT_EQ(twice, 0);
  EXPECT_EQ(observer.pending(), 0u);
  EXPECT_GE(platform.throttled(), 400);  // every fifth send of at least 2,000
  std::filesystem::remove_all(dir);
}

TEST(OutboxCampaign, RedisCrashAndRestartLosesNoQueuedMessage) {
  test::RedisServer server;  // AOF, appendfsync always
  test::FakeChatPlatform platform(0, 1);
  std::vector<std::string> ids;
  {
    redis::Client client(server.client_options());
    FakeClock clock(kStart);
    Store store(client, "acme", clock);
    RedisDurableOutbox q(store, "r1", 1h);
    ids = queue_messages(store, 300);
  }
  server.kill();
  server.restart();
  redis::Client client(server.client_options());
  FakeClock clock(kStart);
  Store store(client, "acme", clock);
  RedisDurableOutbox q(store, "r2", 1h);
  test::FakePlatformDeliverer deliverer(platform.port());
  DispatcherOptions opts;
  opts.ledger = &q;
  OutboxDispatcher d(q, deliverer, opts);
  EXPECT_EQ(d.drain(), 300u);
  EXPECT_EQ(platform.unique_accepted(), 300u);
  EXPECT_EQ(q.pending(), 0u);
}

TEST(OutboxCampaign, RecoveredEntryAlreadyOnThePlatformIsNotSentAgain) {
  test::RedisServer server;
  test::FakeChatPlatform platform(0, 1);
  redis::Client client(server.client_options());
  FakeClock clock(kStart);
  Store store(client, "acme", clock);
  RedisDurableOutbox crashed(store, "crashed", 1h);
  queue_messages(store, 1);
  auto taken = crashed.claim(10, 0ms);
  ASSERT_EQ(taken.size(), 1u);
  test::FakePlatformDeliverer deliverer(platform.port());
  ASSERT_EQ(deliverer.deliver(taken[0]).status, DeliveryResult::Status::delivered);
  // "crashed" dies here: delivered, neither recorded nor acknowledged.
  RedisDurableOutbox rescuer(store, "rescuer", 0ms);
  DispatcherOptions opts;
  opts.ledger = &rescuer;
  OutboxDispatcher d(rescuer, deliverer, opts);
  d.drain();
  EXPECT_EQ(platform.accepted().at(taken[0].id), 1);
  EXPECT_EQ(rescuer.pending(), 0u);
  EXPECT_TRUE(rescuer.find(taken[0].id).has_value());
}

}  // namespace
}  // namespace auditbot
