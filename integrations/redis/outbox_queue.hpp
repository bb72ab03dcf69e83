// The outbox queue on a Redis Stream with a consumer group: entries are claimed by one
// consumer and acknowledged (XACK) only after the platform accepted them.
#pragma once

#include <chrono>
#include <string>

#include "bot/outbox.hpp"
#include "integrations/redis/store.hpp"

namespace auditbot {

class RedisOutboxQueue final : public OutboxQueue {
 public:
  // Creates the group ("delivery") if missing. `consumer` names this replica. Entries this
  // consumer holds unacknowledged (a send the platform asked to retry) come back from claim
  // once they have been idle `retry_after`.
  RedisOutboxQueue(Store& store, std::string consumer,
                   std::chrono::milliseconds retry_after = std::chrono::seconds{1});
  std::vector<OutboxEntry> claim(std::size_t max, std::chrono::milliseconds block) override;
  void ack(const OutboxEntry& e) override;
  // Entries claimed by any consumer but not yet acknowledged.
  std::size_t pending();

 private:
  // This consumer's own unacknowledged entries idle at least retry_after_ (XPENDING + XCLAIM).
  std::vector<OutboxEntry> retry_own(std::size_t max);

  Store& store_;
  std::string consumer_;
  std::chrono::milliseconds retry_after_;
};

}  // namespace auditbot
