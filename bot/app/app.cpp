#include "bot/app/app.hpp"

#include <unistd.h>

#include "bot/app/admin_api.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "handlers/controls.hpp"

namespace auditbot {

// Names this process among replicas sharing one Redis (leases and consumer names).
std::string replica_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

redis::Options redis_options_from(const Config& config) {
  auto o = redis::Options::from_url(config.redis_url);
  o.sentinels = config.redis_sentinels;
  o.master_name = config.redis_master_name;
  return o;
}

App::App(Config config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      people_(config_.people, config_.org_timezone),
      calendar_(config_.working_hours, config_.holidays),
      redis_(std::make_unique<redis::Client>(redis_options_from(config_))),
      store_(*redis_, config_.org_id, clock_),
      services_{config_, people_, store_, clock_, calendar_},
      router_(people_),
      asks_(services_),
      mine_(services_),
      gaps_(services_),
      policies_(services_),
      matrix_(services_),
      freshness_(services_, asks_),
      requests_(services_),
      jobs_(store_),
      scheduler_(jobs_, replica_name()),
      reminders_(services_, jobs_),
      reports_(services_, jobs_),
      findings_(services_, gaps_) {
  asks_.register_with(router_);
  mine_.register_with(router_);
  gaps_.register_with(router_);
  policies_.register_with(router_);
  matrix_.register_with(router_);
  requests_.register_with(router_);
  reminders_.register_with(router_);
  reminders_.register_jobs(scheduler_);
  reports_.register_with(router_);
  reports_.register_jobs(scheduler_);
  findings_.register_with(router_);
}

void App::refresh_learned_timezones() {
  std::unordered_map<std::string, std::string> zones;
  if (auto h = store_.hgetall(store_.keys().learned_timezones())) {
    for (auto& [person, tz] : *h) {
      if (BusinessCalendar::is_valid_zone(tz)) zones.emplace(person, std::move(tz));
    }
  }
  people_.set_learned_timezones(std::move(zones));
}

namespace {
std::string ms_since_epoch(TimePoint t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}
}  // namespace

void App::mark_delivering(const std::string& replica, TimePoint now) {
  store_.client().command(
      {"ZADD", store_.keys().key("delivery:replicas"), ms_since_epoch(now), replica});
}

void App::unmark_delivering(const std::string& replica) {
  store_.client().command({"ZREM", store_.keys().key("delivery:replicas"), replica});
}

std::vector<std::string> App::delivering_replicas(TimePoint now) {
  const auto key = store_.keys().key("delivery:replicas");
  store_.client().command(
      {"ZREMRANGEBYSCORE", key, "-inf", "(" + ms_since_epoch(now - std::chrono::minutes(1))});
  std::vector<std::string> out;
  for (const auto& e : store_.client().command({"ZRANGE", key, "0", "-1"}).elements)
    out.push_back(e.str);
  return out;
}

Scheduler::PassResult App::run_scheduler_pass(TimePoint now) {
  if (!zones_read_at_ || now - *zones_read_at_ >= std::chrono::minutes(1) ||
      now < *zones_read_at_) {
    refresh_learned_timezones();
    zones_read_at_ = now;
  }
  reports_.ensure_jobs(now);
  auto r = scheduler_.run_pass(now);
  freshness_.run_pass(now);
  return r;
}

App::~App() = default;

std::size_t App::seed_controls() {
  if (config_.controls_file.empty()) return 0;
  const auto controls = load_controls_file(config_.controls_file, people_);
  const std::size_t n = ControlCatalog(services_).seed_if_empty(controls);
  if (n > 0) log::info("controls.seeded", {{"count", std::to_string(n)}});
  return n;
}

std::vector<HttpRoute> App::http_routes() {
  namespace http = boost::beast::http;
  std::vector<HttpRoute> routes;
  routes.push_back({http::verb::get, "/healthz", 0, [](const HttpRequest& req) {
                      return make_response(req, http::status::ok, "ok\n");
                    }});
  routes.push_back(
      {http::verb::get, "/readyz", 0, [this](const HttpRequest& req) {
         bool ready = false;
         try {
           ready = redis_->ping();
         } catch (const std::exception&) {
           ready = false;
         }
         Metrics::global()
             .gauge("auditbot_redis_up", "1 when Redis answered the last readiness check")
             .store(ready ? 1 : 0);
         return ready
                    ? make_response(req, http::status::ok, "ready\n")
                    : make_response(req, http::status::service_unavailable, "redis unreachable\n");
       }});
  routes.push_back({http::verb::get, "/metrics", 0, [](const HttpRequest& req) {
                      return make_response(req, http::status::ok, Metrics::global().render(),
                                           "text/plain; version=0.0.4");
                    }});
  routes.push_back(matrix_.evidence_hook_route());
  for (auto& r : admin_api_routes(*this))
    routes.push_back(std::move(r));
  return routes;
}

}  // namespace auditbot
