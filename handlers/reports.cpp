// Readiness figures are read from the item hashes every capability writes (by `kind`), so
// a capability that is absent just shows as zero instead of breaking the report.
#include "handlers/reports.hpp"

#include <limits>
#include <set>

#include "bot/log.hpp"

namespace auditbot {

namespace {

using Hash = std::map<std::string, std::string>;

std::string get(const Hash& h, const std::string& k) {
  auto it = h.find(k);
  return it == h.end() ? std::string() : it->second;
}

// Statuses after which an item needs nothing more from anyone.
bool is_closed(const std::string& status) {
  static const std::set<std::string> closed{
      "closed",    "resolved",  "verified",  "accepted",      "done",        "cancelled",
      "withdrawn", "fulfilled", "delivered", "risk_accepted", "acknowledged"};
  return closed.count(status) > 0;
}

// "CC6.1" -> "CC", "A1.2" -> "A", "PI1.1" -> "PI".
std::string category_of(const std::string& criterion) {
  std::string c;
  for (char ch : criterion) {
    if (!std::isalpha(static_cast<unsigned char>(ch))) break;
    c += ch;
  }
  return c;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

Readiness Reports::readiness(TimePoint now) const {
  Readiness r;
  auto& st = s_.store;
  const Date today = BusinessCalendar::local_date(now, s_.config.org_timezone);
  auto items_of = [&](const std::string& kind) {
    const auto ids = st.zrange_by_score(st.keys().items_of_kind(kind), -kInf, kInf, 1'000'000);
    std::vector<std::string> keys;
    for (const auto& id : ids)
      keys.push_back(st.keys().item(id));
    std::vector<Hash> out;
    for (auto& h : st.hgetall_many(keys)) {
      if (h) out.push_back(std::move(*h));
    }
    return out;
  };

  // Controls with accepted evidence (evidence records or accepted asks).
  std::set<std::string> evidenced;
  const auto stale_before = std::chrono::sys_days(today) - std::chrono::days(92);
  for (const auto& h : items_of("evidence")) {
    const std::string status = get(h, "status");
    if (status == "stale" || status == "expired") ++r.stale_evidence;
    if (status != "accepted") continue;
    evidenced.insert(get(h, "control"));
    if (auto end = parse_date(get(h, "period_end"));
        end && std::chrono::sys_days(*end) < stale_before) {
      ++r.stale_evidence;
    }
  }
  for (const auto& h : items_of("ask")) {
    if (get(h, "status") == "accepted") evidenced.insert(get(h, "control"));
  }
  std::vector<std::string> control_keys;
  for (const auto& id : st.smembers(st.keys().controls()))
    control_keys.push_back(st.keys().control(id));
  for (const auto& h : st.hgetall_many(control_keys)) {
    if (!h) continue;
    std::set<std::string> cats;
    for (const auto& crit : split(get(*h, "criteria"), ','))
      cats.insert(category_of(crit));
    for (const auto& c : cats) {
      auto& cat = r.categories[c];
      ++cat.controls;
      if (evidenced.count(get(*h, "id"))) ++cat.with_evidence;
    }
  }
  for (const auto& h : items_of("gap")) {
    if (!is_closed(get(h, "status"))) ++r.open_gaps[get(h, "severity")];
  }
  for (const char* kind : {"req", "request"}) {
    for (const auto& h : items_of(kind)) {
      if (!is_closed(get(h, "status"))) ++r.open_requests;
    }
  }
  for (const char* kind : {"policy_ack", "policy"}) {
    for (const auto& h : items_of(kind)) {
      if (get(h, "kind") != "policy_ack" && kind == std::string("policy")) continue;
      ++r.acks_total;
      if (get(h, "status") == "acknowledged") ++r.acks_done;
    }
  }
  if (auto w = parse_date(s_.config.reports.audit_window_start)) {
    r.days_to_window =
        static_cast<int>((std::chrono::sys_days(*w) - std::chrono::sys_days(today)).count());
  }
  return r;
}

Message Reports::readiness_message(const Readiness& r, const std::string& title) const {
  Message m;
  m.to = Recipient::channel("compliance");
  m.title = title;
  std::string evidence;
  for (const auto& [cat, c] : r.categories) {
    const int pct = c.controls ? c.with_evidence * 100 / c.controls : 0;
    evidence += (evidence.empty() ? "" : ", ") + cat + " " + std::to_string(pct) + "% (" +
                std::to_string(c.with_evidence) + "/" + std::to_string(c.controls) + ")";
  }
  m.fields.push_back({"Evidence by TSC category", evidence.empty() ? "no controls" : evidence});
  m.fields.push_back({"Stale evidence", std::to_string(r.stale_evidence)});
  std::string gaps;
  int total = 0;
  for (const auto& [sev, n] : r.open_gaps) {
    total += n;
    gaps += (gaps.empty() ? "" : ", ") + (sev.empty() ? std::string("unrated") : sev) + " " +
            std::to_string(n);
  }
  m.fields.push_back({"Open gaps", total ? std::to_string(total) + " (" + gaps + ")" : "0"});
  m.fields.push_back({"Open auditor requests", std::to_string(r.open_requests)});
  m.fields.push_back(
      {"Policy acknowledgments", r.acks_total ? std::to_string(r.acks_done * 100 / r.acks_total) +
                                                    "% (" + std::to_string(r.acks_done) + "/" +
                                                    std::to_string(r.acks_total) + ")"
                                              : "none requested"});
  m.fields.push_back({"Days to the audit window",
                      r.days_to_window ? std::to_string(*r.days_to_window) : "not planned"});
  return m;
}

void Reports::register_with(Router& router) {
  router.add(CommandSpec{
      "status", "/soc2 status", "Readiness for the audit, in figures", [this](CommandCall& c) {
        c.args.expect_end();
        const Message m = readiness_message(readiness(s_.clock.now()), "Audit readiness");
        Reply reply = Reply::ok(m.title);
        reply.fields = m.fields;
        return reply;
      }});
}

void Reports::register_jobs(Scheduler& scheduler) {
  scheduler.register_kind("readiness",
                          [this](const Job& j, TimePoint now) { post_readiness(j, now); });
  scheduler.register_kind("digest", [this](const Job& j, TimePoint now) { post_digest(j, now); });
}

TimePoint Reports::next_digest(TimePoint now) const {
  const auto& tz = s_.config.org_timezone;
  Date d = BusinessCalendar::local_date(now, tz);
  for (int i = 0; i < 8; ++i, d = s_.calendar.add_days(d, 1)) {
    const unsigned wd = std::chrono::weekday(std::chrono::sys_days(d)).iso_encoding();
    if (static_cast<int>(wd) != s_.config.reports.digest_weekday) continue;
    const TimePoint at = BusinessCalendar::local_time(d, s_.config.reports.digest_hour * 60, tz);
    if (at > now) return at;
  }
  return now + std::chrono::hours(24 * 7);
}

void Reports::ensure_jobs(TimePoint now) {
  // if_idle: a digest running right now reschedules itself.
  jobs_.schedule("digest:weekly", next_digest(now), true, true);
  const auto window = parse_date(s_.config.reports.audit_window_start);
  if (!window) return;
  const auto& tz = s_.config.org_timezone;
  for (int days : s_.config.reports.readiness_days_before) {
    const Date on = s_.calendar.add_days(*window, -days);
    const TimePoint at = BusinessCalendar::local_time(on, s_.calendar.hours().start_minute, tz);
    if (BusinessCalendar::local_date(now, tz) > on) continue;  // that day has passed
    jobs_.schedule("readiness:" + s_.config.reports.audit_window_start + ":" + std::to_string(days),
                   at, true, true);
  }
}

void Reports::post_readiness(const Job& job, TimePoint now) {
  const auto colon = job.arg.rfind(':');
  const std::string days = job.arg.substr(colon + 1);
  Message m = readiness_message(readiness(now), "Audit readiness: " + days + " days to the window");
  m.key = "report:readiness:" + job.arg;
  Txn txn;
  // Once each, even when jobs are re-created after a restart.
  txn.claim_once(s_.store.keys().key("sent:" + m.key), std::chrono::hours(24 * 400));
  txn.send(m);
  txn.audit("system", "report.readiness_posted", "", {{"days_before", days}});
  s_.store.commit(txn);
}

void Reports::post_digest(const Job& job, TimePoint now) {
  const Date today = BusinessCalendar::local_date(now, s_.config.org_timezone);
  Message m = readiness_message(readiness(now), "Weekly SOC 2 digest, " + format_date(today));
  m.key = "report:digest:" + format_date(today);
  Txn txn;
  txn.claim_once(s_.store.keys().key("sent:" + m.key), std::chrono::hours(24 * 14));
  txn.send(m);
  txn.audit("system", "report.digest_posted", "", {{"day", format_date(today)}});
  s_.store.commit(txn);
  jobs_.schedule(job.id, next_digest(now + std::chrono::minutes(1)), false);
}

}  // namespace auditbot
