// The Teams side of auditbot: `POST /api/messages` (authenticate, read, route, answer) and
// the outbox Deliverer that sends, updates and proactively DMs Adaptive Cards.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "bot/outbox.hpp"
#include "bot/people.hpp"
#include "bot/router.hpp"
#include "integrations/redis/store.hpp"
#include "integrations/teams/activity.hpp"
#include "integrations/teams/connector.hpp"

namespace auditbot::teams {

struct EndpointAnswer {
  unsigned status = 200;
  std::string body;  // JSON ("" = empty body)
};

class TeamsBot final : public Deliverer {
 public:
  TeamsBot(const Config& config, const Directory& people, Router& router, Store& store,
           KeyCache& keys, Connector& connector);

  // One Bot Framework request: 401 for any authentication failure (nothing read or written),
  // 400 for an unreadable activity, else 200 (with the invoke response for invokes).
  EndpointAnswer handle(std::string_view authorization, const std::string& body);

  DeliveryResult deliver(const OutboxEntry& e) override;

  // Runs reply sends (answers to message activities) elsewhere so the HTTP answer does not
  // wait for the Connector; unset = send before answering.
  using ReplySender = std::function<void(std::function<void()>)>;
  void set_reply_sender(ReplySender s) { reply_sender_ = std::move(s); }

  // The stored reference for a person who installed the app, if any.
  std::optional<ConversationRef> reference_for(const std::string& person);
  bool reachable(const std::string& person);

  // A channel by logical name ("compliance"): config `channels.<name>` holding a Teams
  // conversation id ("19:...") where the bot was installed; nullopt when not deliverable.
  std::optional<ConversationRef> channel_reference(const std::string& name);

  // Redis keys (under the org prefix) this integration owns.
  std::string ref_key(const std::string& person) const;
  std::string aad_key() const;
  std::string channel_key(const std::string& conversation_id) const;

 private:
  std::optional<std::string> resolve_person(const ParsedActivity& a);
  // True when this is news (a first install or a new place), false for a redelivery.
  bool store_reference(const ParsedActivity& a, const std::string& person);
  void remove_reference(const ParsedActivity& a, const std::string& person);
  void mark_unreachable(const std::string& person);
  void send_reply(const ConversationRef& ref, nlohmann::json activity);
  // Sends the card, or updates the one sent earlier under the message key; `person` is empty
  // for channels.
  DeliveryResult send_card(ConversationRef ref, const Message& m, const std::string& ref_field,
                           const std::string& person);

  const Config& config_;
  const Directory& people_;
  Router& router_;
  Store& store_;
  KeyCache& keys_;
  Connector& connector_;
  TokenExpectations expect_;
  ReplySender reply_sender_;
};

// Sends to a person on Teams when a conversation reference exists for them, else through
// `fallback` (Slack); channels go to Teams when configured as a Teams channel, else the fallback.
class PreferTeamsDeliverer final : public Deliverer {
 public:
  PreferTeamsDeliverer(TeamsBot& teams, Deliverer* fallback) : teams_(teams), fallback_(fallback) {}
  DeliveryResult deliver(const OutboxEntry& e) override;
  // A recovered entry is looked up through the fallback (Slack keeps the outbox id in the
  // message's metadata), wherever it would go now; Teams cannot list what it was sent.
  std::optional<std::string> find_delivered(const OutboxEntry& e) override;

 private:
  // The deliverer `e` goes through now.
  Deliverer& route(const OutboxEntry& e);

  TeamsBot& teams_;
  Deliverer* fallback_;
};

}  // namespace auditbot::teams
