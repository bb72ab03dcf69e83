// The router: finds the actor, picks the command or button handler, and turns whatever the
// handler throws into the one reply the person sees (user errors as is, the rest generic).
#include "bot/router.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "bot/errors.hpp"
#include "bot/log.hpp"
#include "bot/text.hpp"

namespace auditbot {

namespace {

constexpr std::string_view kHelpVerb = "help";
constexpr std::string_view kHelpUsage = "/soc2 help [command]";
constexpr std::string_view kHelpSummary = "List every command, or show how to use one.";
constexpr std::string_view kUnknownPerson =
    "I don't know who you are yet: ask a compliance admin to add you to auditbot's people list.";
constexpr std::size_t kMaxShownVerb = 40;

// Only the first line: a syntax reply is the error line plus the usage line, nothing more.
std::string_view first_line(std::string_view s) {
  return s.substr(0, s.find('\n'));
}

std::string shown_verb(std::string_view verb) {
  std::string out(verb.substr(0, kMaxShownVerb));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (out.size() < verb.size()) {
    // Never cut a UTF-8 sequence in half.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0)
      out.pop_back();
    out += "\xE2\x80\xA6";
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// A short random id that ties the generic reply to its log line.
std::string error_reference() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rng() & 0xFFFFFFFFu));
  return buf;
}

Reply internal_failure(std::string_view event_name, std::string_view what_ran,
                       const InboundEvent& event, const Person& actor, std::string_view error) {
  const std::string ref = error_reference();
  log::error(event_name, {{"ref", ref},
                          {"what", what_ran},
                          {"person", actor.id},
                          {"event_id", event.event_id},
                          {"error", error}});
  return Reply::fail("Something went wrong on our side (ref " + ref + "); nothing was changed.");
}

}  // namespace

void Router::add(CommandSpec spec) {
  if (spec.verb.empty() || spec.verb != lower(spec.verb) ||
      spec.verb.find_first_of(" \t\n") != std::string::npos) {
    throw std::logic_error("command verb '" + spec.verb + "' must be one lower-case word");
  }
  if (!spec.run) throw std::logic_error("command '" + spec.verb + "' has no handler");
  if (spec.verb == kHelpVerb || commands_.count(spec.verb) != 0) {
    throw std::logic_error("duplicate command '" + spec.verb + "'");
  }
  std::string verb = spec.verb;
  commands_.emplace(std::move(verb), std::move(spec));
}

void Router::add(ActionSpec spec) {
  if (spec.action_id.empty()) throw std::logic_error("action without an action id");
  if (!spec.run) throw std::logic_error("action '" + spec.action_id + "' has no handler");
  if (actions_.count(spec.action_id) != 0) {
    throw std::logic_error("duplicate action '" + spec.action_id + "'");
  }
  std::string id = spec.action_id;
  actions_.emplace(std::move(id), std::move(spec));
}

void Router::add(JoinSpec spec) {
  if (!spec.run) throw std::logic_error("join handler '" + spec.name + "' has no handler");
  joins_.push_back(std::move(spec));
}

void Router::add(TrackSpec spec) {
  if (!spec.run) throw std::logic_error("track handler '" + spec.name + "' has no handler");
  if (track_) throw std::logic_error("a track handler is already registered");
  track_ = std::move(spec);
}

void Router::dispatch(const InboundEvent& event, Ack& ack) {
  Reply reply = handle(event);
  if (std::holds_alternative<PersonJoined>(event.body)) return;
  ack.reply(reply);
}

Reply Router::handle(const InboundEvent& event) {
  const Person* actor = people_.find(event.person);
  if (std::holds_alternative<PersonJoined>(event.body)) {
    if (!actor) {
      // Someone outside the people list joined the workspace: nothing of theirs to set up.
      log::debug("person.joined.unknown", {{"person", event.person}});
      return Reply{};
    }
    for (const JoinSpec& join : joins_) {
      try {
        join.run(event, *actor);
      } catch (const std::exception& e) {
        internal_failure("join.failed", join.name, event, *actor, e.what());
      } catch (...) {
        internal_failure("join.failed", join.name, event, *actor, "unknown exception");
      }
    }
    return Reply{};
  }
  if (!actor) return Reply::fail(std::string(kUnknownPerson));
  if (const auto* command = std::get_if<CommandText>(&event.body)) {
    return run_command(event, *actor, *command);
  }
  if (const auto* track = std::get_if<TrackMessage>(&event.body)) {
    if (!track_) return Reply::fail("Tracking messages is not available here.");
    try {
      return track_->run(event, *actor, *track);
    } catch (const UserError& e) {
      return Reply::fail(e.what());
    } catch (const std::exception& e) {
      return internal_failure("track.failed", track_->name, event, *actor, e.what());
    }
  }
  return run_action(event, *actor, std::get<ButtonPress>(event.body));
}

std::string Router::help() const {
  std::string out = "auditbot commands (/soc2 help <command> for one):";
  for (const auto& [verb, spec] : commands_) {
    out += "\n" + spec.usage + "\n    " + spec.summary;
  }
  out += "\n";
  out += kHelpUsage;
  out += "\n    ";
  out += kHelpSummary;
  return out;
}

const CommandSpec* Router::find(std::string_view verb) const {
  auto it = commands_.find(verb);
  return it == commands_.end() ? nullptr : &it->second;
}

std::string Router::nearest_verb(std::string_view verb) const {
  const std::string typed = lower(verb);
  std::string best(kHelpVerb);
  std::size_t best_distance = edit_distance(typed, kHelpVerb);
  bool best_is_prefix = typed.size() >= 2 && kHelpVerb.starts_with(typed);
  for (const auto& [candidate, spec] : commands_) {
    // A typed beginning ("rep" for "report") beats a closer but unrelated verb ("req").
    const bool is_prefix = typed.size() >= 2 && std::string_view(candidate).starts_with(typed);
    const std::size_t distance = edit_distance(typed, candidate);
    if ((is_prefix && !best_is_prefix) ||
        (is_prefix == best_is_prefix && distance < best_distance)) {
      best = candidate;
      best_distance = distance;
      best_is_prefix = is_prefix;
    }
  }
  return best;
}

Reply Router::run_command(const InboundEvent& event, const Person& actor, const CommandText& c) {
  std::string_view line = c.text;
  if (auto stripped = strip_command_prefix(line)) line = *stripped;

  std::vector<Token> tokens;
  try {
    tokens = tokenize(line);
  } catch (const SyntaxError& e) {
    // The line did not parse, but its first word may still name a verb whose usage helps.
    std::string_view first = line.substr(std::min(line.size(), line.find_first_not_of(" \t\r\n")));
    const CommandSpec* spec = find(lower(first.substr(0, first.find_first_of(" \t\r\n"))));
    std::string msg(first_line(e.what()));
    if (spec) msg += "\nUsage: " + spec->usage;
    return Reply::fail(std::move(msg));
  }
  if (tokens.empty()) return Reply::ok(help());

  const Token& verb_token = tokens.front();
  const std::string verb = lower(verb_token.text);
  if (verb_token.kind == Token::Kind::word && verb == kHelpVerb) {
    if (tokens.size() < 2) return Reply::ok(help());
    const std::string asked = lower(tokens[1].text);
    if (asked == kHelpVerb)
      return Reply::ok(std::string(kHelpUsage) + "\n" + std::string(kHelpSummary));
    if (const CommandSpec* spec = find(asked)) return Reply::ok(spec->usage + "\n" + spec->summary);
    const CommandSpec* near = find(nearest_verb(asked));
    return Reply::fail("Unknown command '" + shown_verb(tokens[1].text) +
                       "'. Did you mean: " + (near ? near->usage : std::string(kHelpUsage)));
  }

  const CommandSpec* spec = verb_token.kind == Token::Kind::word ? find(verb) : nullptr;
  if (!spec) {
    const std::string typed =
        verb_token.kind == Token::Kind::mention ? "@" + verb_token.text : verb_token.text;
    const CommandSpec* near = find(nearest_verb(verb));
    return Reply::fail("Unknown command '" + shown_verb(typed) +
                       "'. Did you mean: " + (near ? near->usage : std::string(kHelpUsage)));
  }

  tokens.erase(tokens.begin());
  Args args(std::move(tokens));
  CommandCall call{event, actor, args};
  try {
    return spec->run(call);
  } catch (const SyntaxError& e) {
    return Reply::fail(std::string(first_line(e.what())) + "\nUsage: " + spec->usage);
  } catch (const UserError& e) {
    return Reply::fail(e.what());
  } catch (const std::exception& e) {
    return internal_failure("command.failed", spec->verb, event, actor, e.what());
  } catch (...) {
    return internal_failure("command.failed", spec->verb, event, actor, "unknown exception");
  }
}

Reply Router::run_action(const InboundEvent& event, const Person& actor, const ButtonPress& b) {
  auto it = actions_.find(b.action_id);
  if (it == actions_.end()) {
    // Old messages keep buttons from earlier versions; say so instead of failing silently.
    log::info("action.unknown", {{"action_id", b.action_id}, {"person", actor.id}});
    return Reply::fail("That button is no longer supported.");
  }
  ActionCall call{event, actor, b};
  try {
    return it->second.run(call);
  } catch (const UserError& e) {
    return Reply::fail(e.what());
  } catch (const std::exception& e) {
    return internal_failure("action.failed", b.action_id, event, actor, e.what());
  } catch (...) {
    return internal_failure("action.failed", b.action_id, event, actor, "unknown exception");
  }
}

}  // namespace auditbot
