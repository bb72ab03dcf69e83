// The outbox: every outbound message is queued (durably, with a stable id) in the same
// atomic change that caused it, then delivered by a dispatcher that acknowledges an entry
// only after the platform accepted it.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "bot/message.hpp"

namespace auditbot {

struct OutboxEntry {
  std::string stream_id;  // position in the queue (Redis stream id)
  std::string id;         // stable logical id: never delivered twice under one id
  Message message;
};

// Where queued entries come from (Redis Streams consumer group in production).
class OutboxQueue {
 public:
  virtual ~OutboxQueue() = default;
  // New entries for this consumer; waits up to `block` when none (zero = do not wait).
  virtual std::vector<OutboxEntry> claim(std::size_t max, std::chrono::milliseconds block) = 0;
  virtual void ack(const OutboxEntry& e) = 0;
};

struct DeliveryResult {
  enum class Status { delivered, retry, failed };
  Status status = Status::delivered;
  std::chrono::milliseconds retry_after{0};
  std::string detail;  // for the log; never contains secrets
};

// A platform's sender: renders the neutral message and hands it over.
class Deliverer {
 public:
  virtual ~Deliverer() = default;
  virtual DeliveryResult deliver(const OutboxEntry& e) = 0;
};

class OutboxDispatcher {
 public:
  OutboxDispatcher(OutboxQueue& queue, Deliverer& deliverer)
      : queue_(queue), deliverer_(deliverer) {}
  // Delivers everything queued now without waiting; returns how many were delivered.
  std::size_t drain();
  // Delivers until `stop` becomes true.
  void run(const std::atomic<bool>& stop);

 private:
  // Delivers and settles one entry (ack unless the platform asked to retry).
  DeliveryResult deliver_one(const OutboxEntry& e);
  OutboxQueue& queue_;
  Deliverer& deliverer_;
};

}  // namespace auditbot
