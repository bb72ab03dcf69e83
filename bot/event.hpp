// The neutral inbound event: who did what, where, on which platform. Integrations build
// these from platform bytes; handlers see nothing else.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "bot/message.hpp"

namespace auditbot {

enum class Platform { console, slack, teams };
std::string_view to_string(Platform p);

struct Place {
  enum class Kind { dm, channel, thread };
  Kind kind = Kind::dm;
  std::string channel;  // platform channel id, or logical name in the console
  std::string thread;   // thread/root message id when kind == thread
};

// "/soc2 ask @bob CC6.1 ..." arrives as text "ask @bob CC6.1 ..." (no command prefix).
struct CommandText {
  std::string text;
};

struct ButtonPress {
  std::string action_id;
  std::string value;
  std::map<std::string, std::string> inputs;  // filled Input values by Input::name
  std::string message_key;                    // Message::key of the message it sat on
};

// A person joined the workspace (Slack team_join, Teams install): handlers may greet them.
struct PersonJoined {};

// "Track this message" (an emoji reaction or a message shortcut on a message in a channel):
// the message's text, who wrote it and where, so it can become a tracked item.
struct TrackMessage {
  std::string text;
  std::string author;      // person id when known, else the platform's name for the writer
  std::string channel;     // platform channel id (logical name in the console)
  std::string message_id;  // the tracked message (ts / activity id)
  std::string thread;      // its thread root, or empty when it is not in a thread
};

// Answers the person who caused the event. One-shot: the first reply wins; integrations
// decide whether it is ephemeral, a modal error or a console line.
class Ack {
 public:
  virtual ~Ack() = default;
  virtual void reply(const Reply& r) = 0;
};

struct InboundEvent {
  std::string event_id;  // platform delivery id; redeliveries of one id change state once
  Platform platform = Platform::console;
  std::string person;  // person id in the directory (integrations resolve platform users)
  Place place;
  std::variant<CommandText, ButtonPress, PersonJoined, TrackMessage> body;
  std::string platform_message_id;  // the message a button sat on, when known
};

}  // namespace auditbot
