// The outbox consumer that survives crashes: new entries, plus entries another replica
// claimed and never acknowledged (XAUTOCLAIM after `min_idle`), plus the delivery ledger.
#pragma once

#include <string>

#include "bot/outbox.hpp"
#include "integrations/redis/store.hpp"

namespace auditbot {

class RedisDurableOutbox final : public OutboxQueue, public DeliveryLedger {
 public:
  // Creates the group ("delivery") if missing. `consumer` names this replica.
  RedisDurableOutbox(Store& store, std::string consumer,
                     std::chrono::milliseconds min_idle = std::chrono::seconds{90});
  std::vector<OutboxEntry> claim(std::size_t max, std::chrono::milliseconds block) override;
  void ack(const OutboxEntry& e) override;
  bool renew(const OutboxEntry& e) override;
  std::optional<std::string> find(const std::string& outbox_id) override;
  void record(const std::string& outbox_id, const std::string& platform_id) override;
  std::size_t pending();  // claimed by any consumer, not acknowledged yet

 private:
  Store& store_;
  std::string consumer_;
  std::chrono::milliseconds min_idle_;
  std::string cursor_ = "0-0";  // XAUTOCLAIM scan position
};

}  // namespace auditbot
