// The outbox queue on a Redis Stream consumer group: each queued message is handed to one
// consumer once, stays pending until acknowledged, and messages queued earlier are not lost.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "integrations/redis/durable_outbox.hpp"
#include "integrations/redis/outbox_queue.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;

class OutboxQueueTest : public ::testing::Test {
 protected:
  test::RedisServer server;
  redis::Client client{server.client_options()};
  FakeClock clock{TimePoint(std::chrono::seconds(1796479387))};
  Store store{client, "acme", clock};

  // Queues one message per person through a normal commit; returns the outbox ids.
  std::vector<std::string> queue_for(const std::vector<std::string>& people) {
    Txn t;
    std::vector<std::string> ids;
    ids.reserve(people.size());
    for (const auto& p : people) {
      ids.push_back(t.send(message_for(p)));
    }
    EXPECT_TRUE(store.commit(t).ok());
    return ids;
  }

  static Message message_for(const std::string& person) {
    Message m;
    m.to = Recipient::person(person);
    m.key = "remind:" + person;
    m.title = "Reminder";
    m.text = "Hi " + person + ", ASK-1 is due Friday.";
    return m;
  }
};

TEST_F(OutboxQueueTest, MessagesQueuedBeforeTheGroupExistsAreDelivered) {
  auto ids = queue_for({"bob", "carol"});
  RedisOutboxQueue queue(store, "replica-1");
  auto got = queue.claim(10, 0ms);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, ids[0]);
  EXPECT_EQ(got[0].message, message_for("bob"));
  EXPECT_EQ(got[1].id, ids[1]);
  EXPECT_EQ(got[1].message.to, Recipient::person("carol"));
  EXPECT_FALSE(got[0].stream_id.empty());
}

TEST_F(OutboxQueueTest, EachEntryIsClaimedOnce) {
  RedisOutboxQueue queue(store, "replica-1", 1h);  // no retry of its own within the test
  EXPECT_TRUE(queue.claim(10, 0ms).empty());
  queue_for({"bob"});
  auto first = queue.claim(10, 0ms);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(queue.claim(10, 0ms).empty());
  EXPECT_TRUE(queue.claim(10, 20ms).empty());  // a short block that finds nothing
  queue_for({"carol"});
  auto second = queue.claim(10, 0ms);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].message.to, Recipient::person("carol"));
}

TEST_F(OutboxQueueTest, ClaimRespectsMax) {
  RedisOutboxQueue queue(store, "replica-1", 1h);
  queue_for({"a", "b", "c", "d", "e"});
  EXPECT_EQ(queue.claim(2, 0ms).size(), 2u);
  EXPECT_EQ(queue.claim(2, 0ms).size(), 2u);
  EXPECT_EQ(queue.claim(2, 0ms).size(), 1u);
  EXPECT_TRUE(queue.claim(0, 0ms).empty());
}

TEST_F(OutboxQueueTest, AckRemovesFromPending) {
  RedisOutboxQueue queue(store, "replica-1");
  queue_for({"bob", "carol"});
  EXPECT_EQ(queue.pending(), 0u);
  auto got = queue.claim(10, 0ms);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(queue.pending(), 2u);
  queue.ack(got[0]);
  EXPECT_EQ(queue.pending(), 1u);
  queue.ack(got[0]);  // acking twice is harmless
  EXPECT_EQ(queue.pending(), 1u);
  queue.ack(got[1]);
  EXPECT_EQ(queue.pending(), 0u);
}

TEST_F(OutboxQueueTest, UnackedEntryIsNotHandedOutAgainAsNew) {
  RedisOutboxQueue one(store, "replica-1");
  queue_for({"bob"});
  ASSERT_EQ(one.claim(10, 0ms).size(), 1u);
  RedisOutboxQueue two(store, "replica-2");  // BUSYGROUP is fine: the group already exists
  EXPECT_TRUE(two.claim(10, 0ms).empty());
  EXPECT_EQ(two.pending(), 1u);
}

TEST_F(OutboxQueueTest, TwoConsumersNeverGetTheSameEntry) {
  std::vector<std::string> people;
  people.reserve(200);
  for (int i = 0; i < 200; ++i) {
    people.push_back("p" + std::to_string(i));
  }
  auto ids = queue_for(people);

  RedisOutboxQueue a(store, "replica-a");
  RedisOutboxQueue b(store, "replica-b");
  std::mutex mu;
  std::vector<std::string> seen_a, seen_b;
  auto work = [&](RedisOutboxQueue& q, std::vector<std::string>& seen) {
    for (;;) {
      auto got = q.claim(7, 0ms);
      if (got.empty()) {
        return;
      }
      for (const auto& e : got) {
        q.ack(e);
        std::lock_guard lock(mu);
        seen.push_back(e.id);
      }
    }
  };
  std::thread ta(work, std::ref(a), std::ref(seen_a));
  std::thread tb(work, std::ref(b), std::ref(seen_b));
  ta.join();
  tb.join();

  std::set<std::string> all(seen_a.begin(), seen_a.end());
  for (const auto& id : seen_b) {
    EXPECT_TRUE(all.insert(id).second) << id << " was handed to both consumers";
  }
  EXPECT_EQ(all, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(seen_a.size() + seen_b.size(), 200u);
  EXPECT_EQ(a.pending(), 0u);
}

TEST_F(OutboxQueueTest, QueuedMessagesSurviveARedisRestart) {
  RedisOutboxQueue queue(store, "replica-1");
  auto ids = queue_for({"bob"});
  server.kill();
  server.restart();
  auto got = queue.claim(10, 0ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, ids[0]);
}

// A send the platform asked to retry (not acknowledged) comes back to the same consumer once
// it has been idle retry_after, marked recovered, instead of waiting for a restart.
TEST_F(OutboxQueueTest, AnEntryLeftForRetryComesBackToItsConsumer) {
  RedisOutboxQueue queue(store, "console-1", 50ms);
  const auto ids = queue_for({"bob", "carol"});
  auto first = queue.claim(10, 0ms);
  ASSERT_EQ(first.size(), 2u);
  queue.ack(first[1]);  // carol delivered; bob's send was throttled
  EXPECT_FALSE(first[0].recovered);
  std::this_thread::sleep_for(120ms);
  auto again = queue.claim(10, 0ms);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, ids[0]);
  EXPECT_TRUE(again[0].recovered);
  EXPECT_TRUE(queue.claim(10, 0ms).empty());  // just handed out: idle time reset
  queue.ack(again[0]);
  std::this_thread::sleep_for(120ms);
  EXPECT_TRUE(queue.claim(10, 0ms).empty());
  EXPECT_EQ(queue.pending(), 0u);
}

// A reply in a channel thread keeps its thread root through the stream (both consumers);
// an entry written before threads existed still loads, as a top-level post.
TEST_F(OutboxQueueTest, ThreadRootSurvivesTheStreamAndOldEntriesStillLoad) {
  Message reply;
  reply.to = Recipient::channel("auditor", "1700000000.000100");
  reply.title = "REQ-7: in progress";
  Txn t;
  const std::string id = t.send(reply);
  ASSERT_TRUE(store.commit(t).ok());
  client.command({"XADD", store.keys().outbox_stream(), "*", "id", "ob-old", "message",
                  R"({"to":{"kind":"channel","id":"auditor"},"title":"REQ-1: received"})"});

  RedisOutboxQueue queue(store, "replica-1", 1h);
  const auto got = queue.claim(10, 0ms);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, id);
  EXPECT_EQ(got[0].message, reply);
  EXPECT_EQ(got[0].message.to.thread, "1700000000.000100");
  EXPECT_EQ(got[1].id, "ob-old");
  EXPECT_EQ(got[1].message.to, Recipient::channel("auditor"));

  // The crash-safe consumer reads the same entries the same way.
  RedisDurableOutbox durable(store, "replica-2", 0ms);
  const auto reclaimed = durable.claim(10, 0ms);
  ASSERT_EQ(reclaimed.size(), 2u);
  for (const auto& e : reclaimed) {
    EXPECT_EQ(e.message, e.id == id ? reply : got[1].message) << e.id;
  }
}

// Acknowledged entries leave the stream, so it does not grow with every message ever sent.
TEST_F(OutboxQueueTest, AcknowledgedEntriesAreTrimmedFromTheStream) {
  RedisOutboxQueue queue(store, "replica-1", 1h);
  queue_for({"a", "b", "c"});
  auto got = queue.claim(10, 0ms);
  ASSERT_EQ(got.size(), 3u);
  queue.ack(got[0]);
  queue.ack(got[2]);
  EXPECT_EQ(client.command({"XLEN", store.keys().outbox_stream()}).integer, 1);
  queue.ack(got[1]);
  EXPECT_EQ(client.command({"XLEN", store.keys().outbox_stream()}).integer, 0);
  queue_for({"d"});
  EXPECT_EQ(queue.claim(10, 0ms).size(), 1u);  // the group still reads new entries
}

}  // namespace
}  // namespace auditbot
