// Slack inbound: slash commands, interactivity and Events API callbacks, from
// `POST /slack/events` (signed) or a Socket Mode envelope (unsigned). Acks at once and runs
// the router on worker threads; answers go back through response_url or the Web API.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bot/clock.hpp"
#include "bot/http_server.hpp"
#include "bot/router.hpp"
#include "integrations/redis/store.hpp"
#include "integrations/slack/people.hpp"
#include "integrations/slack/web_api.hpp"

namespace auditbot::slack {

struct EventsOptions {
  std::string signing_secret;
  std::size_t workers = 4;
  std::size_t body_limit = 256 << 10;
  // view_submission must be answered with its errors, so it waits this long for the router.
  std::chrono::milliseconds submission_wait{2500};
  // "Track this message": a reaction with this emoji (no colons; "" = off) in this channel
  // (the auditor channel's id; "" = off), or the message shortcut with this callback_id.
  std::string track_emoji = "pushpin";
  std::string track_channel;
  std::string track_callback_id = "track_audit_request";
};

class SlackEvents {
 public:
  SlackEvents(Router& router, SlackPeople& people, WebApi& api, Store& store, const Clock& clock,
              EventsOptions options);
  ~SlackEvents();  // finishes queued work

  struct Answer {
    unsigned status = 200;
    std::string content_type = "text/plain";
    std::string body;
  };
  // Checks the signature, then handles the body. 401 on any signature problem.
  Answer on_http(const HttpRequest& req);
  // Socket Mode: an envelope's type and payload; returns the ack payload (null = none).
  nlohmann::json on_envelope(const std::string& type, const nlohmann::json& payload);

  HttpRoute route();  // POST /slack/events
  void wait_idle();   // blocks until every queued job ran (tests, shutdown)

 private:
  Answer command(const nlohmann::json& fields);
  Answer interaction(const nlohmann::json& payload);
  Answer event(const nlohmann::json& envelope);
  Answer block_actions(const nlohmann::json& p);
  Answer view_submission(const nlohmann::json& p);
  Answer message_action(const nlohmann::json& p);
  void reaction_added(const std::string& event_id, const nlohmann::json& ev);
  void track(const std::string& event_id, const std::string& user, TrackMessage m,
             const std::string& response_url);
  // The message at `ts` in `channel` (history, else a thread reply); null when not found.
  nlohmann::json find_message(const std::string& channel, const std::string& ts);
  void post(std::function<void()> job);
  void run_text(const std::string& event_id, const std::string& user, const std::string& channel,
                const std::string& thread, const std::string& text, bool in_dm);
  std::optional<nlohmann::json> stored_message(const std::string& key);

  Router& router_;
  SlackPeople& people_;
  WebApi& api_;
  Store& store_;
  const Clock& clock_;
  EventsOptions options_;
  boost::asio::thread_pool pool_;
  std::mutex idle_mu_;
  std::condition_variable idle_cv_;
  std::size_t pending_ = 0;
};

// "a=1&b=x%20y" -> {"a":"1","b":"x y"}; throws std::invalid_argument on bad escapes.
nlohmann::json parse_form(std::string_view body);

}  // namespace auditbot::slack
