// Policies and acknowledgments (SPEC C5): the policy library, publication campaigns that DM
// every person in the audience an acknowledge button, reminders, status and CSV export.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bot/router.hpp"
#include "handlers/services.hpp"

namespace auditbot {

struct Policy {
  std::string id;  // SEC-01 (upper-cased)
  std::string title;
  std::string version;
  std::string owner;
  std::string url;
  std::string sha256;
  std::string effective;              // YYYY-MM-DD
  std::string next_review;            // YYYY-MM-DD
  std::vector<std::string> audience;  // groups; empty = everyone
  int campaign = 0;                   // number of the current campaign; 0 = never published
  std::string due;                    // acknowledgment deadline of the current campaign
  bool material = true;               // whether the current version needed fresh acknowledgments
  std::string published_at;
  std::string published_by;
  std::string reviewed_at;
  std::string reviewed_by;
  std::string review_reminded;  // next_review date the owner was last reminded about
};

// One recorded acknowledgment (also what the CSV export lists).
struct PolicyAck {
  std::string person;
  std::string policy;
  std::string version;
  std::string sha256;
  std::string at;
  std::string platform;
  std::string message_id;
  std::string carried_from;  // earlier version it was carried forward from (minor edits)
};

class Policies {
 public:
  explicit Policies(Services& s) : s_(s) {}
  void register_with(Router& router);

  // Adds config policies the store does not know yet; returns how many were added.
  std::size_t import_from_config();
  std::optional<Policy> load(std::string_view id) const;
  std::vector<Policy> all() const;

  struct Publication {
    std::string version;
    bool material = true;
    std::string sha256;       // empty: keep the current one (only when the version is unchanged)
    std::string url;          // empty: keep
    std::optional<Date> due;  // empty: today + policies.ack_days
  };
  struct PublishResult {
    std::size_t asked = 0;    // people DMed to acknowledge
    std::size_t carried = 0;  // acknowledgments carried forward (minor)
  };
  // Starts the campaign for a version, in a few commits of at most kChunk people each.
  PublishResult publish(const std::string& actor, std::string_view policy_id, Publication pub);
  // DMs a reminder to everyone who has not acknowledged the current version; returns how many.
  std::size_t remind(std::string_view policy_id, TimePoint now);
  // A person who joined: every published policy of their audience, due in ack_days.
  std::size_t enroll(const Person& p, TimePoint now);
  // People in config who were never enrolled (added to the config file later); returns how
  // many of them were asked to acknowledge something.
  std::size_t enroll_missing(TimePoint now);
  // Reminds owners of policies whose next review is within review_notice_days (once per date).
  std::size_t remind_reviews(TimePoint now);
  // person,email,policy,version,sha256,acknowledged_at,message_id,platform,carried_from
  std::string export_acks_csv() const;
  std::vector<PolicyAck> acks(std::string_view policy_id) const;  // current, by person
  std::optional<PolicyAck> ack_of(std::string_view policy_id, std::string_view person) const;

  static constexpr std::size_t kChunk = 2500;

 private:
  Reply policies_cmd(CommandCall& call);
  Reply policy_cmd(CommandCall& call);
  Reply show(const Policy& p, const Person& actor) const;
  Reply status(const Policy& p) const;
  Reply acknowledge(ActionCall& call);
  Reply approve_review(const Policy& p, const Person& actor, Txn txn);

  Policy require(std::string_view id) const;
  std::vector<const Person*> audience(const Policy& p) const;
  bool in_audience(const Policy& p, const Person& person) const;
  void write(Txn& txn, const Policy& p) const;
  void ask(Txn& txn, const Policy& p, const Person& person, const std::string& due) const;
  Message ack_message(const Policy& p, const std::string& person, const std::string& due) const;

  std::string key(std::string_view id) const;
  std::string acks_key(std::string_view id) const;
  std::string pending_key(std::string_view id) const;

  Services& s_;
};

// "POLICY-ACK:SEC-01:bob": the open item a person has until they acknowledge.
std::string policy_ack_item(std::string_view policy_id, std::string_view person);

}  // namespace auditbot
