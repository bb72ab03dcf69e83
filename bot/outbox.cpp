// The outbox dispatcher: hands queued entries to the platform's deliverer and acknowledges
// each one only once it is settled, so a crash before the ack means redelivery, not loss.
#include "bot/outbox.hpp"

#include <algorithm>
#include <functional>
#include <thread>

#include "bot/log.hpp"

namespace auditbot {

namespace {

constexpr std::size_t kBatch = 64;
constexpr std::chrono::milliseconds kClaimBlock{200};
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

void OutboxDispatcher::pace() {
  if (options_.min_interval.count() <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (next_send_ > now) std::this_thread::sleep_for(next_send_ - now);
  next_send_ = std::max(now, next_send_) + options_.min_interval;
}

DeliveryResult OutboxDispatcher::deliver_one(const OutboxEntry& e) {
  DeliveryResult result;
  // Already delivered (recorded in the ledger, or the platform has it): settle, never resend.
  if (options_.ledger) {
    if (auto id = options_.ledger->find(e.id)) {
      queue_.ack(e);
      result.platform_id = *id;
      result.detail = "already delivered";
      return result;
    }
  }
  if (e.recovered) {
    std::optional<std::string> found;
    try {
      found = deliverer_.find_delivered(e);
    } catch (const std::exception& ex) {
      result.status = DeliveryResult::Status::retry;  // cannot tell yet: ask again later
      result.detail = ex.what();
      return result;
    }
    if (found) {
      if (options_.ledger) options_.ledger->record(e.id, *found);
      queue_.ack(e);
      result.platform_id = *found;
      result.detail = "found on the platform";
      return result;
    }
  }
  if (!queue_.renew(e)) {  // another replica took it over: it is theirs to deliver
    result.status = DeliveryResult::Status::failed;
    result.detail = "taken over";
    return result;
  }
  pace();
  try {
    result = deliverer_.deliver(e);
  } catch (const std::exception& ex) {
    result.status = DeliveryResult::Status::failed;
    result.detail = ex.what();
  }
  switch (result.status) {
    case DeliveryResult::Status::delivered:
      // Ledger first: a crash between the two redelivers to a replica that finds it here.
      if (options_.ledger) options_.ledger->record(e.id, result.platform_id);
      queue_.ack(e);
      break;
    case DeliveryResult::Status::retry:
      log::info("outbox.retry", {{"id", e.id},
                                 {"stream_id", e.stream_id},
                                 {"after_ms", std::to_string(result.retry_after.count())},
                                 {"detail", result.detail}});
      break;
    case DeliveryResult::Status::failed:
      if (result.detail == "taken over") break;
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

void OutboxDispatcher::settle(OutboxEntry e, int attempts) {
  const DeliveryResult r = deliver_one(e);
  if (r.status != DeliveryResult::Status::retry) return;
  ++attempts;
  auto wait = r.retry_after;
  if (wait.count() <= 0) {
    // Exponential backoff with jitter for 5xx and lost connections.
    const auto exp = options_.backoff_min * (1LL << std::min(attempts - 1, 16));
    wait = std::min<std::chrono::milliseconds>(exp, options_.backoff_max);
    wait += std::chrono::milliseconds(static_cast<std::int64_t>(
        (std::hash<std::string>{}(e.id) + static_cast<std::size_t>(attempts)) % 100));
  }
  wait = std::min(wait, kMaxRetryPause);
  e.recovered = true;  // the attempt may have reached the platform (connection lost)
  queue_.renew(e);     // parked, not abandoned: keep it ours
  waiting_.push_back({std::move(e), std::chrono::steady_clock::now() + wait, attempts});
}

void OutboxDispatcher::run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    try {
      // Parked entries whose backoff is over go first; the rest keep waiting.
      const auto now = std::chrono::steady_clock::now();
      std::size_t n = waiting_.size();
      bool any_ready = false;
      for (std::size_t i = 0; i < n && !stop.load(); ++i) {
        Waiting w = std::move(waiting_.front());
        waiting_.pop_front();
        if (w.not_before <= now) {
          any_ready = true;
          settle(std::move(w.entry), w.attempts);
        } else {
          waiting_.push_back(std::move(w));
        }
      }
      const auto block = waiting_.empty() ? kClaimBlock : std::chrono::milliseconds{0};
      const std::vector<OutboxEntry> batch = queue_.claim(kBatch, block);
      for (const OutboxEntry& e : batch) {
        if (stop.load()) break;
        // A parked entry handed out again (the queue saw it idle): the parked copy decides.
        const bool parked = std::any_of(waiting_.begin(), waiting_.end(), [&](const Waiting& w) {
          return w.entry.stream_id == e.stream_id;
        });
        if (!parked) settle(e, 0);
      }
      if (batch.empty() && !any_ready && !waiting_.empty()) pause(kSleepSlice, stop);
    } catch (const std::exception& ex) {
      // The queue itself failed (Redis away): keep the dispatcher alive and try again.
      log::error("outbox.queue_failed", {{"error", ex.what()}});
      pause(kQueueErrorPause, stop);
    }
  }
}

}  // namespace auditbot
