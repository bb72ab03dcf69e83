// Slack user ids <-> people: config slack_id first, then users.info / users.lookupByEmail
// by email, cached in Redis; and mention spellings <@U123> / <@U123|name> -> @person.
#pragma once

#include <atomic>
#include <string>

#include "bot/people.hpp"
#include "integrations/redis/store.hpp"
#include "integrations/slack/web_api.hpp"

namespace auditbot::slack {

class SlackPeople {
 public:
  // `api` may be null (no lookups: config slack_id only).
  SlackPeople(const Directory& people, Store& store, WebApi* api)
      : people_(people), store_(store), api_(api) {}

  // The person behind a Slack user id, or null.
  const Person* person_for(const std::string& user_id);
  // The Slack user id of a person, or "" when Slack does not know their email.
  std::string user_id_for(const Person& p);
  // "<@U1> and <@U2|bob>" -> "@alice and @bob" (unknown users keep their Slack id).
  std::string normalise(const std::string& text);
  // For everyone without a zone in the config: the `tz` Slack reports for their user
  // (users.info), kept in Redis where every replica's reminders read it. Stops early when
  // `stop` turns true; returns how many people's zones changed.
  std::size_t sync_timezones(const std::atomic<bool>& stop);

 private:
  // Keeps the zone of a users.info answer for `p` (Store::remember_timezone).
  bool remember_timezone(const Person& p, const nlohmann::json& user);

  const Directory& people_;
  Store& store_;
  WebApi* api_;
};

}  // namespace auditbot::slack
