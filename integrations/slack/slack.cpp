// Assembly of the Slack integration from Config.
#include "integrations/slack/slack.hpp"

namespace auditbot::slack {

namespace {
http::ClientOptions client_options(const Config& c) {
  http::ClientOptions o;
  o.ca_file = c.ca_file;
  return o;
}
WebApiOptions api_options(const Config& c) {
  WebApiOptions o;
  o.base_url = c.slack_api_url;
  o.token = c.slack_bot_token;
  return o;
}
EventsOptions events_options(const Config& c) {
  EventsOptions o;
  o.signing_secret = c.slack_signing_secret;
  o.track_emoji = c.slack_track_emoji;
  if (auto it = c.channels.find("auditor"); it != c.channels.end()) o.track_channel = it->second;
  return o;
}
}  // namespace

SlackIntegration::SlackIntegration(const Config& config, Router& router, const Directory& people,
                                   Store& store, const Clock& clock)
    : client_(client_options(config)),
      api_(client_, api_options(config)),
      people_(people, store, &api_),
      events_(router, people_, api_, store, clock, events_options(config)),
      deliverer_(api_, people_, people, store, config) {
  socket_options_.app_token = config.slack_app_token;
  socket_options_.ca_file = config.ca_file;
}

bool SlackIntegration::start_socket_mode() {
  if (socket_options_.app_token.empty()) return false;
  if (!socket_) {
    socket_ = std::make_unique<SocketMode>(
        api_,
        [this](const std::string& type, const nlohmann::json& payload) {
          return events_.on_envelope(type, payload);
        },
        socket_options_);
  }
  socket_->start();
  return true;
}

void SlackIntegration::stop_socket_mode() {
  if (socket_) socket_->stop();
}

}  // namespace auditbot::slack
