// Teams endpoint and deliverer.
#include "integrations/teams/bot.hpp"

#include <algorithm>

#include "bot/errors.hpp"
#include "bot/log.hpp"
#include "bot/text.hpp"
#include "integrations/http/https_client.hpp"
#include "integrations/teams/cards.hpp"

namespace auditbot::teams {
namespace {

// Captures the router's one reply.
class CapturingAck final : public Ack {
 public:
  void reply(const Reply& r) override {
    if (!reply_) reply_ = r;
  }
  const std::optional<Reply>& get() const { return reply_; }

 private:
  std::optional<Reply> reply_;
};

std::map<std::string, std::string> ref_fields(const ConversationRef& r, bool personal) {
  return {{"service_url", r.service_url},
          {"conversation_id", r.conversation_id},
          {"tenant_id", r.tenant_id},
          {"user_id", r.user_id},
          {"aad_object_id", r.aad_object_id},
          {"bot_id", r.bot_id},
          {"bot_name", r.bot_name},
          {"personal", personal ? "1" : "0"},
          {"unreachable", "0"}};
}

std::string event_id_of(const ParsedActivity& a) {
  return a.id.empty() ? "" : a.ref.conversation_id + "/" + a.id;
}

}  // namespace

TeamsBot::TeamsBot(const Config& config, const Directory& people, Router& router, Store& store,
                   KeyCache& keys, Connector& connector)
    : config_(config),
      people_(people),
      router_(router),
      store_(store),
      keys_(keys),
      connector_(connector) {
  expect_.audience = config.teams_app_id;
  if (!config.teams_tenant_id.empty()) {
    // Single-tenant bots: Azure AD tenant issuers too (protocols.md section 8).
    const std::string v1 = "https://sts.windows.net/" + config.teams_tenant_id + "/";
    const std::string v2 = "https://login.microsoftonline.com/" + config.teams_tenant_id + "/v2.0";
    expect_.issuers.push_back(v1);
    expect_.issuers.push_back(v2);
    expect_.issuers_without_endorsements = {v1, v2};
  }
}

std::string TeamsBot::ref_key(const std::string& person) const {
  return store_.keys().key("teams:ref:" + person);
}
std::string TeamsBot::aad_key() const {
  return store_.keys().key("teams:aad");
}
std::string TeamsBot::channel_key(const std::string& conversation_id) const {
  return store_.keys().key("teams:channel:" + conversation_id);
}

std::optional<ConversationRef> TeamsBot::channel_reference(const std::string& name) {
  const auto c = config_.channels.find(name);
  if (c == config_.channels.end() || c->second.rfind("19:", 0) != 0) return std::nullopt;
  const auto h = store_.hgetall(channel_key(c->second));
  if (!h || h->empty()) return std::nullopt;
  auto get = [&](const char* f) {
    const auto it = h->find(f);
    return it == h->end() ? std::string() : it->second;
  };
  ConversationRef r;
  r.service_url = get("service_url");
  r.conversation_id = c->second;
  r.tenant_id = get("tenant_id");
  r.bot_id = get("bot_id");
  r.bot_name = get("bot_name");
  return r;
}

std::optional<ConversationRef> TeamsBot::reference_for(const std::string& person) {
  const auto h = store_.hgetall(ref_key(person));
  if (!h || h->empty()) return std::nullopt;
  ConversationRef r;
  auto get = [&](const char* f) {
    const auto it = h->find(f);
    return it == h->end() ? std::string() : it->second;
  };
  r.service_url = get("service_url");
  r.conversation_id = get("personal") == "1" ? get("conversation_id") : get("dm_conversation_id");
  r.tenant_id = get("tenant_id");
  r.user_id = get("user_id");
  r.aad_object_id = get("aad_object_id");
  r.bot_id = get("bot_id");
  r.bot_name = get("bot_name");
  return r;
}

bool TeamsBot::reachable(const std::string& person) {
  const auto h = store_.hgetall(ref_key(person));
  if (!h || h->empty()) return false;
  const auto it = h->find("unreachable");
  return it == h->end() || it->second != "1";
}

std::optional<std::string> TeamsBot::resolve_person(const ParsedActivity& a) {
  const auto& aad = a.ref.aad_object_id;
  if (!aad.empty()) {
    if (const auto* p = people_.find_by_teams_id(aad)) return p->id;
    const auto linked = store_.hgetall(aad_key());
    if (linked) {
      if (const auto it = linked->find(lower(aad));
          it != linked->end() && people_.find(it->second)) {
        return it->second;
      }
    }
  }
  // Not in the config by object id: ask the roster for the email / UPN.
  std::optional<nlohmann::json> member;
  try {
    member = connector_.member(a.ref);
  } catch (const std::exception& e) {
    log::warn("teams.roster_failed", {{"detail", "member lookup failed"}});
  }
  if (!member) return std::nullopt;
  for (const char* field : {"email", "userPrincipalName"}) {
    const std::string mail = member->value(field, "");
    if (mail.empty()) continue;
    if (const auto* p = people_.find_by_email(mail)) {
      if (!aad.empty()) {
        Txn t;
        t.hset(aad_key(), {{lower(aad), p->id}});
        t.audit(p->id, "teams.linked", "", {{"aad_object_id", aad}, {"by", field}});
        store_.commit(t);
      }
      return p->id;
    }
  }
  return std::nullopt;
}

bool TeamsBot::store_reference(const ParsedActivity& a, const std::string& person) {
  if (!connector_.allowed(a.ref.service_url)) return false;  // never keep a host we would not call
  const bool personal = a.conversation_type.empty() || a.conversation_type == "personal";
  Txn t;
  if (const auto id = event_id_of(a); !id.empty()) {
    t.claim_once(store_.keys().dedup("teams-ref:" + id), std::chrono::hours(24));
  }
  auto fields = ref_fields(a.ref, personal);
  if (!personal) {
    // A team install names the channel; keep the person's 1:1 conversation if we have one.
    fields.erase("conversation_id");
    fields["team_conversation_id"] = a.ref.conversation_id;
  }
  const auto existing = store_.hgetall(ref_key(person));
  auto field = [&](const char* f) {
    if (!existing) return std::string();
    const auto it = existing->find(f);
    return it == existing->end() ? std::string() : it->second;
  };
  const bool known = field("unreachable") == "0" && field("service_url") == a.ref.service_url &&
                     (personal ? field("conversation_id") == a.ref.conversation_id
                               : field("team_conversation_id") == a.ref.conversation_id);
  if (known) return false;  // nothing new: no write, no audit entry
  t.hset(ref_key(person), fields);
  if (!personal) {
    log::info("teams.installed_in_channel", {{"conversation_id", a.ref.conversation_id}});
    // Where the bot may post: channels named in config by this conversation id use it.
    t.hset(channel_key(a.ref.conversation_id), {{"service_url", a.ref.service_url},
                                                {"tenant_id", a.ref.tenant_id},
                                                {"bot_id", a.ref.bot_id},
                                                {"bot_name", a.ref.bot_name}});
  }
  t.audit(person, "teams.installed", "",
          {{"tenant", a.ref.tenant_id}, {"scope", personal ? "personal" : a.conversation_type}});
  return store_.commit(t).ok();
}

void TeamsBot::remove_reference(const ParsedActivity& a, const std::string& person) {
  Txn t;
  if (const auto id = event_id_of(a); !id.empty()) {
    t.claim_once(store_.keys().dedup("teams-ref:" + id), std::chrono::hours(24));
  }
  t.expect_exists(ref_key(person), "not installed");
  t.del(ref_key(person));
  t.audit(person, "teams.uninstalled", "", {{"tenant", a.ref.tenant_id}});
  store_.commit(t);
}

EndpointAnswer TeamsBot::handle(std::string_view authorization, const std::string& body) {
  if (authorization.empty()) return {401, ""};
  const auto activity = nlohmann::json::parse(body, nullptr, false);
  if (activity.is_discarded() || !activity.is_object()) return {401, ""};
  const std::string channel = activity.value("channelId", "");
  const std::string service_url = activity.value("serviceUrl", "");

  TokenCheck check;
  try {
    check = validate_channel_token(authorization, keys_.keys(), expect_, channel, service_url,
                                   store_.clock().now());
    if (check.error == TokenError::unknown_kid && keys_.refresh_for_unknown_kid()) {
      check = validate_channel_token(authorization, keys_.keys(), expect_, channel, service_url,
                                     store_.clock().now());
    }
  } catch (const std::exception&) {
    log::error("teams.keys_unavailable", {{"detail", "could not fetch the Bot Framework keys"}});
    return {503, ""};
  }
  if (!check.ok()) {
    log::warn("teams.auth_refused", {{"reason", std::string(to_string(check.error))}});
    return {401, ""};
  }

  ParsedActivity a;
  try {
    a = parse_activity(activity,
                       [this](const std::string&, const std::string& aad,
                              const std::string&) -> std::optional<std::string> {
                         if (const auto* p = people_.find_by_teams_id(aad)) return p->id;
                         if (const auto linked = store_.hgetall(aad_key())) {
                           if (const auto it = linked->find(lower(aad)); it != linked->end())
                             return it->second;
                         }
                         return std::nullopt;
                       });
  } catch (const std::invalid_argument&) {
    return {400, ""};
  }
  if (a.kind == ParsedActivity::Kind::ignored) {
    return a.invoke ? EndpointAnswer{200, invoke_error_response(400, "Not supported").dump()}
                    : EndpointAnswer{200, ""};
  }

  if (a.kind == ParsedActivity::Kind::track && a.track_declined) {
    return {200,
            invoke_task_message_response("Not tracked: \"Track this message\" was off.").dump()};
  }

  const auto person = resolve_person(a);
  if (!person) {
    const std::string text =
        "I don't know you yet: ask an auditbot admin to add your work email to the people list.";
    if (a.kind == ParsedActivity::Kind::track)
      return {200, invoke_task_message_response(text).dump()};
    if (a.kind == ParsedActivity::Kind::command || a.kind == ParsedActivity::Kind::button) {
      if (a.invoke) return {200, invoke_message_response(text).dump()};
      send_reply(a.ref, card_activity(render_reply_card(Reply::fail(text)), text));
    }
    return {200, ""};
  }

  // The zone Teams reports for the sender keeps their reminders in their own hours.
  if (!a.timezone.empty()) {
    try {
      if (store_.remember_timezone(*person, a.timezone)) {
        log::info("teams.person_zone", {{"person", *person}, {"tz", a.timezone}});
      }
    } catch (const std::exception& e) {
      log::warn("teams.person_zone_failed", {{"detail", e.what()}});
    }
  }

  if (a.kind == ParsedActivity::Kind::install) {
    // Greetings and enrolments run on a first install only, not on redeliveries.
    if (store_reference(a, *person)) {
      InboundEvent e = to_event(a, *person);
      e.event_id = event_id_of(a);
      CapturingAck ack;
      router_.dispatch(e, ack);
    }
    return {200, ""};
  }
  if (a.kind == ParsedActivity::Kind::uninstall) {
    remove_reference(a, *person);
    return {200, ""};
  }

  // A person writing to the bot 1:1 is also a way to learn where to reach them. Not from a
  // message action: it may run in a chat between people that the bot is not part of.
  if (a.kind != ParsedActivity::Kind::track &&
      (a.conversation_type.empty() || a.conversation_type == "personal")) {
    const auto ref = reference_for(*person);
    if (!ref || ref->conversation_id != a.ref.conversation_id) store_reference(a, *person);
  }

  InboundEvent e = to_event(a, *person);
  e.event_id = event_id_of(a);
  CapturingAck ack;
  router_.dispatch(e, ack);
  const Reply reply = ack.get().value_or(Reply::ok("Done."));
  // A message action is answered in its dialog; statuses follow in the message's thread.
  if (a.kind == ParsedActivity::Kind::track) {
    return {200, invoke_task_message_response(reply.text).dump()};
  }
  if (a.invoke) return {200, invoke_message_response(reply.text).dump()};
  send_reply(a.ref, card_activity(render_reply_card(reply), reply.text));
  return {200, ""};
}

void TeamsBot::send_reply(const ConversationRef& ref, nlohmann::json activity) {
  // The command has run; its answer gets a second try after a connection closed under it
  // (shown twice at worst, which beats not at all). HTTP statuses are retried in the connector.
  auto job = [this, ref, activity = std::move(activity)] {
    for (int attempt = 1; attempt <= 2; ++attempt) {
      try {
        const auto r = connector_.send(ref, activity);
        if (!r.ok()) log::warn("teams.reply_failed", {{"status", std::to_string(r.status)}});
        return;
      } catch (const ServiceUrlNotAllowed&) {
        log::warn("teams.reply_failed", {{"detail", "serviceUrl not allowed"}});
        return;
      } catch (const http::HttpError& e) {
        // Only a connection closed under the request is worth a second try; a timeout
        // probably reached Teams already.
        if (attempt == 2 || e.kind() != http::HttpError::Kind::closed) {
          log::warn("teams.reply_failed", {{"detail", "reply not sent"}});
          return;
        }
      } catch (const std::exception&) {
        log::warn("teams.reply_failed", {{"detail", "reply not sent"}});
        return;
      }
    }
  };
  if (reply_sender_) {
    reply_sender_(std::move(job));
  } else {
    job();
  }
}

void TeamsBot::mark_unreachable(const std::string& person) {
  Txn t;
  t.expect_field(ref_key(person), "unreachable", "0", "already unreachable");
  t.hset(ref_key(person), {{"unreachable", "1"}});
  t.audit("system", "teams.unreachable", "", {{"person", person}});
  for (const auto* liaison : people_.with_role(Role::liaison)) {
    Message m;
    m.to = Recipient::person(liaison->id);
    m.title = "Cannot reach a person in Teams";
    const auto* p = people_.find(person);
    m.text = (p ? p->name : person) +
             " has blocked or removed auditbot in Teams, so reminders cannot reach them there. "
             "Please ask them to reinstall the app.";
    t.send(m);
  }
  store_.commit(t);
}

DeliveryResult TeamsBot::deliver(const OutboxEntry& e) {
  const Message& m = e.message;
  if (m.to.kind != Recipient::Kind::person) {
    auto ref = channel_reference(m.to.id);
    if (!ref) {
      return {DeliveryResult::Status::failed, {}, "no Teams channel configured for " + m.to.id};
    }
    // A reply in a channel thread goes to the thread's own conversation id.
    if (!m.to.thread.empty()) ref->conversation_id += ";messageid=" + m.to.thread;
    return send_card(*ref, m, "teams:channel:" + m.to.id, "");
  }
  const std::string& person = m.to.id;
  auto ref = reference_for(person);
  if (!ref) return {DeliveryResult::Status::failed, {}, "no Teams conversation reference"};
  if (!reachable(person))
    return {DeliveryResult::Status::failed, {}, "person unreachable in Teams"};
  return send_card(*ref, m, "teams:" + person, person);
}

DeliveryResult TeamsBot::send_card(ConversationRef ref, const Message& m,
                                   const std::string& ref_field, const std::string& person) {
  const auto activity = card_activity(render_card(m), m.title.empty() ? m.text : m.title);
  try {
    if (ref.conversation_id.empty()) {
      // Installed in a team only: open the 1:1 conversation first.
      const auto created = connector_.create_conversation(ref);
      if (created.blocked()) {
        mark_unreachable(person);
        return {DeliveryResult::Status::failed, {}, "MessageWritesBlocked"};
      }
      if (!created.ok() || created.id.empty()) {
        return {created.status >= 500 || created.status == 429 ? DeliveryResult::Status::retry
                                                               : DeliveryResult::Status::failed,
                created.retry_after, "create conversation " + std::to_string(created.status)};
      }
      ref.conversation_id = created.id;
      Txn t;
      t.hset(ref_key(person), {{"dm_conversation_id", created.id}});
      store_.commit(t);
    }
    ConnectorResult r;
    std::optional<std::string> previous;
    if (!m.key.empty()) {
      if (const auto h = store_.hgetall(store_.keys().message_ref(m.key))) {
        if (const auto it = h->find(ref_field); it != h->end()) previous = it->second;
      }
    }
    const auto sep = previous ? previous->find('|') : std::string::npos;
    if (previous && sep != std::string::npos && previous->substr(0, sep) == ref.conversation_id) {
      r = connector_.update(ref, previous->substr(sep + 1), activity);
      if (r.status == 404) previous.reset();  // deleted card: send a fresh one
    } else {
      previous.reset();
    }
    if (!previous) {
      r = connector_.send(ref, activity);
      if (r.ok() && !m.key.empty() && !r.id.empty()) {
        Txn t;
        t.hset(store_.keys().message_ref(m.key), {{ref_field, ref.conversation_id + "|" + r.id}});
        store_.commit(t);
      }
    }
    if (r.ok()) {
      return {DeliveryResult::Status::delivered, {}, "teams " + std::to_string(r.status), r.id};
    }
    if (r.blocked() && !person.empty()) {
      mark_unreachable(person);
      return {DeliveryResult::Status::failed, {}, "MessageWritesBlocked"};
    }
    if (r.status == 429 || r.status == 412 || r.status >= 500) {
      return {DeliveryResult::Status::retry, r.retry_after, "teams " + std::to_string(r.status)};
    }
    return {DeliveryResult::Status::failed, {}, "teams " + std::to_string(r.status)};
  } catch (const ServiceUrlNotAllowed&) {
    return {DeliveryResult::Status::failed, {}, "serviceUrl not allowed"};
  } catch (const std::exception&) {
    return {DeliveryResult::Status::retry, std::chrono::seconds(5), "teams transport error"};
  }
}

Deliverer& PreferTeamsDeliverer::route(const OutboxEntry& e) {
  const auto& to = e.message.to;
  const bool on_teams = to.kind == Recipient::Kind::person
                            ? teams_.reachable(to.id)
                            : teams_.channel_reference(to.id).has_value();
  if (on_teams || !fallback_) return teams_;
  return *fallback_;
}

DeliveryResult PreferTeamsDeliverer::deliver(const OutboxEntry& e) {
  return route(e).deliver(e);
}

std::optional<std::string> PreferTeamsDeliverer::find_delivered(const OutboxEntry& e) {
  // Asked even when the entry would go to Teams now: the earlier try may have gone to Slack
  // before the person installed the app. Teams itself cannot be asked.
  if (fallback_) return fallback_->find_delivered(e);
  return teams_.find_delivered(e);
}

}  // namespace auditbot::teams
