// The Slack integration as `auditbot serve` runs it: one HTTPS client, the Web API, people
// resolution, the /slack/events route or Socket Mode, and the outbox deliverer, from Config.
#pragma once

#include <memory>

#include "bot/clock.hpp"
#include "bot/router.hpp"
#include "config/config.hpp"
#include "integrations/http/https_client.hpp"
#include "integrations/redis/store.hpp"
#include "integrations/slack/deliverer.hpp"
#include "integrations/slack/events.hpp"
#include "integrations/slack/people.hpp"
#include "integrations/slack/socket_mode.hpp"
#include "integrations/slack/web_api.hpp"

namespace auditbot::slack {

class SlackIntegration {
 public:
  SlackIntegration(const Config& config, Router& router, const Directory& people, Store& store,
                   const Clock& clock);
  // auth.test: throws ApiError (bad token) or RetryLater (Slack unreachable).
  nlohmann::json check_token() { return api_.auth_test(); }

  HttpRoute route() { return events_.route(); }
  SlackEvents& events() { return events_; }
  Deliverer& deliverer() { return deliverer_; }
  WebApi& api() { return api_; }
  SlackPeople& people() { return people_; }
  // Socket Mode when SLACK_APP_TOKEN is set: connects in the background (false: no token).
  bool start_socket_mode();
  void stop_socket_mode();

 private:
  http::Client client_;
  WebApi api_;
  SlackPeople people_;
  SlackEvents events_;
  SlackDeliverer deliverer_;
  SocketModeOptions socket_options_;
  std::unique_ptr<SocketMode> socket_;  // declared last: stopped before events_ goes
};

}  // namespace auditbot::slack
