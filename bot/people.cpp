// The people directory: lookups by id, email and platform ids, and mention resolution.
#include "bot/people.hpp"

#include <algorithm>
#include <mutex>

#include "bot/text.hpp"

namespace auditbot {

// Indexes hold positions, not pointers, so a copied Directory stays correct.
Directory::Directory(std::vector<Person> people, std::string org_timezone)
    : people_(std::move(people)), org_timezone_(std::move(org_timezone)) {
  for (std::size_t i = 0; i < people_.size(); ++i) {
    const auto& p = people_[i];
    // emplace keeps the first person on a clash; config validation rejects clashes anyway.
    if (!p.id.empty()) {
      by_id_.emplace(lower(p.id), i);
    }
    if (!p.email.empty()) {
      by_email_.emplace(lower(p.email), i);
    }
    if (!p.slack_id.empty()) {
      by_slack_id_.emplace(p.slack_id, i);
    }
    if (!p.teams_id.empty()) {
      // AAD object ids are GUIDs: letter case carries no meaning.
      by_teams_id_.emplace(lower(p.teams_id), i);
    }
  }
}

namespace {

const Person* lookup(const std::vector<Person>& people,
                     const std::unordered_map<std::string, std::size_t>& index,
                     const std::string& key) {
  if (key.empty()) {
    return nullptr;
  }
  auto it = index.find(key);
  return it == index.end() ? nullptr : &people[it->second];
}

}  // namespace

const Person* Directory::find(std::string_view id) const {
  return lookup(people_, by_id_, lower(trim(id)));
}

const Person* Directory::find_by_email(std::string_view email) const {
  return lookup(people_, by_email_, lower(trim(email)));
}

const Person* Directory::find_by_slack_id(std::string_view slack_id) const {
  return lookup(people_, by_slack_id_, trim(slack_id));
}

const Person* Directory::find_by_teams_id(std::string_view teams_id) const {
  return lookup(people_, by_teams_id_, lower(trim(teams_id)));
}

const Person* Directory::resolve_mention(std::string_view raw) const {
  const std::string trimmed = trim(raw);
  std::string_view mention = trimmed;
  if (!mention.empty() && mention.front() == '@') {
    mention.remove_prefix(1);
  }
  if (mention.find('@') != std::string_view::npos) {
    return find_by_email(mention);
  }
  return find(mention);
}

std::vector<const Person*> Directory::with_role(Role r) const {
  std::vector<const Person*> out;
  for (const auto& p : people_) {
    if (has_role(p, r)) {
      out.push_back(&p);
    }
  }
  return out;
}

std::string Directory::timezone_of(const Person& p) const {
  if (!p.timezone.empty()) return p.timezone;
  std::shared_lock lock(learned_->mu);
  auto it = learned_->zones.find(p.id);
  return it == learned_->zones.end() ? org_timezone_ : it->second;
}

void Directory::set_learned_timezones(std::unordered_map<std::string, std::string> zones) {
  std::unique_lock lock(learned_->mu);
  learned_->zones = std::move(zones);
}

}  // namespace auditbot
