#include "integrations/console/console.hpp"

#include <iostream>
#include <random>
#include <sstream>

#include "bot/errors.hpp"
#include "bot/grammar.hpp"

namespace auditbot {
namespace {

std::string who(const Directory& people, const Recipient& to) {
  if (to.kind == Recipient::Kind::channel) {
    return "#" + to.id + (to.thread.empty() ? "" : " (reply in thread " + to.thread + ")");
  }
  const Person* p = people.find(to.id);
  return "DM to " + to.id + (p && !p->name.empty() ? " (" + p->name + ")" : "");
}

std::string input_hint(const Button& b) {
  std::string hint;
  for (const auto& in : b.inputs) {
    hint += in.optional ? " [" + in.name + "]" : " <" + in.name + ">";
  }
  return hint;
}

void print_body(std::ostream& out, const std::string& title, const std::string& text,
                const std::vector<Field>& fields, const std::string& context) {
  if (!title.empty()) out << "   *" << title << "*\n";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    out << "   " << line << "\n";
  for (const auto& f : fields)
    out << "   " << f.label << ": " << f.value << "\n";
  if (!context.empty()) out << "   (" << context << ")\n";
}

}  // namespace

DeliveryResult ConsoleDeliverer::deliver(const OutboxEntry& e) {
  const Message& m = e.message;
  const bool update = !m.key.empty() && !seen_keys_.insert(m.key).second;
  out_ << ">> " << who(people_, m.to) << (update ? "  (replaces the earlier message)" : "") << "\n";
  print_body(out_, m.title, m.text, m.fields, m.context);
  if (!m.key.empty()) {
    // A replaced message's old buttons are gone, as they are in Slack and Teams.
    for (int n : buttons_by_message_[m.key])
      buttons_.erase(n);
    buttons_by_message_[m.key].clear();
  }
  if (!m.buttons.empty()) out_ << buttons_line(m.buttons, m.key, m.to);
  out_ << std::flush;
  return {};
}

std::string ConsoleDeliverer::buttons_line(const std::vector<Button>& buttons,
                                           const std::string& key, const Recipient& to) {
  std::string line = "  ";
  for (const auto& b : buttons) {
    const int n = next_button_++;
    buttons_[n] = Shown{b, key, to};
    if (!key.empty()) buttons_by_message_[key].insert(n);
    line += " [" + std::to_string(n) + "] " + b.label + input_hint(b);
  }
  return line + "\n";
}

void ConsoleDeliverer::print_reply(const Reply& r, const std::string& person) {
  std::istringstream lines(r.text);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    out_ << (first ? (r.error ? "  ! " : "  ↳ ") : "    ") << line << "\n";
    first = false;
  }
  for (const auto& f : r.fields)
    out_ << "    " << f.label << ": " << f.value << "\n";
  if (!r.buttons.empty()) out_ << buttons_line(r.buttons, "", Recipient::person(person));
  out_ << std::flush;
}

const ConsoleDeliverer::Shown* ConsoleDeliverer::button(int n) const {
  auto it = buttons_.find(n);
  return it == buttons_.end() ? nullptr : &it->second;
}

ConsoleChat::ConsoleChat(Router& router, const Directory& people, OutboxQueue& outbox,
                         std::ostream& out, DeliveringReplica serving)
    : router_(router),
      people_(people),
      out_(out),
      deliverer_(out, people),
      dispatcher_(outbox, deliverer_),
      serving_(std::move(serving)) {
  if (!people_.all().empty()) current_ = people_.all().front().id;
}

void ConsoleChat::switch_to(const std::string& person) {
  std::string id = person;
  if (!id.empty() && id.front() == '@') id.erase(0, 1);
  const Person* p = people_.resolve_mention(id);
  if (!p) throw UserError("No such person '" + person + "'. Try /who.");
  current_ = p->id;
}

void ConsoleChat::flush() {
  if (const auto replica = serving_ ? serving_() : std::nullopt) {
    if (*replica != announced_) {
      out_ << "auditbot serve (" << *replica
           << ") is delivering this organisation's messages: the console shows your replies "
              "here and leaves DMs and channel posts to Slack or Teams.\n";
      announced_ = *replica;
    }
    return;
  }
  announced_.clear();
  dispatcher_.drain();
}

void ConsoleChat::run(std::istream& in, bool interactive) {
  flush();
  std::string line;
  while (true) {
    if (interactive) out_ << current_ << "> " << std::flush;
    if (!std::getline(in, line)) break;
    if (!interactive) {
      if (line.empty() || line.front() == '#') continue;
      out_ << current_ << "> " << line << "\n";
    }
    if (!handle_line(line)) break;
  }
}

bool ConsoleChat::handle_line(const std::string& raw) {
  std::string line = raw;
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
    line.pop_back();
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
    line.erase(0, 1);
  if (line.empty() || line.front() == '#') return true;
  try {
    if (line == "/quit" || line == "/exit") return false;
    if (line == "/help") {
      print_help();
    } else if (line == "/who") {
      for (const auto& p : people_.all()) {
        std::string roles;
        for (Role r : p.roles)
          roles += (roles.empty() ? "" : ", ") + std::string(to_string(r));
        out_ << "   @" << p.id << "  " << p.name << (roles.empty() ? "" : "  [" + roles + "]")
             << "  " << people_.timezone_of(p) << "\n";
      }
    } else if (line.rfind("/as", 0) == 0 && (line.size() == 3 || line[3] == ' ')) {
      std::string rest = line.size() > 3 ? line.substr(4) : "";
      while (!rest.empty() && rest.front() == ' ')
        rest.erase(0, 1);
      if (rest.empty()) throw UserError("Usage: /as <person>");
      switch_to(rest);
      out_ << "   You are now " << current_ << ".\n";
    } else if (line.rfind("/press", 0) == 0 && (line.size() == 6 || line[6] == ' ')) {
      press(line.size() > 6 ? line.substr(7) : "");
    } else if (line.rfind("/track", 0) == 0 && (line.size() == 6 || line[6] == ' ')) {
      track(line.size() > 6 ? line.substr(7) : "");
    } else if (auto cmd = strip_command_prefix(line)) {
      InboundEvent e;
      e.body = CommandText{std::string(*cmd)};
      run_event(std::move(e));
    } else {
      throw UserError(
          "Type /soc2 <command>, /press <n>, /track <text>, /as <person>, /who, /help or /quit.");
    }
  } catch (const UserError& e) {
    deliverer_.print_reply(Reply::fail(e.what()), current_);
  }
  out_ << std::flush;
  return true;
}

void ConsoleChat::press(const std::string& args) {
  std::istringstream in(args);
  int n = 0;
  if (!(in >> n)) throw UserError("Usage: /press <n> [inputs...]");
  std::string rest;
  std::getline(in, rest);
  const auto* shown = deliverer_.button(n);
  if (!shown) throw UserError("There is no button [" + std::to_string(n) + "] any more.");
  std::vector<Token> tokens = tokenize(rest);
  ButtonPress press{shown->button.action_id, shown->button.value, {}, shown->message_key};
  const auto& inputs = shown->button.inputs;
  std::size_t required = 0;
  for (const auto& i : inputs)
    required += i.optional ? 0 : 1;
  if (tokens.size() < required) {
    throw UserError("[" + std::to_string(n) + "] " + shown->button.label +
                    " needs:" + input_hint(shown->button) + "  (quote text with spaces)");
  }
  std::size_t t = 0;
  for (std::size_t i = 0; i < inputs.size() && t < tokens.size(); ++i) {
    std::string value = tokens[t++].text;
    if (tokens[t - 1].kind == Token::Kind::mention) value = "@" + value;
    // The last input takes whatever is left, so unquoted notes still work.
    while (i + 1 == inputs.size() && t < tokens.size())
      value += " " + tokens[t++].text;
    press.inputs[inputs[i].name] = value;
  }
  if (inputs.empty() && !tokens.empty()) {
    throw UserError("[" + std::to_string(n) + "] " + shown->button.label + " takes no input.");
  }
  InboundEvent e;
  e.body = std::move(press);
  run_event(std::move(e));
}

// "/track [#channel] <text>": the current person posts <text> in a channel (auditor by
// default) and marks it for tracking, as an emoji reaction or message shortcut would.
void ConsoleChat::track(const std::string& args) {
  std::string rest = args;
  std::string channel = "auditor";
  if (!rest.empty() && rest.front() == '#') {
    const auto space = rest.find(' ');
    channel = rest.substr(1, space == std::string::npos ? std::string::npos : space - 1);
    rest = space == std::string::npos ? "" : rest.substr(space + 1);
  }
  while (!rest.empty() && rest.front() == ' ')
    rest.erase(0, 1);
  if (rest.empty() || channel.empty()) throw UserError("Usage: /track [#channel] <message text>");
  // The message exists only in this console: its status replies could not be threaded on
  // Slack or Teams, so while serve delivers, real messages are tracked there.
  if (const auto replica = serving_ ? serving_() : std::nullopt) {
    throw UserError("auditbot serve (" + *replica +
                    ") is delivering: track the auditor's message in Slack or Teams instead.");
  }
  TrackMessage m;
  m.text = rest;
  m.author = current_;
  m.channel = channel;
  // Unique across console runs and machines, as a platform's message id would be.
  std::random_device rd;
  std::ostringstream id;
  id << "console-" << std::hex << rd() << rd();
  m.message_id = id.str();
  InboundEvent e;
  e.platform = Platform::console;
  e.person = current_;
  e.place = Place{Place::Kind::channel, channel, ""};
  e.body = std::move(m);
  out_ << "   #" << channel << " <" << current_ << "> " << rest << "\n";
  const Reply r = router_.handle(e);
  deliverer_.print_reply(r, current_);
  flush();
}

void ConsoleChat::run_event(InboundEvent e) {
  e.platform = Platform::console;
  e.person = current_;
  e.place = Place{Place::Kind::dm, "console", ""};
  const Reply r = router_.handle(e);
  deliverer_.print_reply(r, current_);
  flush();
}

void ConsoleChat::print_help() {
  out_ << "   /as <person>        act as someone else (/who lists people)\n"
          "   /soc2 <command>     run a command as that person (/soc2 help lists them)\n"
          "   /press <n> [input]  press button [n]; quote inputs that contain spaces\n"
          "   /track [#ch] <text> post <text> in a channel (auditor) and track it as a request\n"
          "   /quit               leave\n";
}

}  // namespace auditbot
