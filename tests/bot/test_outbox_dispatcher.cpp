// The outbox dispatcher settles entries the way delivery guarantees need: delivered and
// hopeless entries are acknowledged, a platform asking to retry leaves the entry pending.
#include "bot/outbox.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>
#include <thread>

namespace auditbot {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// In-memory consumer group: claim hands out new entries, which stay pending until acked.
class MemoryQueue : public OutboxQueue {
 public:
  void push(std::string id) {
    OutboxEntry e;
    e.stream_id = std::to_string(++seq_) + "-0";
    e.id = id;
    e.message.to = Recipient::person("bob");
    e.message.text = "message " + id;
    fresh_.push_back(std::move(e));
  }

  std::vector<OutboxEntry> claim(std::size_t max, std::chrono::milliseconds) override {
    ++claims;
    std::vector<OutboxEntry> out;
    while (!fresh_.empty() && out.size() < max) {
      pending.insert(fresh_.front().id);
      out.push_back(std::move(fresh_.front()));
      fresh_.pop_front();
    }
    if (out.empty() && on_empty) on_empty();
    return out;
  }

  void ack(const OutboxEntry& e) override {
    acked.push_back(e.id);
    pending.erase(e.id);
  }

  std::size_t fresh() const { return fresh_.size(); }

  std::vector<std::string> acked;
  std::set<std::string> pending;
  int claims = 0;
  std::function<void()> on_empty;

 private:
  std::deque<OutboxEntry> fresh_;
  int seq_ = 0;
};

// A platform whose answer per logical id is scripted; delivered by default.
class ScriptedDeliverer : public Deliverer {
 public:
  DeliveryResult deliver(const OutboxEntry& e) override {
    attempts.push_back(e.id);
    if (auto it = script.find(e.id); it != script.end()) return it->second;
    if (throws.count(e.id)) throw std::runtime_error("renderer bug");
    return {};
  }

  std::map<std::string, DeliveryResult> script;
  std::set<std::string> throws;
  std::vector<std::string> attempts;
};

DeliveryResult retry_after(std::chrono::milliseconds d) {
  return {DeliveryResult::Status::retry, d, "429 from platform"};
}

DeliveryResult failed(std::string why) {
  return {DeliveryResult::Status::failed, {}, why};
}

TEST(OutboxDispatcher, DrainDeliversAndAcksEverythingAcrossBatches) {
  MemoryQueue queue;
  for (int i = 0; i < 150; ++i)
    queue.push("m" + std::to_string(i));
  ScriptedDeliverer platform;
  OutboxDispatcher dispatcher(queue, platform);

  EXPECT_EQ(dispatcher.drain(), 150u);
  EXPECT_EQ(queue.acked.size(), 150u);
  EXPECT_EQ(queue.acked.front(), "m0");
  EXPECT_EQ(queue.acked.back(), "m149");
  EXPECT_THAT(queue.pending, IsEmpty());
  EXPECT_EQ(queue.claims, 4);  // 64 + 64 + 22, then one empty claim ends the drain
}

TEST(OutboxDispatcher, EmptyQueueDrainsNothing) {
  MemoryQueue queue;
  ScriptedDeliverer platform;
  EXPECT_EQ(OutboxDispatcher(queue, platform).drain(), 0u);
  EXPECT_THAT(platform.attempts, IsEmpty());
}

TEST(OutboxDispatcher, RetryLeavesTheEntryPendingAndStopsTheDrain) {
  MemoryQueue queue;
  for (const char* id : {"a", "b", "c"})
    queue.push(id);
  ScriptedDeliverer platform;
  platform.script["b"] = retry_after(std::chrono::milliseconds{1500});
  OutboxDispatcher dispatcher(queue, platform);

  EXPECT_EQ(dispatcher.drain(), 1u);
  EXPECT_THAT(queue.acked, ElementsAre("a"));
  EXPECT_TRUE(queue.pending.count("b"));
  EXPECT_THAT(platform.attempts, ElementsAre("a", "b"));  // "c" not sent into a rate limit
}

TEST(OutboxDispatcher, FailedEntryIsAckedSoTheQueueMovesOn) {
  MemoryQueue queue;
  for (const char* id : {"a", "bad", "c", "crash", "d"})
    queue.push(id);
  ScriptedDeliverer platform;
  platform.script["bad"] = failed("channel_not_found");
  platform.throws.insert("crash");
  OutboxDispatcher dispatcher(queue, platform);

  EXPECT_EQ(dispatcher.drain(), 3u);
  EXPECT_THAT(queue.acked, ElementsAre("a", "bad", "c", "crash", "d"));
  EXPECT_THAT(queue.pending, IsEmpty());
}

TEST(OutboxDispatcher, RunDeliversUntilStopped) {
  MemoryQueue queue;
  for (const char* id : {"a", "b", "c"})
    queue.push(id);
  ScriptedDeliverer platform;
  platform.script["b"] = retry_after(std::chrono::milliseconds{0});
  std::atomic<bool> stop{false};
  queue.on_empty = [&] { stop = true; };

  OutboxDispatcher(queue, platform).run(stop);

  // After waiting out the retry, the rest of the claimed batch still goes out.
  EXPECT_THAT(queue.acked, ElementsAre("a", "c"));
  EXPECT_TRUE(queue.pending.count("b"));
}

TEST(OutboxDispatcher, RunSurvivesAQueueFailure) {
  class FlakyQueue : public MemoryQueue {
   public:
    std::vector<OutboxEntry> claim(std::size_t max, std::chrono::milliseconds b) override {
      if (!failed_once) {
        failed_once = true;
        throw std::runtime_error("connection reset");
      }
      return MemoryQueue::claim(max, b);
    }
    bool failed_once = false;
  };
  FlakyQueue queue;
  queue.push("a");
  ScriptedDeliverer platform;
  std::atomic<bool> stop{false};
  queue.on_empty = [&] { stop = true; };

  OutboxDispatcher(queue, platform).run(stop);

  EXPECT_TRUE(queue.failed_once);
  EXPECT_THAT(queue.acked, ElementsAre("a"));
}

}  // namespace
}  // namespace auditbot
