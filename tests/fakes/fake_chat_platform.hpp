// A minimal fake chat platform over plain HTTP on loopback for outbox tests: records every
// accepted message by outbox id, answers 429 (Retry-After) to every Nth send, and answers
// lookups by outbox id (what Slack message metadata gives the real deliverer).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "bot/outbox.hpp"

namespace auditbot::test {

class FakeChatPlatform {
 public:
  explicit FakeChatPlatform(int throttle_every = 5, int retry_after_seconds = 1);
  ~FakeChatPlatform();
  int port() const { return port_; }
  std::map<std::string, int> accepted();  // outbox id -> times accepted
  std::size_t unique_accepted();
  long sends() const { return sends_.load(); }
  long throttled() const { return throttled_.load(); }

 private:
  void serve();
  void handle(int fd);
  int listen_fd_ = -1;
  int port_ = 0;
  int throttle_every_;
  int retry_after_;
  std::atomic<bool> stop_{false};
  std::atomic<long> sends_{0}, throttled_{0};
  std::mutex mu_;
  std::map<std::string, int> accepted_;
  std::map<std::string, std::string> ts_;
  std::thread thread_;
};

// Test-only deliverer for FakeChatPlatform: POST /send, GET /lookup. Connection loss and
// 5xx are "retry"; 429 carries Retry-After. `crash_after` > 0 raises SIGKILL right after
// the Nth accepted send, before anything is recorded (the crash the ledger must survive).
class FakePlatformDeliverer final : public Deliverer {
 public:
  explicit FakePlatformDeliverer(int port, int crash_after = 0)
      : port_(port), crash_after_(crash_after) {}
  DeliveryResult deliver(const OutboxEntry& e) override;
  std::optional<std::string> find_delivered(const OutboxEntry& e) override;

 private:
  int port_;
  int crash_after_;
  int accepted_ = 0;
};

}  // namespace auditbot::test
