// The outbox queue on a Redis Stream with a consumer group: entries are claimed by one
// consumer and acknowledged (XACK) only after the platform accepted them.
#pragma once

#include <string>

#include "bot/outbox.hpp"
#include "integrations/redis/store.hpp"

namespace auditbot {

class RedisOutboxQueue final : public OutboxQueue {
 public:
  // Creates the group ("delivery") if missing. `consumer` names this replica.
  RedisOutboxQueue(Store& store, std::string consumer);
  std::vector<OutboxEntry> claim(std::size_t max, std::chrono::milliseconds block) override;
  void ack(const OutboxEntry& e) override;
  // Entries claimed by any consumer but not yet acknowledged.
  std::size_t pending();

 private:
  Store& store_;
  std::string consumer_;
};

}  // namespace auditbot
