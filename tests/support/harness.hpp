// End-to-end test harness: a real redis-server, a fake clock, the whole app wired as in
// production, and a recording deliverer that shows what each person was sent.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bot/app/app.hpp"
#include "bot/outbox.hpp"
#include "integrations/redis/outbox_queue.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {

// The test organisation: alice (admin), lena (liaison), bob and kenji (owners), dana
// (approver, their manager), ava (auditor); controls AC-01 (bob) and CM-01 (kenji).
Config test_config(const std::string& redis_url);
std::vector<Control> test_controls();

class RecordingDeliverer final : public Deliverer {
 public:
  DeliveryResult deliver(const OutboxEntry& e) override;
  std::vector<OutboxEntry> entries;
};

// 2026-12-01 15:00 UTC, a Tuesday: working hours in New York, Berlin and Los Angeles.
TimePoint default_start();

class Harness {
 public:
  explicit Harness(TimePoint start = default_start());
  // The test organisation changed by `adjust` (more people, policies...), kept on restart.
  explicit Harness(std::function<void(Config&)> adjust, TimePoint start = default_start());
  ~Harness();

  // Runs "/soc2 <text>" as `person`; delivers what it queued.
  Reply command(const std::string& person, const std::string& text,
                const std::string& event_id = "");
  // Presses `action_id` with `value` as `person`.
  Reply press(const std::string& person, const std::string& action_id, const std::string& value,
              std::map<std::string, std::string> inputs = {}, const std::string& event_id = "");
  // `person` joined the workspace (the neutral PersonJoined event); delivers what it queued.
  void join(const std::string& person);
  // Delivers whatever is queued (after calling a handler function directly).
  void deliver() { drain(); }
  // Presses the button with `action_id` on the latest message `person` got with that button.
  Reply press_latest(const std::string& person, const std::string& action_id,
                     std::map<std::string, std::string> inputs = {});

  // Everything delivered to `person` (or channel) so far, oldest first.
  std::vector<Message> sent_to(const std::string& person) const;
  // The latest version of each message key sent to `person`.
  const Message* latest(const std::string& person, const std::string& key_prefix) const;
  std::size_t delivered() const { return deliverer_.entries.size(); }

  std::map<std::string, std::string> item(const std::string& id);
  std::vector<AuditEntry> audit_entries();
  std::int64_t redis_key_count();  // DBSIZE: for "nothing changed" checks

  // Drops and rebuilds the app (a bot restart) against the same Redis.
  void restart_app();
  // Sets the clock to `now`, runs one scheduler pass and delivers what it queued.
  Scheduler::PassResult run_scheduler(TimePoint now);

  RedisServer& redis() { return redis_; }
  FakeClock& clock() { return clock_; }
  App& app() { return *app_; }

 private:
  void drain();
  RedisServer redis_;
  FakeClock clock_;
  std::unique_ptr<App> app_;
  std::unique_ptr<RedisOutboxQueue> queue_;
  RecordingDeliverer deliverer_;
  std::uint64_t counter_ = 0;
  std::function<void(Config&)> adjust_;
  Config config() const;
};

}  // namespace auditbot::test
