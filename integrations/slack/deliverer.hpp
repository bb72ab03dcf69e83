// The Slack outbox deliverer: resolves a Recipient to a channel (a DM via conversations.open,
// a config channel, its thread when named) and posts, or chat.updates a keyed message's ts.
#pragma once

#include "bot/outbox.hpp"
#include "config/config.hpp"
#include "integrations/redis/store.hpp"
#include "integrations/slack/people.hpp"
#include "integrations/slack/web_api.hpp"

namespace auditbot::slack {

class SlackDeliverer final : public Deliverer {
 public:
  SlackDeliverer(WebApi& api, SlackPeople& slack_people, const Directory& people, Store& store,
                 const Config& config)
      : api_(api), slack_people_(slack_people), people_(people), store_(store), config_(config) {}

  DeliveryResult deliver(const OutboxEntry& e) override;
  // A recovered entry already on Slack: our message ref records its outbox id, or a recent
  // message in the target channel (or, for a reply, in its thread) carries it in metadata.
  // Returns that message's ts.
  std::optional<std::string> find_delivered(const OutboxEntry& e) override;

  // How many of the channel's (or thread's) recent messages recovery looks through.
  static constexpr int kHistoryLimit = 200;

 private:
  std::string channel_for(const Recipient& to);  // "" when it cannot be resolved

  WebApi& api_;
  SlackPeople& slack_people_;
  const Directory& people_;
  Store& store_;
  const Config& config_;
};

}  // namespace auditbot::slack
