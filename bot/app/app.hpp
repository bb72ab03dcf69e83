// The app wiring: builds the store, directory, calendar, handlers and router from one
// Config, so `serve`, `console`, the CLI tools and end-to-end tests share one assembly.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "bot/calendar.hpp"
#include "bot/clock.hpp"
#include "bot/http_server.hpp"
#include "bot/people.hpp"
#include "bot/router.hpp"
#include "config/config.hpp"
#include "handlers/evidence.hpp"
#include "handlers/evidence_asks.hpp"
#include "handlers/findings.hpp"
#include "handlers/gaps.hpp"
#include "handlers/mine.hpp"
#include "handlers/policies.hpp"
#include "handlers/reminders.hpp"
#include "handlers/reports.hpp"
#include "handlers/requests.hpp"
#include "handlers/services.hpp"
#include "integrations/redis/job_queue.hpp"
#include "integrations/redis/redis_client.hpp"
#include "integrations/redis/store.hpp"

namespace auditbot {

class App {
 public:
  // Does not touch Redis yet (connections open on first use).
  App(Config config, const Clock& clock);
  ~App();

  const Config& config() const { return config_; }
  const Directory& people() const { return people_; }
  redis::Client& redis() { return *redis_; }
  Store& store() { return store_; }
  Services& services() { return services_; }
  Router& router() { return router_; }
  const Clock& clock() const { return clock_; }

  // Imports config.controls_file into the store when it holds no controls yet.
  std::size_t seed_controls();
  // /healthz, /readyz (Redis reachable, else 503), /metrics.
  std::vector<HttpRoute> http_routes();

 private:
  Config config_;
  const Clock& clock_;
  Directory people_;
  BusinessCalendar calendar_;
  std::unique_ptr<redis::Client> redis_;
  Store store_;
  Services services_;
  Router router_;
  EvidenceAsks asks_;
  MyItems mine_;
  Gaps gaps_;
  Policies policies_;

 public:
  Gaps& gaps() { return gaps_; }
  Policies& policies() { return policies_; }
  // Imports config policies the store does not know yet (serve and console call it).
  std::size_t seed_policies() { return policies_.import_from_config(); }

 private:
  ControlMatrix matrix_;
  EvidenceFreshness freshness_;
  RequestLog requests_;

 public:
  ControlMatrix& control_matrix() { return matrix_; }
  // The scheduler calls freshness().run_pass(now) on each pass.
  EvidenceFreshness& freshness() { return freshness_; }
  RequestLog& requests() { return requests_; }

 private:  // the engine: scheduler, reminders, reports (issue 7)
  RedisJobQueue jobs_;
  Scheduler scheduler_;
  Reminders reminders_;
  Reports reports_;
  std::optional<TimePoint> zones_read_at_;  // when refresh_learned_timezones last ran

 public:
  RedisJobQueue& jobs() { return jobs_; }
  Scheduler& scheduler() { return scheduler_; }
  Reports& reports() { return reports_; }
  // One scheduler pass as of `now` (serve, `scheduler run-once`, tests). Reads the zones
  // platforms reported for people first (at most once a minute).
  Scheduler::PassResult run_scheduler_pass(TimePoint now);
  // Reads the learned zones (Keys::learned_timezones) into the directory now.
  void refresh_learned_timezones();
  // A serve replica that delivers to Slack or Teams says so every few seconds; the console
  // leaves the queue to such replicas. Replicas seen within the last minute, by name.
  void mark_delivering(const std::string& replica, TimePoint now);
  void unmark_delivering(const std::string& replica);
  std::vector<std::string> delivering_replicas(TimePoint now);

 private:  // findings and management responses (issue 5)
  Findings findings_;

 public:
  Findings& findings() { return findings_; }
};

redis::Options redis_options_from(const Config& config);

}  // namespace auditbot
