// The outbox dispatcher: hands queued entries to the platform's deliverer and acknowledges
// each one only once it is settled, so a crash before the ack means redelivery, not loss.
#include "bot/outbox.hpp"

#include <algorithm>
#include <thread>

#include "bot/log.hpp"

namespace auditbot {

namespace {

constexpr std::size_t kBatch = 64;
constexpr std::chrono::milliseconds kClaimBlock{200};
constexpr std::chrono::milliseconds kMinRetryPause{100};
// A platform asking for longer than this is treated as "later"; stop stays responsive.
constexpr std::chrono::milliseconds kMaxRetryPause{60'000};
constexpr std::chrono::milliseconds kQueueErrorPause{1'000};
constexpr std::chrono::milliseconds kSleepSlice{50};

// Sleeps up to `d`, waking early when `stop` is set.
void pause(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  while (d.count() > 0 && !stop.load()) {
    const auto slice = std::min(d, kSleepSlice);
    std::this_thread::sleep_for(slice);
    d -= slice;
  }
}

}  // namespace

DeliveryResult OutboxDispatcher::deliver_one(const OutboxEntry& e) {
  DeliveryResult result;
  try {
    result = deliverer_.deliver(e);
  } catch (const std::exception& ex) {
    result.status = DeliveryResult::Status::failed;
    result.detail = ex.what();
  }
  switch (result.status) {
    case DeliveryResult::Status::delivered:
      queue_.ack(e);
      break;
    case DeliveryResult::Status::retry:
      log::info("outbox.retry", {{"id", e.id},
                                 {"stream_id", e.stream_id},
                                 {"after_ms", std::to_string(result.retry_after.count())},
                                 {"detail", result.detail}});
      break;
    case DeliveryResult::Status::failed:
      log::error("outbox.failed",
                 {{"id", e.id}, {"stream_id", e.stream_id}, {"detail", result.detail}});
      // Acked anyway: one message the platform will never take must not block those behind it.
      queue_.ack(e);
      break;
  }
  return result;
}

std::size_t OutboxDispatcher::drain() {
  std::size_t delivered = 0;
  for (;;) {
    const std::vector<OutboxEntry> batch = queue_.claim(kBatch, std::chrono::milliseconds{0});
    if (batch.empty()) return delivered;
    for (const OutboxEntry& e : batch) {
      const DeliveryResult r = deliver_one(e);
      if (r.status == DeliveryResult::Status::retry) return delivered;
      if (r.status == DeliveryResult::Status::delivered) ++delivered;
    }
  }
}

void OutboxDispatcher::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    try {
      const std::vector<OutboxEntry> batch = queue_.claim(kBatch, kClaimBlock);
      for (const OutboxEntry& e : batch) {
        if (stop.load()) break;
        const DeliveryResult r = deliver_one(e);
        // The rest of the batch is already claimed: wait out the platform, then carry on.
        if (r.status == DeliveryResult::Status::retry) {
          pause(std::clamp(r.retry_after, kMinRetryPause, kMaxRetryPause), stop);
        }
      }
    } catch (const std::exception& ex) {
      // The queue itself failed (Redis away): keep the dispatcher alive and try again.
      log::error("outbox.queue_failed", {{"error", ex.what()}});
      pause(kQueueErrorPause, stop);
    }
  }
}

}  // namespace auditbot
