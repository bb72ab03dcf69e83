#include "handlers/mine.hpp"

#include <limits>

namespace auditbot {

void MyItems::register_with(Router& router) {
  router.add(CommandSpec{"mine", "/soc2 mine", "Your open items and their due dates",
                         [this](CommandCall& c) {
                           c.args.expect_end();
                           return list(c.actor);
                         }});
}

Reply MyItems::list(const Person& p) const {
  const auto ids = s_.store.zrange_by_score(s_.store.keys().person_items(p.id),
                                            -std::numeric_limits<double>::infinity(),
                                            std::numeric_limits<double>::infinity());
  if (ids.empty()) return Reply::ok("You have no open items. 🎉");
  std::vector<std::string> keys;
  for (const auto& id : ids)
    keys.push_back(s_.store.keys().item(id));
  const auto items = s_.store.hgetall_many(keys);
  const Date today = s_.today_for(p);
  std::string text = "Your open items (" + std::to_string(ids.size()) + "):";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!items[i]) continue;
    auto item = *items[i];
    std::string line = "\n• " + ids[i] + " · " + item["summary"] + " · due " + item["due"];
    if (auto due = parse_date(item["due"])) {
      const auto days = (std::chrono::sys_days(*due) - std::chrono::sys_days(today)).count();
      if (days < 0) {
        line += " (overdue by " + std::to_string(-days) + (days == -1 ? " day)" : " days)");
      } else if (days == 0) {
        line += " (today)";
      }
    }
    if (item["status"] == "in_review" && item["reviewer"] == p.id && item["owner"] != p.id) {
      line += " · waiting for your review";
    } else if (item["status"] == "in_review") {
      line += " · in review";
    }
    text += line;
  }
  return Reply::ok(text);
}

}  // namespace auditbot
