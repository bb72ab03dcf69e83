// Wiring of the Teams integration for `serve`.
#include "bot/app/teams_service.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "integrations/http/https_client.hpp"
#include "integrations/teams/bot.hpp"
#include "integrations/teams/https_transport.hpp"

namespace auditbot {

// One thread sending replies in arrival order, so /api/messages answers without waiting.
struct TeamsService::ReplyWorker {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> jobs;
  bool busy = false;
  bool stop = false;
  std::thread thread{[this] { run(); }};

  ~ReplyWorker() {
    {
      std::lock_guard lock(mu);
      stop = true;  // queued replies are still sent before the thread ends
    }
    cv.notify_all();
    thread.join();
  }
  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mu);
      jobs.push_back(std::move(job));
    }
    cv.notify_all();
  }
  void flush() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return jobs.empty() && !busy; });
  }
  void run() {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stop || !jobs.empty(); });
      if (jobs.empty()) return;
      auto job = std::move(jobs.front());
      jobs.pop_front();
      busy = true;
      lock.unlock();
      job();
      lock.lock();
      busy = false;
      cv.notify_all();
    }
  }
};

TeamsService::TeamsService(App& app, const Clock& clock,
                           std::function<void(std::chrono::milliseconds)> sleep) {
  const Config& c = app.config();
  http::ClientOptions client_options;
  client_options.ca_file = c.ca_file;  // AUDITBOT_CA_FILE: a private CA (tests, proxies)
  client_ = std::make_unique<http::Client>(client_options);
  auto transport = teams::https_transport(*client_);
  keys_ = std::make_unique<teams::KeyCache>(transport, c.teams_openid_metadata_url, clock);
  tokens_ = std::make_unique<teams::TokenCache>(transport, c.teams_token_url, c.teams_app_id,
                                                c.teams_app_password, clock);
  teams::ConnectorOptions options;
  options.service_url_allowlist = c.teams_service_url_allowlist;
  if (!sleep) sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  connector_ =
      std::make_unique<teams::Connector>(transport, *tokens_, options, clock, std::move(sleep));
  bot_ = std::make_unique<teams::TeamsBot>(c, app.people(), app.router(), app.store(), *keys_,
                                           *connector_);
  replies_ = std::make_unique<ReplyWorker>();
  bot_->set_reply_sender(
      [w = replies_.get()](std::function<void()> job) { w->post(std::move(job)); });
}

TeamsService::~TeamsService() = default;

void TeamsService::flush_replies() {
  replies_->flush();
}

HttpRoute TeamsService::route() {
  HttpRoute r;
  r.method = boost::beast::http::verb::post;
  r.path = "/api/messages";
  r.body_limit = 256 * 1024;
  r.handler = [this](const HttpRequest& req) {
    const auto auth = req[boost::beast::http::field::authorization];
    const auto answer = bot_->handle(std::string_view(auth.data(), auth.size()), req.body());
    auto res = make_response(req, static_cast<boost::beast::http::status>(answer.status),
                             answer.body, answer.body.empty() ? "text/plain" : "application/json");
    return res;
  };
  return r;
}

std::unique_ptr<Deliverer> TeamsService::deliverer(Deliverer* fallback) {
  return std::make_unique<teams::PreferTeamsDeliverer>(*bot_, fallback);
}

}  // namespace auditbot
