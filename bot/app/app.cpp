#include "bot/app/app.hpp"

#include "bot/log.hpp"
#include "bot/metrics.hpp"
#include "handlers/controls.hpp"

namespace auditbot {

redis::Options redis_options_from(const Config& config) {
  return redis::Options::from_url(config.redis_url);
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
      mine_(services_) {
  asks_.register_with(router_);
  mine_.register_with(router_);
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
  return routes;
}

}  // namespace auditbot
