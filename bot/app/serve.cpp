#include "bot/app/serve.hpp"

#include <atomic>
#include <iostream>
#include <memory>
#include <thread>

#include "bot/app/app.hpp"
#include "bot/app/teams_service.hpp"
#include "bot/log.hpp"
#include "bot/outbox.hpp"
#include "integrations/redis/durable_outbox.hpp"
#include "integrations/slack/slack.hpp"

namespace auditbot {

std::string replica_name();  // bot/app/app.cpp

namespace {

// Runs `body` every `period` on its own thread until stop() (one place for the loop and the
// prompt shutdown both background workers need).
class Periodic {
 public:
  Periodic(std::string name, std::chrono::milliseconds period, std::function<void()> body)
      : name_(std::move(name)), thread_([this, period, body = std::move(body)] {
          while (!stop_.load()) {
            try {
              body();
            } catch (const std::exception& e) {
              log::error(name_ + ".failed", {{"error", e.what()}});
            }
            const auto until = std::chrono::steady_clock::now() + period;
            while (!stop_.load() && std::chrono::steady_clock::now() < until) {
              std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
          }
        }) {}
  ~Periodic() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::string name_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

int run_serve(const Config& config) {
  SystemClock clock;
  App app(config, clock);
  try {
    if (!app.redis().ping()) throw std::runtime_error("no PONG");
  } catch (const std::exception&) {
    const auto o = redis_options_from(config);
    std::cerr << "auditbot: Redis at " << o.host << ":" << o.port
              << " is not reachable. Start one (make redis) or set REDIS_URL.\n";
    return 1;
  }
  app.seed_controls();
  app.seed_policies();

  HttpServerOptions options;
  options.listen = config.listen;
  options.body_limit = config.http_body_limit;
  options.header_limit = config.http_header_limit;
  options.read_timeout = config.http_read_timeout;
  auto routes = app.http_routes();

  // Slack: POST /slack/events (HTTP mode) or Socket Mode, and delivery through the Web API.
  std::unique_ptr<slack::SlackIntegration> slack_app;
  if (config.slack_configured()) {
    slack_app = std::make_unique<slack::SlackIntegration>(config, app.router(), app.people(),
                                                          app.store(), clock);
    try {
      slack_app->check_token();
      log::info("slack.auth_ok");
    } catch (const std::exception& e) {
      log::error("slack.auth_failed", {{"detail", e.what()}});
    }
    routes.push_back(slack_app->route());
    // Socket Mode (SLACK_APP_TOKEN): same handlers over an outbound WebSocket.
    if (slack_app->start_socket_mode()) log::info("slack.socket_mode_started");
  }

  // The deliverer the outbox dispatcher hands every entry to (Teams wraps Slack when both run).
  Deliverer* deliverer = slack_app ? &slack_app->deliverer() : nullptr;

  // Teams: POST /api/messages, and people with a Teams reference get their messages there.
  std::unique_ptr<TeamsService> teams_app;
  std::unique_ptr<Deliverer> teams_deliverer;
  if (config.teams_configured()) {
    teams_app = std::make_unique<TeamsService>(app, clock);
    routes.push_back(teams_app->route());
    teams_deliverer = teams_app->deliverer(deliverer);
    deliverer = teams_deliverer.get();
    log::info("teams.enabled");
  }

  HttpServer server(options, std::move(routes));
  const auto port = server.start();
  log::info("serve.started", {{"listen", config.listen}, {"port", std::to_string(port)}});

  // Durable delivery: a consumer group member per replica; entries a crashed replica held are
  // reclaimed, and the ledger plus the platform's own record keep each message to one send.
  std::atomic<bool> stop_outbox{false};
  std::unique_ptr<RedisDurableOutbox> outbox;
  std::thread outbox_thread;
  if (deliverer) {
    outbox = std::make_unique<RedisDurableOutbox>(app.store(), replica_name(),
                                                  config.outbox_reclaim_after);
    DispatcherOptions dispatch;
    dispatch.ledger = outbox.get();
    // Marked before the first claim, so a console opened beside it stops printing (and so
    // consuming) this organisation's messages at once; each scheduler pass renews the mark.
    try {
      app.mark_delivering(replica_name(), clock.now());
    } catch (const std::exception& e) {
      log::warn("serve.mark_failed", {{"detail", e.what()}});
    }
    // The dispatcher survives Redis outages itself (logs, pauses, claims again).
    outbox_thread = std::thread(
        [&, dispatch] { OutboxDispatcher(*outbox, *deliverer, dispatch).run(stop_outbox); });
  } else {
    log::warn("serve.no_platform",
              {{"detail", "no Slack or Teams credentials: outbound messages stay queued"}});
  }

  // The scheduler: a pass every few seconds; leases keep replicas from running a job twice.
  Periodic scheduler("scheduler.pass", std::chrono::seconds(5), [&] {
    if (deliverer) app.mark_delivering(replica_name(), clock.now());
    app.run_scheduler_pass(clock.now());
  });

  // People's time zones as Slack reports them, for reminders in their own hours: at start and
  // daily after (a zone in the config wins).
  std::atomic<bool> stopping{false};
  std::unique_ptr<Periodic> zone_sync;
  if (slack_app) {
    zone_sync = std::make_unique<Periodic>("slack.zone_sync", std::chrono::hours(24), [&] {
      const auto changed = slack_app->people().sync_timezones(stopping);
      app.refresh_learned_timezones();
      log::info("slack.zones_synced", {{"changed", std::to_string(changed)}});
    });
  }

  server.wait_for_signal();
  stopping.store(true);
  if (slack_app) slack_app->stop_socket_mode();
  scheduler.stop();
  stop_outbox.store(true);
  // Nothing waits out a Retry-After or backoff now: the outbox and the zone sync end promptly
  // (what they had under way stays queued or is synced next time).
  if (slack_app) slack_app->api().stop_waiting();
  if (outbox_thread.joinable()) outbox_thread.join();
  if (zone_sync) zone_sync->stop();
  if (deliverer) {
    try {
      app.unmark_delivering(replica_name());
    } catch (const std::exception& e) {
      log::warn("serve.unmark_failed", {{"detail", e.what()}});
    }
  }
  log::info("serve.stopped");
  return 0;
}

}  // namespace auditbot
