// Reads Bot Framework activities into neutral events.
#include "integrations/teams/activity.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <utility>

#include "bot/text.hpp"
#include "integrations/teams/cards.hpp"

namespace auditbot::teams {
namespace {

std::string str(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

const nlohmann::json& obj(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto it = j.find(key);
  return (it != j.end() && it->is_object()) ? *it : empty;
}

bool starts_with_word(const std::string& s, std::string_view word) {
  if (s.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != word[i]) return false;
  }
  return s.size() == word.size() || std::isspace(static_cast<unsigned char>(s[word.size()]));
}

// Replaces <at>Name</at>: the bot's own mention disappears, other people become @person.
std::string resolve_mentions(const std::string& text, const nlohmann::json& activity,
                             const std::string& bot_id, const MentionResolver& resolver) {
  std::vector<nlohmann::json> mentions;
  if (const auto it = activity.find("entities"); it != activity.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (e.is_object() && str(e, "type") == "mention") mentions.push_back(e);
    }
  }
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto open = text.find("<at>", pos);
    if (open == std::string::npos) break;
    const auto close = text.find("</at>", open);
    if (close == std::string::npos) break;
    out += text.substr(pos, open - pos);
    const std::string tag = text.substr(open, close + 5 - open);
    const std::string name = text.substr(open + 4, close - open - 4);
    const nlohmann::json* entity = nullptr;
    for (const auto& m : mentions) {
      if (str(m, "text") == tag) {
        entity = &m;
        break;
      }
    }
    const auto& who = entity ? obj(*entity, "mentioned") : obj(activity, "__none__");
    const std::string id = str(who, "id");
    if (!(entity && id == bot_id)) {
      std::optional<std::string> person;
      if (resolver) person = resolver(id, str(who, "aadObjectId"), plain_text(name));
      if (person) {
        out += "@" + *person;
      } else {
        std::string n = plain_text(name);
        n.erase(std::remove_if(n.begin(), n.end(), [](unsigned char c) { return std::isspace(c); }),
                n.end());
        out += "@" + n;
      }
    }
    pos = close + 5;
  }
  out += text.substr(pos);
  return out;
}

ConversationRef read_ref(const nlohmann::json& a) {
  ConversationRef r;
  r.service_url = str(a, "serviceUrl");
  const auto& conv = obj(a, "conversation");
  r.conversation_id = str(conv, "id");
  r.tenant_id = str(conv, "tenantId");
  if (r.tenant_id.empty()) r.tenant_id = str(obj(obj(a, "channelData"), "tenant"), "id");
  const auto& from = obj(a, "from");
  r.user_id = str(from, "id");
  r.aad_object_id = str(from, "aadObjectId");
  const auto& recipient = obj(a, "recipient");
  r.bot_id = str(recipient, "id");
  r.bot_name = str(recipient, "name");
  return r;
}

// Action.Submit value / Action.Execute data -> ButtonPress, if it is one of our cards.
std::optional<ButtonPress> read_press(const nlohmann::json& data) {
  if (!data.is_object()) return std::nullopt;
  const auto& meta = obj(data, kCardDataKey);
  const std::string action = str(meta, "a");
  if (action.empty()) return std::nullopt;
  ButtonPress p;
  p.action_id = action;
  p.value = str(meta, "v");
  p.message_key = str(meta, "k");
  const std::string prefix = input_id_prefix(meta.value("b", -1));
  for (const auto& [k, v] : data.items()) {
    if (k.rfind(prefix, 0) == 0 && v.is_string()) {
      const std::string value = trim(v.get<std::string>());
      if (!value.empty()) p.inputs[k.substr(prefix.size())] = value;
    }
  }
  return p;
}

// The conversation id without a `;messageid=<root>` suffix (a channel thread's own id).
std::pair<std::string, std::string> split_thread(const std::string& conversation_id) {
  static constexpr std::string_view kSep = ";messageid=";
  const auto at = conversation_id.find(kSep);
  if (at == std::string::npos) return {conversation_id, ""};
  return {conversation_id.substr(0, at), conversation_id.substr(at + kSep.size())};
}

// composeExtension/submitAction from a message's "..." menu. Relied on (Microsoft Learn,
// "Respond to the dialog submit action" and the Bot Framework MessagingExtensionAction /
// MessageActionsPayload types): value.commandId, value.commandContext "message",
// value.messagePayload {id, replyToId, body {contentType, content}, from {user {id,
// aadObjectId, displayName} | application {displayName}}, linkToMessage}.
std::optional<TrackMessage> read_track(const nlohmann::json& a, const MentionResolver& resolver) {
  const auto& value = obj(a, "value");
  if (str(value, "commandId") != kTrackCommandId || str(value, "commandContext") != "message") {
    return std::nullopt;
  }
  const auto& msg = obj(value, "messagePayload");
  TrackMessage m;
  m.message_id = str(msg, "id");
  if (m.message_id.empty()) return std::nullopt;
  const auto& body = obj(msg, "body");
  m.text = trim(str(body, "contentType") == "text" ? str(body, "content")
                                                   : plain_text(str(body, "content")));
  const auto& from = obj(msg, "from");
  const auto& user = obj(from, "user");
  std::string name = str(user, "displayName");
  if (name.empty()) name = str(obj(from, "application"), "displayName");
  std::optional<std::string> person;
  if (resolver && !user.empty()) {
    person = resolver(str(user, "id"), str(user, "aadObjectId"), name);
  }
  m.author = person ? *person : name;
  const auto [channel, root] = split_thread(str(obj(a, "conversation"), "id"));
  m.channel = channel;
  m.thread = str(msg, "replyToId");
  if (m.thread.empty() && root != m.message_id) m.thread = root;
  return m;
}

}  // namespace

nlohmann::json to_json(const ConversationRef& r) {
  return {{"service_url", r.service_url},
          {"conversation_id", r.conversation_id},
          {"tenant_id", r.tenant_id},
          {"user_id", r.user_id},
          {"aad_object_id", r.aad_object_id},
          {"bot_id", r.bot_id},
          {"bot_name", r.bot_name}};
}

ConversationRef conversation_ref_from_json(const nlohmann::json& j) {
  ConversationRef r;
  r.service_url = str(j, "service_url");
  r.conversation_id = str(j, "conversation_id");
  r.tenant_id = str(j, "tenant_id");
  r.user_id = str(j, "user_id");
  r.aad_object_id = str(j, "aad_object_id");
  r.bot_id = str(j, "bot_id");
  r.bot_name = str(j, "bot_name");
  return r;
}

std::string plain_text(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  for (std::size_t i = 0; i < html.size();) {
    const char c = html[i];
    if (c == '<') {
      const auto end = html.find('>', i);
      if (end == std::string_view::npos) {
        out += html.substr(i);
        break;
      }
      const auto tag = html.substr(i, end + 1 - i);
      if (tag == "<br>" || tag == "<br/>" || tag == "<br />" || tag == "</p>") out += ' ';
      i = end + 1;
      continue;
    }
    if (c == '&') {
      static const std::pair<std::string_view, std::string_view> entities[] = {
          {"&amp;", "&"}, {"&lt;", "<"},   {"&gt;", ">"},  {"&quot;", "\""},
          {"&#39;", "'"}, {"&nbsp;", " "}, {"&apos;", "'"}};
      bool done = false;
      for (const auto& [from, to] : entities) {
        if (html.substr(i, from.size()) == from) {
          out += to;
          i += from.size();
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out += c;
    ++i;
  }
  return out;
}

ParsedActivity parse_activity(const nlohmann::json& a, const MentionResolver& mentions) {
  if (!a.is_object()) throw std::invalid_argument("activity is not an object");
  ParsedActivity p;
  const std::string type = str(a, "type");
  p.id = str(a, "id");
  p.channel_id = str(a, "channelId");
  p.service_url = str(a, "serviceUrl");
  p.ref = read_ref(a);
  p.conversation_type = str(obj(a, "conversation"), "conversationType");
  p.reply_to_id = str(a, "replyToId");
  p.timezone = str(a, "localTimezone");
  if (const auto it = a.find("entities"); p.timezone.empty() && it != a.end() && it->is_array()) {
    for (const auto& e : *it) {
      if (e.is_object() && str(e, "type") == "clientInfo") p.timezone = str(e, "timezone");
    }
  }
  if (type.empty() || p.service_url.empty() || p.ref.conversation_id.empty() ||
      p.ref.user_id.empty()) {
    throw std::invalid_argument("activity lacks type, serviceUrl, conversation or from");
  }

  if (type == "message") {
    if (const auto it = a.find("value"); it != a.end() && it->is_object()) {
      if (auto press = read_press(*it)) {
        p.kind = ParsedActivity::Kind::button;
        p.press = std::move(*press);
      }
      return p;
    }
    std::string text = resolve_mentions(str(a, "text"), a, p.ref.bot_id, mentions);
    text = trim(plain_text(text));
    if (starts_with_word(text, "soc2")) text = trim(text.substr(4));
    if (starts_with_word(text, "/soc2")) text = trim(text.substr(5));
    if (!text.empty()) {
      p.kind = ParsedActivity::Kind::command;
      p.text = std::move(text);
    }
    return p;
  }
  if (type == "invoke") {
    p.invoke = true;
    if (str(a, "name") == "composeExtension/submitAction") {
      if (auto track = read_track(a, mentions)) {
        p.kind = ParsedActivity::Kind::track;
        p.track = std::move(*track);
        // The manifest's toggle parameter comes back in value.data as "true"/"false".
        const auto& data = obj(obj(a, "value"), "data");
        if (const auto it = data.find("confirm"); it != data.end()) {
          p.track_declined =
              !(*it == true || (it->is_string() && lower(it->get<std::string>()) == "true"));
        }
      }
      return p;
    }
    if (str(a, "name") != "adaptiveCard/action") return p;
    const auto& action = obj(obj(a, "value"), "action");
    if (auto press = read_press(obj(action, "data"))) {
      p.kind = ParsedActivity::Kind::button;
      p.press = std::move(*press);
      if (p.press.action_id.empty()) p.press.action_id = str(action, "verb");
    }
    return p;
  }
  if (type == "installationUpdate") {
    const std::string action = str(a, "action");
    if (action == "add" || action == "add-upgrade") p.kind = ParsedActivity::Kind::install;
    if (action == "remove" || action == "remove-upgrade") p.kind = ParsedActivity::Kind::uninstall;
    return p;
  }
  if (type == "conversationUpdate") {
    // The bot itself being added is an install; being removed an uninstall.
    auto names_bot = [&](const char* field) {
      const auto it = a.find(field);
      if (it == a.end() || !it->is_array()) return false;
      return std::any_of(it->begin(), it->end(), [&](const nlohmann::json& m) {
        return m.is_object() && str(m, "id") == p.ref.bot_id;
      });
    };
    if (names_bot("membersAdded")) p.kind = ParsedActivity::Kind::install;
    if (names_bot("membersRemoved")) p.kind = ParsedActivity::Kind::uninstall;
    return p;
  }
  return p;
}

InboundEvent to_event(const ParsedActivity& a, const std::string& person) {
  InboundEvent e;
  e.event_id = a.id;
  e.platform = Platform::teams;
  e.person = person;
  if (a.conversation_type == "channel") {
    e.place.kind = Place::Kind::channel;
  } else if (a.conversation_type == "groupChat") {
    e.place.kind = Place::Kind::channel;
  } else {
    e.place.kind = Place::Kind::dm;
  }
  e.place.channel = a.ref.conversation_id;
  e.platform_message_id = a.reply_to_id;
  switch (a.kind) {
    case ParsedActivity::Kind::command:
      e.body = CommandText{a.text};
      break;
    case ParsedActivity::Kind::button:
      e.body = a.press;
      break;
    case ParsedActivity::Kind::track:
      e.place = {a.track.thread.empty() ? Place::Kind::channel : Place::Kind::thread,
                 a.track.channel, a.track.thread};
      e.platform_message_id = a.track.message_id;
      e.body = a.track;
      break;
    default:
      e.body = PersonJoined{};
      break;
  }
  return e;
}

nlohmann::json invoke_message_response(const std::string& text) {
  return {
      {"statusCode", 200}, {"type", "application/vnd.microsoft.activity.message"}, {"value", text}};
}

nlohmann::json invoke_card_response(const nlohmann::json& card) {
  return {
      {"statusCode", 200}, {"type", "application/vnd.microsoft.card.adaptive"}, {"value", card}};
}

nlohmann::json invoke_task_message_response(const std::string& text) {
  // A message-extension action may answer with "another dialog"; type "message" shows text.
  return {{"task", {{"type", "message"}, {"value", text}}}};
}

nlohmann::json invoke_error_response(int status, const std::string& message) {
  return {
      {"statusCode", status},
      {"type", "application/vnd.microsoft.error"},
      {"value", {{"code", status == 400 ? "BadRequest" : "InternalError"}, {"message", message}}}};
}

}  // namespace auditbot::teams
