// Slack people resolution with a 24 h Redis cache in both directions.
#include "integrations/slack/people.hpp"

#include "bot/log.hpp"

namespace auditbot::slack {

namespace {
constexpr const char* kCacheTtl = "86400";
}

const Person* SlackPeople::person_for(const std::string& user_id) {
  if (user_id.empty()) return nullptr;
  if (const Person* p = people_.find_by_slack_id(user_id)) return p;
  const std::string key = store_.keys().key("slack:user:" + user_id);
  try {
    auto cached = store_.client().command({"GET", key});
    if (auto v = cached.as_optional_string()) return people_.find(*v);
  } catch (const std::exception& e) {
    log::warn("slack.people.cache", {{"detail", e.what()}});
  }
  if (!api_) return nullptr;
  try {
    const auto user = api_->user_info(user_id);
    const std::string email = user.value("profile", nlohmann::json::object()).value("email", "");
    const Person* p = email.empty() ? nullptr : people_.find_by_email(email);
    if (p) {
      store_.client().command({"SET", key, p->id, "EX", kCacheTtl});
      remember_timezone(*p, user);
    }
    return p;
  } catch (const std::exception& e) {
    log::warn("slack.people.lookup", {{"user", user_id}, {"detail", e.what()}});
    return nullptr;
  }
}

std::string SlackPeople::user_id_for(const Person& p) {
  if (!p.slack_id.empty()) return p.slack_id;
  const std::string key = store_.keys().key("slack:person:" + p.id);
  auto cached = store_.client().command({"GET", key});
  if (auto v = cached.as_optional_string()) return *v;
  if (!api_ || p.email.empty()) return "";
  const std::string id = api_->lookup_by_email(p.email);
  if (!id.empty()) store_.client().command({"SET", key, id, "EX", kCacheTtl});
  return id;
}

bool SlackPeople::remember_timezone(const Person& p, const nlohmann::json& user) {
  const auto it = user.find("tz");
  if (it == user.end() || !it->is_string()) return false;
  const bool changed = store_.remember_timezone(p.id, it->get<std::string>());
  if (changed) log::info("slack.people.zone", {{"person", p.id}, {"tz", it->get<std::string>()}});
  return changed;
}

std::size_t SlackPeople::sync_timezones(const std::atomic<bool>& stop) {
  if (!api_) return 0;
  std::size_t changed = 0;
  for (const Person& p : people_.all()) {
    if (stop.load()) break;
    if (!p.timezone.empty()) continue;
    try {
      const std::string id = user_id_for(p);
      if (id.empty()) continue;
      if (remember_timezone(p, api_->user_info(id))) ++changed;
    } catch (const std::exception& e) {
      log::warn("slack.people.zone_lookup", {{"person", p.id}, {"detail", e.what()}});
    }
  }
  return changed;
}

std::string SlackPeople::normalise(const std::string& text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("<@", pos);
    if (open == std::string::npos) break;
    const auto close = text.find('>', open);
    if (close == std::string::npos) break;
    out.append(text, pos, open - pos);
    std::string inner = text.substr(open + 2, close - open - 2);
    const std::string id = inner.substr(0, inner.find('|'));
    const Person* p = person_for(id);
    out += "@" + (p ? p->id : id);
    pos = close + 1;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace auditbot::slack
