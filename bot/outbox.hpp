// The outbox: every outbound message is queued (durably, with a stable id) in the same
// atomic change that caused it, then delivered by a dispatcher that acknowledges an entry
// only after the platform accepted it.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "bot/message.hpp"

namespace auditbot {

struct OutboxEntry {
  std::string stream_id;  // position in the queue (Redis stream id)
  std::string id;         // stable logical id: never delivered twice under one id
  Message message;
  // Handed out before (reclaimed from a crashed replica or retried): the platform may
  // already have it, so the dispatcher asks the ledger and the deliverer first.
  bool recovered = false;
};

// Where queued entries come from (Redis Streams consumer group in production).
class OutboxQueue {
 public:
  virtual ~OutboxQueue() = default;
  // New entries for this consumer; waits up to `block` when none (zero = do not wait).
  virtual std::vector<OutboxEntry> claim(std::size_t max, std::chrono::milliseconds block) = 0;
  virtual void ack(const OutboxEntry& e) = 0;
  // True while this consumer still holds `e` (and resets its idle time, so no other replica
  // reclaims it); false when another replica has taken it over. Call before each send.
  virtual bool renew(const OutboxEntry&) { return true; }
};

struct DeliveryResult {
  enum class Status { delivered, retry, failed };
  Status status = Status::delivered;
  std::chrono::milliseconds retry_after{0};
  std::string detail;       // for the log; never contains secrets
  std::string platform_id;  // the platform's message id when delivered (Slack ts, activity id)
};

// A platform's sender: renders the neutral message and hands it over.
class Deliverer {
 public:
  virtual ~Deliverer() = default;
  virtual DeliveryResult deliver(const OutboxEntry& e) = 0;
  // For a recovered entry: the platform message id when the platform already has it (Slack:
  // message metadata carrying the outbox id; Teams: the activity id). nullopt = not known.
  virtual std::optional<std::string> find_delivered(const OutboxEntry&) { return std::nullopt; }
};

// Outbox id -> platform message id, written right after the platform accepted a message.
class DeliveryLedger {
 public:
  virtual ~DeliveryLedger() = default;
  virtual std::optional<std::string> find(const std::string& outbox_id) = 0;
  virtual void record(const std::string& outbox_id, const std::string& platform_id) = 0;
};

struct DispatcherOptions {
  DeliveryLedger* ledger = nullptr;            // exactly-once across crashes when set
  std::chrono::milliseconds min_interval{0};   // pacing: at most one send per interval
  std::chrono::milliseconds backoff_min{200};  // 5xx / connection loss without Retry-After
  std::chrono::milliseconds backoff_max{30'000};
};

class OutboxDispatcher {
 public:
  OutboxDispatcher(OutboxQueue& queue, Deliverer& deliverer)
      : queue_(queue), deliverer_(deliverer) {}
  OutboxDispatcher(OutboxQueue& queue, Deliverer& deliverer, DispatcherOptions options)
      : queue_(queue), deliverer_(deliverer), options_(options) {}
  // Delivers everything queued now without waiting; returns how many were delivered.
  std::size_t drain();
  // Delivers until `stop` becomes true.
  void run(const std::atomic<bool>& stop);

 private:
  // Delivers and settles one entry (ack unless the platform asked to retry).
  DeliveryResult deliver_one(const OutboxEntry& e);
  // Delivers, or parks the entry with a backoff so the entries behind it keep moving.
  void settle(OutboxEntry e, int attempts);
  void pace();
  struct Waiting {
    OutboxEntry entry;
    std::chrono::steady_clock::time_point not_before;
    int attempts = 0;
  };
  OutboxQueue& queue_;
  Deliverer& deliverer_;
  DispatcherOptions options_;
  std::deque<Waiting> waiting_;
  std::chrono::steady_clock::time_point next_send_{};
};

}  // namespace auditbot
