// JSON form of the neutral messages, as stored in the outbox: empty fields are left out so
// entries stay small, and reading tolerates any optional field being absent.
#include "bot/message.hpp"

#include <stdexcept>

namespace auditbot {

namespace {

using nlohmann::json;

std::string_view to_string(Input::Kind k) {
  switch (k) {
    case Input::Kind::text:
      return "text";
    case Input::Kind::multiline:
      return "multiline";
    case Input::Kind::url:
      return "url";
    case Input::Kind::date:
      return "date";
    case Input::Kind::person:
      return "person";
  }
  return "text";
}

std::string_view to_string(Button::Style s) {
  switch (s) {
    case Button::Style::normal:
      return "normal";
    case Button::Style::primary:
      return "primary";
    case Button::Style::danger:
      return "danger";
  }
  return "normal";
}

std::string_view to_string(Recipient::Kind k) {
  return k == Recipient::Kind::channel ? "channel" : "person";
}

Input::Kind input_kind(const std::string& s) {
  if (s == "text") return Input::Kind::text;
  if (s == "multiline") return Input::Kind::multiline;
  if (s == "url") return Input::Kind::url;
  if (s == "date") return Input::Kind::date;
  if (s == "person") return Input::Kind::person;
  throw std::invalid_argument("unknown input kind '" + s + "'");
}

Button::Style button_style(const std::string& s) {
  if (s == "normal") return Button::Style::normal;
  if (s == "primary") return Button::Style::primary;
  if (s == "danger") return Button::Style::danger;
  throw std::invalid_argument("unknown button style '" + s + "'");
}

Recipient::Kind recipient_kind(const std::string& s) {
  if (s == "person") return Recipient::Kind::person;
  if (s == "channel") return Recipient::Kind::channel;
  throw std::invalid_argument("unknown recipient kind '" + s + "'");
}

void put(json& j, const char* key, const std::string& v) {
  if (!v.empty()) j[key] = v;
}

template <typename T>
void put(json& j, const char* key, const std::vector<T>& v) {
  if (!v.empty()) j[key] = v;
}

template <typename T>
void get(const json& j, const char* key, T& out) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) it->get_to(out);
}

std::string required(const json& j, const char* key, const char* type) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    throw std::invalid_argument(std::string(type) + " without '" + key + "'");
  }
  return it->get<std::string>();
}

}  // namespace

void to_json(json& j, const Input& v) {
  j = json::object();
  put(j, "name", v.name);
  put(j, "label", v.label);
  j["kind"] = to_string(v.kind);
  if (v.optional) j["optional"] = true;
}

void from_json(const json& j, Input& v) {
  v = Input{};
  v.name = required(j, "name", "input");
  get(j, "label", v.label);
  if (auto it = j.find("kind"); it != j.end()) v.kind = input_kind(it->get<std::string>());
  get(j, "optional", v.optional);
}

void to_json(json& j, const Button& v) {
  j = json::object();
  put(j, "action_id", v.action_id);
  put(j, "label", v.label);
  put(j, "value", v.value);
  put(j, "inputs", v.inputs);
  j["style"] = to_string(v.style);
}

void from_json(const json& j, Button& v) {
  v = Button{};
  v.action_id = required(j, "action_id", "button");
  get(j, "label", v.label);
  get(j, "value", v.value);
  get(j, "inputs", v.inputs);
  if (auto it = j.find("style"); it != j.end()) v.style = button_style(it->get<std::string>());
}

void to_json(json& j, const Field& v) {
  j = json::object();
  put(j, "label", v.label);
  put(j, "value", v.value);
}

void from_json(const json& j, Field& v) {
  v = Field{};
  get(j, "label", v.label);
  get(j, "value", v.value);
}

void to_json(json& j, const Recipient& v) {
  j = json::object();
  j["kind"] = to_string(v.kind);
  put(j, "id", v.id);
  put(j, "thread", v.thread);
}

void from_json(const json& j, Recipient& v) {
  v = Recipient{};
  if (auto it = j.find("kind"); it != j.end()) v.kind = recipient_kind(it->get<std::string>());
  v.id = required(j, "id", "recipient");
  get(j, "thread", v.thread);  // absent in entries queued before threads existed
}

void to_json(json& j, const Message& v) {
  j = json::object();
  j["to"] = v.to;
  put(j, "key", v.key);
  put(j, "title", v.title);
  put(j, "text", v.text);
  put(j, "fields", v.fields);
  put(j, "buttons", v.buttons);
  put(j, "context", v.context);
}

void from_json(const json& j, Message& v) {
  v = Message{};
  auto to = j.find("to");
  if (to == j.end()) throw std::invalid_argument("message without 'to'");
  to->get_to(v.to);
  get(j, "key", v.key);
  get(j, "title", v.title);
  get(j, "text", v.text);
  get(j, "fields", v.fields);
  get(j, "buttons", v.buttons);
  get(j, "context", v.context);
}

}  // namespace auditbot
