// The console chat: type as any person (`/as alice`), run `/soc2 ...` commands, press
// numbered buttons (`/press 2 <inputs>`) and see every message the bot sends to anyone.
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "bot/outbox.hpp"
#include "bot/people.hpp"
#include "bot/router.hpp"

namespace auditbot {

// Prints outbox messages as they would arrive, numbering their buttons for /press.
class ConsoleDeliverer final : public Deliverer {
 public:
  ConsoleDeliverer(std::ostream& out, const Directory& people) : out_(out), people_(people) {}
  DeliveryResult deliver(const OutboxEntry& e) override;

  struct Shown {
    Button button;
    std::string message_key;
    Recipient to;
  };
  // The button shown as [n], or nullptr when it never existed or its message was replaced.
  const Shown* button(int n) const;
  // Numbers the buttons of a reply to the person typing (they are live like any other).
  void print_reply(const Reply& r, const std::string& person);

 private:
  std::string buttons_line(const std::vector<Button>& buttons, const std::string& key,
                           const Recipient& to);
  std::ostream& out_;
  const Directory& people_;
  int next_button_ = 1;
  std::map<int, Shown> buttons_;
  std::map<std::string, std::set<int>> buttons_by_message_;
  std::set<std::string> seen_keys_;
};

class ConsoleChat {
 public:
  // The `auditbot serve` replica delivering this organisation's messages now, if any. While
  // one does, the console leaves DMs and channel posts on the queue for Slack or Teams.
  using DeliveringReplica = std::function<std::optional<std::string>()>;

  ConsoleChat(Router& router, const Directory& people, OutboxQueue& outbox, std::ostream& out,
              DeliveringReplica serving = {});

  // Reads lines until end of input or /quit. `interactive` shows a prompt; otherwise each
  // line is echoed after the prompt so a piped script reads as a transcript.
  void run(std::istream& in, bool interactive);
  // One line; returns false for /quit.
  bool handle_line(const std::string& line);
  void switch_to(const std::string& person);  // throws UserError for unknown people
  const std::string& current() const { return current_; }
  // Prints everything queued for delivery now, unless a serve replica delivers it.
  void flush();

 private:
  void press(const std::string& args);
  void track(const std::string& args);
  void run_event(InboundEvent e);
  void print_help();

  Router& router_;
  const Directory& people_;
  std::ostream& out_;
  ConsoleDeliverer deliverer_;
  OutboxDispatcher dispatcher_;
  std::string current_;
  DeliveringReplica serving_;
  std::string announced_;  // the replica last announced as delivering
  std::uint64_t event_counter_ = 0;
};

}  // namespace auditbot
