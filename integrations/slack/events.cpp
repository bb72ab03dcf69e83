// Slack inbound handling shared by HTTP and Socket Mode.
#include "integrations/slack/events.hpp"

#include <boost/asio/post.hpp>
#include <future>

#include "bot/log.hpp"
#include "integrations/slack/blocks.hpp"
#include "integrations/slack/signature.hpp"

namespace auditbot::slack {

using nlohmann::json;
namespace bhttp = boost::beast::http;

namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
        throw std::invalid_argument("bad percent escape");
      }
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string str(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Answers through response_url when there is one, else an ephemeral (or DM) message.
class SlackAck final : public Ack {
 public:
  SlackAck(WebApi& api, std::string response_url, std::string channel, std::string user, bool in_dm)
      : api_(api),
        response_url_(std::move(response_url)),
        channel_(std::move(channel)),
        user_(std::move(user)),
        in_dm_(in_dm) {}
  void reply(const Reply& r) override {
    if (r.text.empty() && r.fields.empty() && r.buttons.empty()) {
      return;
    }
    const auto rendered = render(r);
    json body = {{"text", rendered.text.empty() ? r.text : rendered.text},
                 {"blocks", rendered.pages.front()}};
    try {
      if (!response_url_.empty()) {
        body["response_type"] = "ephemeral";
        body["replace_original"] = false;
        api_.respond(response_url_, body);
      } else if (in_dm_ && !channel_.empty()) {
        body["channel"] = channel_;
        api_.post_message(body);
      } else if (!channel_.empty()) {
        api_.post_ephemeral(channel_, user_, body);
      }
    } catch (const std::exception& e) {
      log::warn("slack.reply.failed", {{"detail", e.what()}});
    }
  }

 private:
  WebApi& api_;
  std::string response_url_, channel_, user_;
  bool in_dm_;
};

// Strips a leading "/soc2" the person may have typed in a DM or a mention.
std::string strip_command_prefix(std::string text) {
  auto trim = [](std::string& s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    s = b == std::string::npos ? "" : s.substr(b);
  };
  trim(text);
  if (text.rfind("/soc2", 0) == 0) {
    text = text.substr(5);
  }
  trim(text);
  return text;
}

}  // namespace

json parse_form(std::string_view body) {
  json out = json::object();
  std::size_t pos = 0;
  while (pos <= body.size()) {
    auto amp = body.find('&', pos);
    if (amp == std::string_view::npos) {
      amp = body.size();
    }
    auto pair = body.substr(pos, amp - pos);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos) {
        throw std::invalid_argument("form field without '='");
      }
      out[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return out;
}

SlackEvents::SlackEvents(Router& router, SlackPeople& people, WebApi& api, Store& store,
                         const Clock& clock, EventsOptions options)
    : router_(router),
      people_(people),
      api_(api),
      store_(store),
      clock_(clock),
      options_(std::move(options)),
      pool_(options_.workers) {}

SlackEvents::~SlackEvents() {
  wait_idle();
  pool_.join();
}

void SlackEvents::post(std::function<void()> job) {
  {
    std::lock_guard lock(idle_mu_);
    ++pending_;
  }
  boost::asio::post(pool_, [this, job = std::move(job)] {
    try {
      job();
    } catch (const std::exception& e) {
      log::error("slack.job.failed", {{"detail", e.what()}});
    }
    std::lock_guard lock(idle_mu_);
    if (--pending_ == 0) {
      idle_cv_.notify_all();
    }
  });
}

void SlackEvents::wait_idle() {
  std::unique_lock lock(idle_mu_);
  idle_cv_.wait(lock, [&] { return pending_ == 0; });
}

HttpRoute SlackEvents::route() {
  return {bhttp::verb::post, "/slack/events", options_.body_limit, [this](const HttpRequest& req) {
            Answer a = on_http(req);
            auto res =
                make_response(req, static_cast<bhttp::status>(a.status), a.body, a.content_type);
            return res;
          }};
}

SlackEvents::Answer SlackEvents::on_http(const HttpRequest& req) {
  const std::string ts(req["X-Slack-Request-Timestamp"]);
  const std::string sig(req["X-Slack-Signature"]);
  const auto result = verify_signature(options_.signing_secret, ts, sig, req.body(), clock_.now());
  if (result != SignatureCheck::ok) {
    log::warn("slack.signature.rejected", {{"reason", std::string(to_string(result))}});
    return {401, "text/plain", "invalid signature\n"};
  }
  const std::string type(req[bhttp::field::content_type]);
  try {
    if (type.rfind("application/json", 0) == 0) {
      json env = json::parse(req.body());
      if (!env.is_object()) {
        return {400, "text/plain", "bad request\n"};
      }
      if (str(env, "type") == "url_verification") {
        return {200, "application/json", json{{"challenge", str(env, "challenge")}}.dump()};
      }
      return event(env);
    }
    json form = parse_form(req.body());
    if (form.contains("payload")) {
      json payload = json::parse(form["payload"].get<std::string>());
      if (!payload.is_object()) {
        return {400, "text/plain", "bad request\n"};
      }
      return interaction(payload);
    }
    if (form.contains("command")) {
      return command(form);
    }
    return {400, "text/plain", "bad request\n"};
  } catch (const std::exception& e) {  // malformed form, JSON, or fields of the wrong type
    log::warn("slack.inbound.malformed", {{"detail", e.what()}});
    return {400, "text/plain", "bad request\n"};
  }
}

json SlackEvents::on_envelope(const std::string& type, const json& payload) {
  try {
    Answer a;
    if (type == "slash_commands") {
      a = command(payload);
    } else if (type == "interactive") {
      a = interaction(payload);
    } else if (type == "events_api") {
      a = event(payload);
    } else {
      return nullptr;
    }
    if (a.status == 200 && a.content_type == "application/json" && !a.body.empty()) {
      return json::parse(a.body);
    }
  } catch (const std::exception& e) {
    log::warn("slack.socket.malformed", {{"detail", e.what()}});
  }
  return nullptr;
}

SlackEvents::Answer SlackEvents::command(const json& f) {
  const std::string user = str(f, "user_id");
  const std::string channel = str(f, "channel_id");
  const std::string response_url = str(f, "response_url");
  const std::string trigger = str(f, "trigger_id");
  std::string text = str(f, "text");
  if (user.empty()) {
    return {400, "text/plain", "bad request\n"};
  }
  post([this, user, channel, response_url, trigger, text] {
    InboundEvent e;
    e.event_id = trigger.empty() ? "" : "cmd:" + trigger;
    e.platform = Platform::slack;
    const Person* p = people_.person_for(user);
    e.person = p ? p->id : "slack:" + user;
    e.place = {Place::Kind::channel, channel, ""};
    e.body = CommandText{people_.normalise(text)};
    SlackAck ack(api_, response_url, channel, user, false);
    router_.dispatch(e, ack);
  });
  return {200, "text/plain", ""};
}

std::optional<json> SlackEvents::stored_message(const std::string& key) {
  auto ref = store_.hgetall(store_.keys().message_ref(key));
  if (!ref) {
    return std::nullopt;
  }
  auto it = ref->find("message");
  if (it == ref->end()) {
    return std::nullopt;
  }
  json m = json::parse(it->second, nullptr, false);
  if (m.is_discarded()) {
    return std::nullopt;
  }
  return m;
}

SlackEvents::Answer SlackEvents::interaction(const json& p) {
  const std::string type = str(p, "type");
  if (type == "block_actions") {
    return block_actions(p);
  }
  if (type == "view_submission") {
    return view_submission(p);
  }
  if (type == "view_closed") {
    return {200, "text/plain", ""};
  }
  if (type == "message_action") {
    return message_action(p);
  }
  log::debug("slack.interaction.ignored", {{"type", type}});
  return {200, "text/plain", ""};
}

SlackEvents::Answer SlackEvents::block_actions(const json& p) {
  const json& actions = p.at("actions");
  if (!actions.is_array() || actions.empty()) {
    return {400, "text/plain", "bad request\n"};
  }
  const json& a = actions.at(0);
  std::string action_id = str(a, "action_id");
  std::string value = str(a, "value");
  const std::string block_id = str(a, "block_id");
  const std::string user = str(p.at("user"), "id");
  const std::string trigger = str(p, "trigger_id");
  const std::string response_url = str(p, "response_url");
  std::string channel, ts;
  if (p.contains("channel") && p["channel"].is_object()) {
    channel = str(p["channel"], "id");
  }
  if (p.contains("container") && p["container"].is_object()) {
    ts = str(p["container"], "message_ts");
  }
  std::string key;
  if (block_id.rfind(kKeyPrefix, 0) == 0) {
    key = block_id.substr(kKeyPrefix.size());
    key = key.substr(0, key.rfind('#'));
  }
  post([=, this]() mutable {
    const bool form = action_id.rfind(kFormPrefix, 0) == 0;
    if (form) {
      action_id = action_id.substr(kFormPrefix.size());
    }
    std::optional<Button> button;
    if (form || value == kStoredValue) {
      if (auto m = stored_message(key)) {
        for (const auto& b : m->value("buttons", json::array())) {
          Button btn = b.get<Button>();
          if (btn.action_id == action_id) {
            button = btn;
          }
        }
      }
      if (!button) {
        SlackAck(api_, response_url, channel, user, false)
            .reply(Reply::fail("This button is out of date; use the latest message."));
        return;
      }
      value = button->value;
    }
    if (form) {
      json meta = {{"a", action_id}, {"v", value}, {"k", key}, {"c", channel}, {"t", ts}};
      std::string md = meta.dump();
      if (md.size() > 3000) {  // private_metadata limit: fall back to the stored button
        meta["v"] = std::string(kStoredValue);
        md = meta.dump();
      }
      try {
        api_.views_open(trigger, form_view(*button, md));
      } catch (const std::exception& e) {
        log::warn("slack.views_open.failed", {{"detail", e.what()}});
        SlackAck(api_, response_url, channel, user, false)
            .reply(Reply::fail("Could not open the form; press the button again."));
      }
      return;
    }
    InboundEvent e;
    e.event_id = trigger.empty() ? "" : "act:" + trigger;
    e.platform = Platform::slack;
    const Person* person = people_.person_for(user);
    e.person = person ? person->id : "slack:" + user;
    e.place = {Place::Kind::channel, channel, ""};
    e.body = ButtonPress{action_id, value, {}, key.rfind("outbox:", 0) == 0 ? "" : key};
    e.platform_message_id = ts;
    SlackAck ack(api_, response_url, channel, user, false);
    router_.dispatch(e, ack);
  });
  return {200, "text/plain", ""};
}

SlackEvents::Answer SlackEvents::view_submission(const json& p) {
  const json& view = p.at("view");
  const std::string user = str(p.at("user"), "id");
  json meta = json::parse(str(view, "private_metadata"), nullptr, false);
  if (!meta.is_object()) {
    return {400, "text/plain", "bad request\n"};
  }
  std::string action_id = str(meta, "a");
  std::string value = str(meta, "v");
  const std::string key = str(meta, "k");
  const std::string channel = str(meta, "c");
  const std::string ts = str(meta, "t");
  auto inputs = form_values(view);
  std::vector<std::string> blocks;
  blocks.reserve(inputs.size());
  for (const auto& [name, v] : inputs) {
    blocks.push_back(name);
  }
  const std::string event_id =
      "view:" + str(view, "id") + ":" + str(view, "hash") + ":" + str(p, "trigger_id");

  auto promise = std::make_shared<std::promise<Reply>>();
  auto future = promise->get_future();
  post([=, this]() mutable {
    Reply reply;
    try {
      if (value == kStoredValue) {
        if (auto m = stored_message(key)) {
          for (const auto& b : m->value("buttons", json::array())) {
            if (b.value("action_id", "") == action_id) {
              value = b.value("value", "");
            }
          }
        }
      }
      for (auto& [name, v] : inputs) {
        v = people_.normalise(v);
      }
      InboundEvent e;
      e.event_id = event_id;
      e.platform = Platform::slack;
      const Person* person = people_.person_for(user);
      e.person = person ? person->id : "slack:" + user;
      e.place = {Place::Kind::channel, channel, ""};
      e.body = ButtonPress{action_id, value, inputs, key.rfind("outbox:", 0) == 0 ? "" : key};
      e.platform_message_id = ts;
      reply = router_.handle(e);
    } catch (const std::exception& ex) {
      log::error("slack.submission.failed", {{"detail", ex.what()}});
      reply = Reply::fail("Something went wrong; try again.");
    }
    promise->set_value(reply);
  });
  if (future.wait_for(options_.submission_wait) != std::future_status::ready) {
    // Too slow for the modal: close it; the outcome follows as a message.
    post([this, f = future.share(), channel, user]() {
      SlackAck(api_, "", channel, user, channel.rfind('D', 0) == 0).reply(f.get());
    });
    return {200, "text/plain", ""};
  }
  Reply reply = future.get();
  if (reply.error) {
    // Put the error under the input it names, else under the first input.
    std::string block = blocks.empty() ? "" : blocks.front();
    std::string lower_text = reply.text;
    for (auto& c : lower_text) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const auto& b : blocks) {
      if (lower_text.find(b) != std::string::npos) {
        block = b;
      }
    }
    if (!block.empty()) {
      json body = {{"response_action", "errors"}, {"errors", {{block, reply.text}}}};
      return {200, "application/json", body.dump()};
    }
  }
  post([this, reply, channel, user] {
    SlackAck(api_, "", channel, user, channel.rfind('D', 0) == 0).reply(reply);
  });
  return {200, "text/plain", ""};
}

SlackEvents::Answer SlackEvents::message_action(const json& p) {
  if (str(p, "callback_id") != options_.track_callback_id) {
    log::debug("slack.shortcut.ignored", {{"callback_id", str(p, "callback_id")}});
    return {200, "text/plain", ""};
  }
  const json& msg = p.at("message");
  const std::string user = str(p.at("user"), "id");
  const std::string channel = str(p.at("channel"), "id");
  if (user.empty() || channel.empty() || !msg.is_object()) {
    return {400, "text/plain", "bad request\n"};
  }
  TrackMessage m;
  m.text = str(msg, "text");
  m.author = str(msg, "user");
  m.channel = channel;
  m.message_id = str(msg, "ts");
  m.thread = str(msg, "thread_ts") == m.message_id ? "" : str(msg, "thread_ts");
  const std::string trigger = str(p, "trigger_id");
  track(trigger.empty() ? "" : "act:" + trigger, user, std::move(m), str(p, "response_url"));
  return {200, "text/plain", ""};
}

void SlackEvents::reaction_added(const std::string& event_id, const json& ev) {
  if (options_.track_emoji.empty() || str(ev, "reaction") != options_.track_emoji) {
    return;
  }
  if (!ev.contains("item") || !ev["item"].is_object()) {
    return;
  }
  const json& item = ev["item"];
  const std::string channel = str(item, "channel");
  if (str(item, "type") != "message" || channel.empty() || channel != options_.track_channel) {
    return;
  }
  TrackMessage m;
  m.author = str(ev, "item_user");
  m.channel = channel;
  m.message_id = str(item, "ts");
  // The event has no text: it is looked up on the worker, after the ack.
  track(event_id, str(ev, "user"), std::move(m), "");
}

json SlackEvents::find_message(const std::string& channel, const std::string& ts) {
  auto pick = [&](const json& answer) -> json {
    for (const auto& m : answer.value("messages", json::array())) {
      if (m.is_object() && str(m, "ts") == ts) {
        return m;
      }
    }
    return nullptr;
  };
  json m = pick(api_.call_form("conversations.history", {{"channel", channel},
                                                         {"latest", ts},
                                                         {"oldest", ts},
                                                         {"inclusive", "true"},
                                                         {"limit", "1"}}));
  if (!m.is_null()) {
    return m;
  }
  // Replies in a thread are not in the channel history.
  return pick(api_.call_form("conversations.replies", {{"channel", channel},
                                                       {"ts", ts},
                                                       {"latest", ts},
                                                       {"oldest", ts},
                                                       {"inclusive", "true"},
                                                       {"limit", "1"}}));
}

void SlackEvents::track(const std::string& event_id, const std::string& user, TrackMessage m,
                        const std::string& response_url) {
  post([=, this]() mutable {
    SlackAck ack(api_, response_url, m.channel, user, false);
    if (m.text.empty()) {
      json found;
      try {
        found = find_message(m.channel, m.message_id);
      } catch (const std::exception& e) {
        log::warn("slack.track.lookup_failed", {{"detail", e.what()}});
      }
      if (!found.is_object()) {
        ack.reply(
            Reply::fail("Could not read that message; try the \"Track as audit request\" "
                        "shortcut on it."));
        return;
      }
      m.text = str(found, "text");
      if (m.author.empty()) {
        m.author = str(found, "user");
      }
      const std::string thread = str(found, "thread_ts");
      if (!thread.empty() && thread != m.message_id) {
        m.thread = thread;
      }
    }
    m.text = people_.normalise(m.text);
    if (!m.author.empty()) {
      const Person* author = people_.person_for(m.author);
      m.author = author ? author->id : "slack:" + m.author;
    }
    InboundEvent e;
    e.event_id = event_id;
    e.platform = Platform::slack;
    const Person* p = people_.person_for(user);
    e.person = p ? p->id : "slack:" + user;
    e.place = {m.thread.empty() ? Place::Kind::channel : Place::Kind::thread, m.channel, m.thread};
    e.platform_message_id = m.message_id;
    e.body = std::move(m);
    router_.dispatch(e, ack);
  });
}

void SlackEvents::run_text(const std::string& event_id, const std::string& user,
                           const std::string& channel, const std::string& thread,
                           const std::string& text, bool in_dm) {
  post([=, this] {
    InboundEvent e;
    e.event_id = event_id;
    e.platform = Platform::slack;
    const Person* p = people_.person_for(user);
    e.person = p ? p->id : "slack:" + user;
    e.place = {
        in_dm ? Place::Kind::dm : (thread.empty() ? Place::Kind::channel : Place::Kind::thread),
        channel, thread};
    e.body = CommandText{strip_command_prefix(people_.normalise(text))};
    SlackAck ack(api_, "", channel, user, in_dm);
    router_.dispatch(e, ack);
  });
}

SlackEvents::Answer SlackEvents::event(const json& env) {
  if (str(env, "type") != "event_callback") {
    return {200, "text/plain", ""};
  }
  const json& ev = env.at("event");
  const std::string event_id = str(env, "event_id");
  const std::string type = str(ev, "type");
  const std::string user = str(ev, "user");
  if (type == "app_mention") {
    std::string text = str(ev, "text");
    // Drop the leading mention of the bot itself.
    if (text.rfind("<@", 0) == 0 && text.find('>') != std::string::npos) {
      text = text.substr(text.find('>') + 1);
    }
    run_text(event_id, user, str(ev, "channel"),
             str(ev, "thread_ts").empty() ? "" : str(ev, "thread_ts"), text, false);
  } else if (type == "message") {
    if (str(ev, "channel_type") != "im" || ev.contains("bot_id") || ev.contains("subtype")) {
      return {200, "text/plain", ""};
    }
    run_text(event_id, user, str(ev, "channel"), "", str(ev, "text"), true);
  } else if (type == "app_home_opened") {
    if (str(ev, "tab") != "home") {
      return {200, "text/plain", ""};
    }
    post([this, user] {
      InboundEvent e;
      e.platform = Platform::slack;
      const Person* p = people_.person_for(user);
      if (!p) {
        return;
      }
      e.person = p->id;
      e.body = CommandText{"mine"};
      api_.views_publish(user, home_view(router_.handle(e)));
    });
  } else if (type == "reaction_added") {
    reaction_added(event_id, ev);
  } else if (type == "team_join") {
    const std::string uid =
        ev.contains("user") && ev["user"].is_object() ? str(ev["user"], "id") : user;
    post([this, uid, event_id] {
      InboundEvent e;
      e.event_id = event_id;
      e.platform = Platform::slack;
      const Person* p = people_.person_for(uid);
      e.person = p ? p->id : "slack:" + uid;
      e.body = PersonJoined{};
      router_.handle(e);
    });
  } else {
    log::debug("slack.event.ignored", {{"type", type}});
  }
  return {200, "text/plain", ""};
}

}  // namespace auditbot::slack
