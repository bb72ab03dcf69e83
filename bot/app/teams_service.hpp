// Teams for `serve`: builds the HTTPS transport, key cache, token cache, Connector and TeamsBot
// from the config, and offers the `POST /api/messages` route and the outbox Deliverer.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "bot/app/app.hpp"
#include "bot/http_server.hpp"
#include "bot/outbox.hpp"

namespace auditbot {

namespace http {
class Client;
}
namespace teams {
class KeyCache;
class TokenCache;
class Connector;
class TeamsBot;
}  // namespace teams

class TeamsService {
 public:
  // Only when config.teams_configured(). `sleep` waits between retries and for pacing
  // (tests pass one that advances a fake clock); empty = really sleep.
  TeamsService(App& app, const Clock& clock,
               std::function<void(std::chrono::milliseconds)> sleep = {});
  ~TeamsService();

  HttpRoute route();  // POST /api/messages
  // Teams for people with a conversation reference, else `fallback` (may be null).
  std::unique_ptr<Deliverer> deliverer(Deliverer* fallback);
  teams::TeamsBot& bot() { return *bot_; }
  // Waits until the replies queued by /api/messages requests so far have been sent.
  void flush_replies();

 private:
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<teams::KeyCache> keys_;
  std::unique_ptr<teams::TokenCache> tokens_;
  std::unique_ptr<teams::Connector> connector_;
  std::unique_ptr<teams::TeamsBot> bot_;
  struct ReplyWorker;
  std::unique_ptr<ReplyWorker> replies_;  // last: stopped before the bot it sends through
};

}  // namespace auditbot
