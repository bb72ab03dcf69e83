// Neutral outbound messages: what the bot says, to whom, with which buttons. Integrations
// render them (Block Kit, Adaptive Cards, console text); handlers only ever build these.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace auditbot {

// An input a button asks for before it fires (a modal in Slack, card inputs in Teams,
// `/press <n> <text>` in the console, filled in order).
struct Input {
  enum class Kind { text, multiline, url, date, person };
  std::string name;   // key in ButtonPress::inputs
  std::string label;  // shown to the person
  Kind kind = Kind::text;
  bool optional = false;
  bool operator==(const Input&) const = default;
};

struct Button {
  enum class Style { normal, primary, danger };
  std::string action_id;  // routed to the handler registered for it, e.g. "ask.submit"
  std::string label;
  std::string value;  // the item it acts on, e.g. "ASK-3"; at most 2000 characters
  std::vector<Input> inputs;
  Style style = Style::normal;
  bool operator==(const Button&) const = default;
};

struct Field {
  std::string label;
  std::string value;
  bool operator==(const Field&) const = default;
};

struct Recipient {
  enum class Kind { person, channel };
  Kind kind = Kind::person;
  std::string id;  // person id, or logical channel name from config ("compliance")
  // The platform id of the thread's root message in that channel (Slack ts, Teams activity
  // id, console message id): the message is a reply in that thread. Empty = top level.
  std::string thread;

  static Recipient person(std::string id) { return {Kind::person, std::move(id), {}}; }
  static Recipient channel(std::string name, std::string thread = {}) {
    return {Kind::channel, std::move(name), std::move(thread)};
  }
  bool operator==(const Recipient&) const = default;
};

struct Message {
  Recipient to;
  // Stable logical id. A later message with the same key replaces the earlier one in place
  // (chat.update / card update); empty means a fresh message every time.
  std::string key;
  std::string title;
  std::string text;
  std::vector<Field> fields;
  std::vector<Button> buttons;
  std::string context;  // small print under the message

  bool operator==(const Message&) const = default;
};

// What a command or button press answers to the person who did it (ephemeral in Slack).
struct Reply {
  std::string text;
  bool error = false;
  std::vector<Field> fields;
  std::vector<Button> buttons;

  static Reply ok(std::string t) { return Reply{std::move(t), false, {}, {}}; }
  static Reply fail(std::string t) { return Reply{std::move(t), true, {}, {}}; }
};

void to_json(nlohmann::json& j, const Input& v);
void from_json(const nlohmann::json& j, Input& v);
void to_json(nlohmann::json& j, const Button& v);
void from_json(const nlohmann::json& j, Button& v);
void to_json(nlohmann::json& j, const Field& v);
void from_json(const nlohmann::json& j, Field& v);
void to_json(nlohmann::json& j, const Recipient& v);
void from_json(const nlohmann::json& j, Recipient& v);
void to_json(nlohmann::json& j, const Message& v);
void from_json(const nlohmann::json& j, Message& v);

}  // namespace auditbot
