// The router: commands by verb and button actions by action id, registered once at
// start-up (duplicates rejected). Unknown verbs get the nearest verb's usage; user errors
// become one-line replies; internal errors a log line and a generic reply.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bot/event.hpp"
#include "bot/grammar.hpp"
#include "bot/people.hpp"

namespace auditbot {

struct CommandCall {
  const InboundEvent& event;
  const Person& actor;
  Args& args;  // tokens after the verb
};

struct ActionCall {
  const InboundEvent& event;
  const Person& actor;
  const ButtonPress& press;
};

struct CommandSpec {
  std::string verb;     // "ask"
  std::string usage;    // "/soc2 ask @owner <control> \"<what is needed>\" due <date>"
  std::string summary;  // one line for /soc2 help
  std::function<Reply(CommandCall&)> run;
};

struct ActionSpec {
  std::string action_id;  // "ask.submit"
  std::function<Reply(ActionCall&)> run;
};

// The one handler for TrackMessage events (the auditor request log).
struct TrackSpec {
  std::string name;
  std::function<Reply(const InboundEvent&, const Person&, const TrackMessage&)> run;
};

struct JoinSpec {
  std::string name;
  std::function<void(const InboundEvent&, const Person&)> run;
};

class Router {
 public:
  explicit Router(const Directory& people) : people_(people) {}

  void add(CommandSpec spec);  // throws std::logic_error on a duplicate verb
  void add(ActionSpec spec);   // throws std::logic_error on a duplicate action id
  void add(JoinSpec spec);
  void add(TrackSpec spec);  // throws std::logic_error when one is already registered

  // Runs the event and answers through `ack` exactly once (PersonJoined has no reply).
  void dispatch(const InboundEvent& event, Ack& ack);
  // Same, returning the reply (tests and the console).
  Reply handle(const InboundEvent& event);

  std::string help() const;  // every verb with its summary and usage
  const CommandSpec* find(std::string_view verb) const;
  // The registered verb closest to `verb` by edit distance.
  std::string nearest_verb(std::string_view verb) const;

 private:
  Reply run_command(const InboundEvent& event, const Person& actor, const CommandText& c);
  Reply run_action(const InboundEvent& event, const Person& actor, const ButtonPress& b);

  const Directory& people_;
  std::map<std::string, CommandSpec, std::less<>> commands_;
  std::map<std::string, ActionSpec, std::less<>> actions_;
  std::vector<JoinSpec> joins_;
  std::optional<TrackSpec> track_;
};

}  // namespace auditbot
