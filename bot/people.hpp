// The people the bot knows (from config), their roles, time zones and managers, and how
// mentions in any platform's spelling resolve to them.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"

namespace auditbot {

using Person = PersonConfig;

class Directory {
 public:
  explicit Directory(std::vector<Person> people, std::string org_timezone = "UTC");

  const Person* find(std::string_view id) const;
  const Person* find_by_email(std::string_view email) const;  // case-insensitive
  const Person* find_by_slack_id(std::string_view slack_id) const;
  const Person* find_by_teams_id(std::string_view teams_id) const;
  // "@alice", "alice", "alice@example.com" (case-insensitive). Platform spellings such as
  // <@U123> are normalised by the integration before they reach here.
  const Person* resolve_mention(std::string_view mention) const;
  std::vector<const Person*> with_role(Role r) const;
  const std::vector<Person>& all() const { return people_; }
  // The person's IANA zone: from the config, else the one a platform reported for them
  // (learned), else the organisation's.
  std::string timezone_of(const Person& p) const;
  // Replaces the learned zones (person id -> IANA zone), e.g. after reading them from Redis.
  void set_learned_timezones(std::unordered_map<std::string, std::string> zones);

  static bool has_role(const Person& p, Role r) { return p.roles.count(r) > 0; }

 private:
  using Index = std::unordered_map<std::string, std::size_t>;  // key -> position in people_

  std::vector<Person> people_;
  std::string org_timezone_;
  Index by_id_, by_email_, by_slack_id_, by_teams_id_;  // ids and emails lower-cased
  struct Learned {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, std::string> zones;
  };
  std::shared_ptr<Learned> learned_ = std::make_shared<Learned>();  // shared by copies
};

}  // namespace auditbot
