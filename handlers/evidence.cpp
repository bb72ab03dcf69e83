#include "handlers/evidence.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>

#include "bot/errors.hpp"
#include "bot/text.hpp"
#include "handlers/csv.hpp"
#include "handlers/items.hpp"
#include "handlers/tsc.hpp"

namespace auditbot {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

Date first_of(std::chrono::year y, unsigned m) {
  return Date{y, std::chrono::month{m}, std::chrono::day{1}};
}

Date last_of(std::chrono::year y, unsigned m) {
  return Date{
      std::chrono::year_month_day_last{y, std::chrono::month_day_last{std::chrono::month{m}}}};
}

Date add_days(Date d, int n) {
  return Date{sys_days(d) + days(n)};
}

Date add_months(Date d, int n) {
  auto ym = std::chrono::year_month{d.year(), d.month()} + std::chrono::months{n};
  auto last = std::chrono::year_month_day_last{ym.year(), std::chrono::month_day_last{ym.month()}};
  return Date{ym.year(), ym.month(), std::min(d.day(), last.day())};
}

int months_of(std::string_view cadence) {
  if (cadence == "monthly" || cadence == "continuous") return 1;
  if (cadence == "quarterly") return 3;
  if (cadence == "annual") return 12;
  return 0;
}

std::optional<int> number(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string two(unsigned v) {
  return (v < 10 ? "0" : "") + std::to_string(v);
}

std::string label_for(std::string_view cadence, Date start) {
  const int y = static_cast<int>(start.year());
  const unsigned m = static_cast<unsigned>(start.month());
  if (cadence == "quarterly") return std::to_string(y) + "-Q" + std::to_string((m - 1) / 3 + 1);
  if (cadence == "annual") return std::to_string(y);
  return std::to_string(y) + "-" + two(m);
}

bool overlaps(const Period& a, Date start, Date end) {
  return sys_days(a.start) <= sys_days(end) && sys_days(start) <= sys_days(a.end);
}

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < len; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

bool same(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string json_error(const std::string& why) {
  return nlohmann::json{{"error", why}}.dump();
}

int age_days(const std::string& iso, TimePoint now) {
  auto t = parse_iso8601(iso);
  if (!t) return 0;
  return static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(now - *t).count() / 24);
}

}  // namespace

std::optional<Period> parse_period(std::string_view text) {
  std::string t(text);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back())))
    t.pop_back();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front())))
    t.erase(0, 1);
  if (auto dots = t.find(".."); dots != std::string::npos) {
    auto a = parse_date(t.substr(0, dots));
    auto b = parse_date(t.substr(dots + 2));
    if (!a || !b || sys_days(*b) < sys_days(*a)) return std::nullopt;
    return Period{*a, *b, t};
  }
  if (auto d = parse_date(t)) return Period{*d, *d, t};
  if (t.size() == 4) {
    auto y = number(t);
    if (!y || *y < 1970 || *y > 9999) return std::nullopt;
    return Period{first_of(std::chrono::year{*y}, 1), last_of(std::chrono::year{*y}, 12), t};
  }
  if (t.size() == 7 && t[4] == '-') {
    auto y = number(std::string_view(t).substr(0, 4));
    if (!y || *y < 1970) return std::nullopt;
    std::chrono::year yy{*y};
    if (t[5] == 'Q' || t[5] == 'q') {
      auto q = number(std::string_view(t).substr(6));
      if (!q || *q < 1 || *q > 4) return std::nullopt;
      unsigned m = static_cast<unsigned>(*q) * 3;
      return Period{first_of(yy, m - 2), last_of(yy, m), std::to_string(*y) + "-Q" + t.substr(6)};
    }
    auto m = number(std::string_view(t).substr(5));
    if (!m || *m < 1 || *m > 12) return std::nullopt;
    return Period{first_of(yy, static_cast<unsigned>(*m)), last_of(yy, static_cast<unsigned>(*m)),
                  t};
  }
  return std::nullopt;
}

std::vector<Period> cadence_periods(std::string_view cadence, Date from, Date to) {
  std::vector<Period> out;
  if (sys_days(to) < sys_days(from)) return out;
  const int step = months_of(cadence);
  if (step == 0) {
    out.push_back({from, to, "the observation window"});
    return out;
  }
  unsigned m = static_cast<unsigned>(from.month());
  if (step == 3) m = (m - 1) / 3 * 3 + 1;
  if (step == 12) m = 1;
  Date start = first_of(from.year(), m);
  while (sys_days(start) <= sys_days(to)) {
    const Date next = add_months(start, step);
    out.push_back({start, add_days(next, -1), label_for(cadence, start)});
    start = next;
  }
  return out;
}

std::optional<Date> expiry_for(std::string_view cadence, Date covered_end) {
  const int step = months_of(cadence);
  if (step == 0) return std::nullopt;
  return add_days(add_months(add_days(covered_end, 1), step), -1);
}

bool counts_for(const EvidenceRecord& r, const ControlRequirementConfig& req) {
  return r.artifact.empty() || lower(r.artifact) == lower(req.artifact);
}

std::string evidence_to_csv(const std::vector<EvidenceRecord>& records) {
  std::string out = csv::line({"id", "control", "artifact", "period", "period_start", "period_end",
                               "link", "note", "uploaded_at", "uploaded_by", "status", "source"});
  for (const auto& r : records) {
    out += csv::line({r.id, r.control, r.artifact, r.period, r.period_start, r.period_end, r.link,
                      r.note, r.uploaded_at, r.uploaded_by, r.status, r.source});
  }
  return out;
}

// ---- ledger -----------------------------------------------------------------------------

std::string EvidenceLedger::add(Txn& txn, EvidenceRecord& r) {
  r.id = "EV-" + std::to_string(s_.store.next_number("ev"));
  const auto& k = s_.store.keys();
  txn.expect_absent(k.item(r.id), r.id + " already exists.");
  txn.hset(k.item(r.id), {{"kind", "evidence"},
                          {"id", r.id},
                          {"control", r.control},
                          {"artifact", r.artifact},
                          {"link", r.link},
                          {"note", r.note},
                          {"period", r.period},
                          {"period_start", r.period_start},
                          {"period_end", r.period_end},
                          {"uploaded_at", r.uploaded_at},
                          {"uploaded_by", r.uploaded_by},
                          {"status", r.status},
                          {"source", r.source}});
  txn.zadd(k.key("evidence:control:" + r.control), items::due_score(r.period_end), r.id);
  txn.zadd(k.items_of_kind("evidence"), static_cast<double>(unix_millis(s_.clock.now())), r.id);
  return r.id;
}

std::string EvidenceLedger::add_from_ask(Txn& txn, const EvidenceAsk& a) {
  EvidenceRecord r;
  r.control = a.control;
  r.link = a.link;
  r.note = a.note;
  auto p = parse_period(a.period);
  if (!p) {
    // No usable period on the ask: it covers the day it was submitted.
    const std::string day = a.submitted_at.substr(0, 10);
    p = parse_period(day);
  }
  if (p) {
    r.period = p->label;
    r.period_start = format_date(p->start);
    r.period_end = format_date(p->end);
  }
  r.uploaded_at = a.submitted_at;
  r.uploaded_by = a.submitted_by;
  r.status = "accepted";
  r.source = a.id;
  return add(txn, r);
}

std::optional<EvidenceRecord> EvidenceLedger::load(std::string_view id) const {
  auto h = s_.store.hgetall(s_.store.keys().item(id));
  if (!h || (*h)["kind"] != "evidence") return std::nullopt;
  auto& m = *h;
  return EvidenceRecord{m["id"],          m["control"],     m["artifact"],     m["link"],
                        m["note"],        m["period"],      m["period_start"], m["period_end"],
                        m["uploaded_at"], m["uploaded_by"], m["status"],       m["source"]};
}

std::vector<EvidenceRecord> EvidenceLedger::for_control(std::string_view control) const {
  auto ids = s_.store.zrange_by_score(
      s_.store.keys().key("evidence:control:" + std::string(control)), -1e300, 1e300, 100000);
  std::vector<EvidenceRecord> out;
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    if (auto r = load(*it)) out.push_back(std::move(*r));
  }
  return out;
}

std::optional<EvidenceRecord> EvidenceLedger::latest_accepted(
    const Control& c, const ControlRequirementConfig& req) const {
  for (auto& r : for_control(c.id)) {
    if (r.status == "accepted" && counts_for(r, req)) return r;
  }
  return std::nullopt;
}

std::vector<EvidenceRecord> EvidenceLedger::all() const {
  auto ids =
      s_.store.zrange_by_score(s_.store.keys().items_of_kind("evidence"), -1e300, 1e300, 10000000);
  std::vector<EvidenceRecord> out;
  for (const auto& id : ids) {
    if (auto r = load(id)) out.push_back(std::move(*r));
  }
  return out;
}

std::vector<std::string> coverage_gaps(EvidenceLedger& ledger, const std::vector<Control>& controls,
                                       const Config& config, Date today) {
  std::vector<std::string> out;
  auto from = parse_date(config.observation_start);
  auto to = parse_date(config.observation_end);
  if (!from || !to) return out;
  for (const auto& c : controls) {
    if (c.status == "retired") continue;
    const auto records = ledger.for_control(c.id);
    for (const auto& req : c.requirements) {
      for (const auto& p : cadence_periods(req.cadence, *from, *to)) {
        // A period still running is not missing yet.
        if (sys_days(p.end) >= sys_days(today)) continue;
        const bool covered = std::any_of(records.begin(), records.end(), [&](const auto& r) {
          auto rp = parse_period(r.period_start + ".." + r.period_end);
          return r.status == "accepted" && counts_for(r, req) && rp &&
                 overlaps(*rp, p.start, p.end);
        });
        if (!covered) {
          out.push_back(c.id + " " + req.cadence + " " + req.artifact + ": no evidence for " +
                        p.label);
        }
      }
    }
  }
  return out;
}

// ---- freshness ----------------------------------------------------------------------------

std::vector<std::string> EvidenceFreshness::run_pass(TimePoint now) {
  std::vector<std::string> created;
  const Date today = BusinessCalendar::local_date(now, s_.config.org_timezone);
  EvidenceLedger ledger(s_);
  for (const auto& c : ControlCatalog(s_).all()) {
    if (c.status == "retired" || c.owner.empty() || !s_.people.find(c.owner)) continue;
    for (const auto& req : c.requirements) {
      auto latest = ledger.latest_accepted(c, req);
      if (!latest) continue;
      auto end = parse_date(latest->period_end);
      if (!end) continue;
      auto expiry = expiry_for(req.cadence, *end);
      if (!expiry) continue;
      if (sys_days(today) < sys_days(*expiry) - days(s_.config.evidence_refresh_lead_days))
        continue;
      const auto next = cadence_periods(req.cadence, add_days(*end, 1), add_days(*end, 1));
      const std::string period = next.empty() ? "" : next.front().label;
      Date due = *expiry;
      if (sys_days(due) < sys_days(today))
        due = s_.calendar.add_business_days(today, s_.config.evidence_default_sla_business_days);
      Txn txn;
      // Once per requirement and expiry, whichever replica gets there first.
      txn.claim_once(
          s_.store.keys().key("freshness:" + c.id + ":" + sha256_hex(req.artifact).substr(0, 16) +
                              ":" + format_date(*expiry)),
          std::chrono::hours(24 * 800));
      const std::string what = req.artifact + (period.empty() ? "" : " for " + period) +
                               " (current evidence expires " + format_date(*expiry) + ")";
      auto id = asks_.create_automatic(std::move(txn), c, what, due, period);
      if (!id.empty()) created.push_back(id);
    }
  }
  return created;
}

// ---- commands ------------------------------------------------------------------------------

void ControlMatrix::register_with(Router& router) {
  router.add(CommandSpec{"controls", "/soc2 controls [category|@owner|stale]",
                         "List the control matrix, by category, owner or stale evidence",
                         [this](CommandCall& c) { return controls(c); }});
  router.add(CommandSpec{"control", "/soc2 control <id>",
                         "One control: owner, criteria, evidence requirements and latest evidence",
                         [this](CommandCall& c) { return control(c); }});
  router.add(CommandSpec{"scope", "/soc2 scope",
                         "Categories, systems and sub-service organisations in scope",
                         [this](CommandCall& c) { return scope(c); }});
  router.add(CommandSpec{"coverage", "/soc2 coverage [control]",
                         "Type II coverage: cadence periods of the window without evidence",
                         [this](CommandCall& c) { return coverage(c); }});
  router.add(ActionSpec{"evidence.accept", [this](ActionCall& c) { return decide(c, true); }});
  router.add(ActionSpec{"evidence.reject", [this](ActionCall& c) { return decide(c, false); }});
}

bool ControlMatrix::is_stale(const Control& c, Date today) const {
  if (c.status == "retired") return false;
  for (const auto& req : c.requirements) {
    auto latest = ledger_.latest_accepted(c, req);
    if (!latest) return true;
    auto end = parse_date(latest->period_end);
    auto expiry = end ? expiry_for(req.cadence, *end) : std::nullopt;
    if (end && expiry && sys_days(*expiry) < sys_days(today)) return true;
  }
  return false;
}

Reply ControlMatrix::controls(CommandCall& call) {
  std::string filter_category, filter_owner;
  bool stale = false;
  if (!call.args.done()) {
    const Token* t = call.args.peek();
    if (t->kind == Token::Kind::mention) {
      filter_owner = require_person(s_.people, call.args.mention("@owner")).id;
    } else {
      std::string w = call.args.word("a category, @owner or stale");
      if (w == "stale") {
        stale = true;
      } else {
        if (w == "pi" || w == "processing-integrity") w = "processing_integrity";
        const auto& cats = tsc::categories();
        if (std::find(cats.begin(), cats.end(), w) == cats.end()) {
          throw SyntaxError("unknown filter '" + w +
                            "' (expected security, availability, processing_integrity, "
                            "confidentiality, privacy, @owner or stale)");
        }
        filter_category = w;
      }
    }
  }
  call.args.expect_end();
  const Date today = s_.today_for(call.actor);
  std::string text;
  std::size_t n = 0;
  for (const auto& c : catalog_.all()) {
    if (!filter_owner.empty() && c.owner != filter_owner) continue;
    if (!filter_category.empty()) {
      bool any = false;
      for (const auto& crit : c.criteria) {
        auto* k = tsc::find(crit);
        any = any || (k && k->category == filter_category);
      }
      if (!any) continue;
    }
    if (stale && !is_stale(c, today)) continue;
    std::string criteria;
    for (const auto& crit : c.criteria)
      criteria += (criteria.empty() ? "" : " ") + crit;
    text += "\n" + c.id + " · " + c.title + " · " + (c.owner.empty() ? "no owner" : "@" + c.owner) +
            " · " + criteria + " · " + c.status;
    ++n;
  }
  std::string head = std::to_string(n) + (n == 1 ? " control" : " controls");
  if (stale) head += " with missing or stale evidence";
  if (!filter_owner.empty()) head += " owned by @" + filter_owner;
  if (!filter_category.empty()) head += " in " + std::string(tsc::category_name(filter_category));
  return Reply::ok(head + (n == 0 ? "." : ":") + text);
}

Reply ControlMatrix::control(CommandCall& call) {
  const std::string id = call.args.control("a control id such as AC-01");
  call.args.expect_end();
  const Control c = catalog_.resolve(id);
  Reply r = Reply::ok(c.id + " · " + c.title + " · " + c.status);
  const Person* owner = s_.people.find(c.owner);
  r.fields.push_back({"Owner", owner ? display(*owner) : (c.owner.empty() ? "nobody" : c.owner)});
  std::string criteria;
  for (const auto& crit : c.criteria) {
    auto* k = tsc::find(crit);
    criteria += (criteria.empty() ? "" : "; ") + crit + (k ? " " + std::string(k->title) : "");
  }
  r.fields.push_back({"Criteria", criteria.empty() ? "none mapped" : criteria});
  const Date today = s_.today_for(call.actor);
  for (const auto& req : c.requirements) {
    std::string v = req.cadence + ": " + req.artifact + " — ";
    if (auto latest = ledger_.latest_accepted(c, req)) {
      v += "latest " + latest->id + " for " + latest->period + ", uploaded " +
           latest->uploaded_at.substr(0, 10) + " (" +
           std::to_string(age_days(latest->uploaded_at, s_.clock.now())) + " days old)";
      auto end = parse_date(latest->period_end);
      if (auto exp = end ? expiry_for(req.cadence, *end) : std::nullopt) {
        v += sys_days(*exp) < sys_days(today) ? ", stale since " : ", fresh until ";
        v += format_date(*exp);
      }
      v += " " + latest->link;
    } else {
      v += "no accepted evidence yet";
    }
    r.fields.push_back({"Evidence", v});
  }
  if (!c.test_procedure.empty()) r.fields.push_back({"Test procedure", c.test_procedure});
  return r;
}

Reply ControlMatrix::scope(CommandCall& call) {
  call.args.expect_end();
  const auto& cfg = s_.config;
  std::string in, out;
  for (auto cat : tsc::categories()) {
    std::string& dst = cfg.scope_categories.count(std::string(cat)) ? in : out;
    dst += (dst.empty() ? "" : ", ") + std::string(tsc::category_name(cat));
  }
  Reply r = Reply::ok("Scope of the " + cfg.org_name + " SOC 2 examination");
  r.fields.push_back({"Categories in scope", in});
  if (!out.empty()) r.fields.push_back({"Not in scope", out});
  for (const auto& sys : cfg.scope_systems) {
    r.fields.push_back(
        {"System", sys.name + (sys.description.empty() ? "" : " — " + sys.description)});
  }
  for (const auto& org : cfg.scope_subservice_orgs) {
    std::string v = org.name + (org.services.empty() ? "" : " (" + org.services + ")") + ", " +
                    org.method + " method";
    if (!org.complementary_controls.empty()) {
      v += "; complementary controls relied on:";
      for (const auto& cc : org.complementary_controls)
        v += " " + cc + ";";
      v.pop_back();
    }
    r.fields.push_back({"Sub-service organisation", v});
  }
  if (!cfg.observation_start.empty()) {
    r.fields.push_back(
        {"Observation window", cfg.observation_start + " to " + cfg.observation_end});
  }
  return r;
}

Reply ControlMatrix::coverage(CommandCall& call) {
  std::vector<Control> controls;
  if (!call.args.done()) {
    controls.push_back(catalog_.resolve(call.args.control("a control id such as AC-01")));
  } else {
    controls = catalog_.all();
  }
  call.args.expect_end();
  if (s_.config.observation_start.empty()) {
    return Reply::fail("No observation window is configured (observation_window.start/end).");
  }
  const auto gaps = coverage_gaps(ledger_, controls, s_.config, s_.today_for(call.actor));
  const std::string window = s_.config.observation_start + " to " + s_.config.observation_end;
  if (gaps.empty()) {
    return Reply::ok("Coverage " + window + ": every period that has ended has accepted evidence.");
  }
  std::string text = "Coverage " + window + ": " + std::to_string(gaps.size()) +
                     (gaps.size() == 1 ? " period" : " periods") + " without accepted evidence:";
  for (const auto& g : gaps)
    text += "\n" + g;
  return Reply::ok(text);
}

Message ControlMatrix::review_message(const EvidenceRecord& r, const std::string& to) const {
  Message m;
  m.to = Recipient::person(to);
  m.key = "evidence:" + r.id + ":review:" + to;
  m.title = "Evidence to review: " + r.id;
  m.text = r.control + (r.artifact.empty() ? "" : " — " + r.artifact);
  m.fields.push_back({"Link", r.link});
  m.fields.push_back({"Period covered", r.period});
  if (!r.note.empty()) m.fields.push_back({"Note", r.note});
  m.fields.push_back({"From", r.uploaded_by});
  if (r.status == "in_review") {
    m.buttons.push_back({"evidence.accept", "Accept", r.id, {}, Button::Style::primary});
    m.buttons.push_back({"evidence.reject",
                         "Reject",
                         r.id,
                         {{"reason", "Why it is rejected", Input::Kind::text, false}},
                         Button::Style::danger});
  } else {
    m.context = "Evidence " + r.status + ".";
  }
  return m;
}

Reply ControlMatrix::decide(ActionCall& call, bool accept) {
  require_role(call.actor, {Role::liaison, Role::admin}, "review evidence");
  auto r = ledger_.load(call.press.value);
  if (!r) throw NotFound("There is no evidence " + call.press.value + ".");
  if (r->status != "in_review") throw Conflict(r->id + " is already " + r->status + ".");
  std::string reason;
  if (auto it = call.press.inputs.find("reason"); it != call.press.inputs.end())
    reason = it->second;
  if (!accept && reason.empty()) throw UserError("Say why the evidence is rejected.");
  r->status = accept ? "accepted" : "rejected";
  Txn txn = s_.txn_for(call.event);
  txn.expect_field(s_.store.keys().item(r->id), "status", "in_review",
                   r->id + " was already reviewed.");
  txn.hset(s_.store.keys().item(r->id), {{"status", r->status},
                                         {"decided_by", call.actor.id},
                                         {"decided_at", format_iso8601(s_.clock.now())},
                                         {"reject_reason", reason}});
  txn.audit(call.actor.id, accept ? "evidence.accepted" : "evidence.rejected", r->id,
            {{"control", r->control}, {"reason", reason}});
  for (const Person* p : s_.people.with_role(Role::liaison))
    txn.send(review_message(*r, p->id));
  const auto res = s_.store.commit(txn);
  if (!res.ok()) return Reply::fail(res.reason.empty() ? "That was already recorded." : res.reason);
  return Reply::ok((accept ? "Accepted " : "Rejected ") + r->id + " for " + r->control + ".");
}

std::pair<int, std::string> ControlMatrix::handle_hook(const std::string& hook_id,
                                                       const std::string& timestamp,
                                                       const std::string& signature,
                                                       const std::string& body) {
  const EvidenceHookConfig* hook = nullptr;
  for (const auto& h : s_.config.evidence_hooks) {
    if (same(h.id, hook_id)) hook = &h;
  }
  if (!hook) return {401, json_error("unknown hook")};
  long long ts = 0;
  auto [p, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || p != timestamp.data() + timestamp.size() || timestamp.empty()) {
    return {401, json_error("missing or malformed X-Auditbot-Timestamp")};
  }
  const long long now = unix_seconds(s_.clock.now());
  if (ts < now - 300 || ts > now + 300) {
    return {401, json_error("timestamp outside the 300 s window")};
  }
  const std::string expected = "v1=" + hmac_hex(hook->secret, "v1:" + timestamp + ":" + body);
  if (!same(expected, signature)) return {401, json_error("bad signature")};

  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {
    return {400, json_error("the body is not JSON")};
  }
  if (!j.is_object()) return {400, json_error("the body must be a JSON object")};
  auto str = [&](const char* k) -> std::optional<std::string> {
    if (!j.contains(k)) return std::string();
    if (!j[k].is_string()) return std::nullopt;
    return j[k].get<std::string>();
  };
  for (const auto& [k, v] : j.items()) {
    static const std::set<std::string> kKeys{"control", "link", "period", "note", "artifact"};
    if (!kKeys.count(k)) return {400, json_error("unknown field '" + k + "'")};
    if (!v.is_string()) return {400, json_error("field '" + k + "' must be a string")};
  }
  const std::string control_id = *str("control"), link = *str("link"), period = *str("period"),
                    note = *str("note"), artifact = *str("artifact");
  if (control_id.empty()) return {400, json_error("missing field 'control'")};
  if (!looks_like_url(link)) return {400, json_error("field 'link' must be an http(s) URL")};
  auto covered = parse_period(period);
  if (!covered)
    return {400, json_error("field 'period' must be like 2026-Q3, 2026-07, 2026 or A..B")};
  if (note.size() > 2000) return {400, json_error("field 'note' is over 2000 characters")};
  auto c = ControlCatalog(s_).find(control_id);
  if (!c) return {422, json_error("unknown control '" + control_id + "'")};
  if (!artifact.empty()) {
    bool known = std::any_of(c->requirements.begin(), c->requirements.end(),
                             [&](const auto& r) { return lower(r.artifact) == lower(artifact); });
    if (!known)
      return {422, json_error("control " + c->id + " has no requirement '" + artifact + "'")};
  }

  EvidenceRecord r;
  r.control = c->id;
  r.artifact = artifact;
  r.link = link;
  r.note = note;
  r.period = covered->label;
  r.period_start = format_date(covered->start);
  r.period_end = format_date(covered->end);
  r.uploaded_at = format_iso8601(s_.clock.now());
  r.uploaded_by = "hook:" + hook->id;
  r.status = s_.config.evidence_hook_status;
  r.source = "hook:" + hook->id;
  Txn txn;
  // A replayed request (same signature inside the window) records nothing new.
  txn.claim_once(s_.store.keys().key("hook-seen:" + sha256_hex(signature)),
                 std::chrono::seconds(900));
  ledger_.add(txn, r);
  txn.audit("hook:" + hook->id, "evidence.pushed", r.id,
            {{"control", r.control}, {"period", r.period}, {"link", r.link}, {"status", r.status}});
  if (r.status == "in_review") {
    for (const Person* l : s_.people.with_role(Role::liaison))
      txn.send(review_message(r, l->id));
  }
  const auto res = s_.store.commit(txn);
  if (res.status == CommitResult::Status::duplicate) {
    return {200, nlohmann::json{{"status", "duplicate"}}.dump()};
  }
  if (!res.ok()) return {409, json_error(res.reason)};
  return {201, nlohmann::json{{"id", r.id}, {"status", r.status}, {"period", r.period}}.dump()};
}

HttpRoute ControlMatrix::evidence_hook_route() {
  namespace http = boost::beast::http;
  return {http::verb::post, "/hooks/evidence", 64 << 10, [this](const HttpRequest& req) {
            auto header = [&](const char* name) { return std::string(req[name]); };
            auto [status, body] =
                handle_hook(header("X-Auditbot-Hook"), header("X-Auditbot-Timestamp"),
                            header("X-Auditbot-Signature"), req.body());
            return json_response(req, static_cast<http::status>(status), body);
          }};
}

std::vector<std::string> EvidenceLedger::import_json(std::string_view text,
                                                     const std::string& actor) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw ImportError("the body is not JSON");
  if (!j.is_array()) throw ImportError("the body must be a JSON array of evidence records");
  if (j.empty()) throw ImportError("the array holds no evidence records");
  ControlCatalog catalog(s_);
  std::vector<EvidenceRecord> records;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    auto bad = [&](const std::string& field, const std::string& problem) {
      throw ImportError("record " + std::to_string(i + 1) + ", field " + field + ": " + problem);
    };
    if (!e.is_object()) bad("-", "not a JSON object");
    static const std::set<std::string> kKeys{"control", "link",     "period",
                                             "note",    "artifact", "status"};
    for (const auto& [k, v] : e.items()) {
      if (!kKeys.count(k)) bad(k, "unknown field");
      if (!v.is_string()) bad(k, "must be a string");
    }
    auto get = [&](const char* k) { return e.contains(k) ? e[k].get<std::string>() : ""; };
    EvidenceRecord r;
    const auto c = catalog.find(get("control"));
    if (get("control").empty()) bad("control", "missing");
    if (!c) bad("control", "unknown control '" + get("control") + "'");
    r.control = c->id;
    r.link = get("link");
    if (!looks_like_url(r.link)) bad("link", "must be an http(s) URL");
    const auto covered = parse_period(get("period"));
    if (!covered) bad("period", "must be like 2026-Q3, 2026-07, 2026 or A..B");
    r.period = covered->label;
    r.period_start = format_date(covered->start);
    r.period_end = format_date(covered->end);
    r.note = get("note");
    if (r.note.size() > 2000) bad("note", "over 2000 characters");
    r.artifact = get("artifact");
    if (!r.artifact.empty() &&
        std::none_of(c->requirements.begin(), c->requirements.end(),
                     [&](const auto& q) { return lower(q.artifact) == lower(r.artifact); })) {
      bad("artifact", "control " + c->id + " has no requirement '" + r.artifact + "'");
    }
    r.status = get("status").empty() ? "accepted" : get("status");
    if (r.status != "accepted" && r.status != "in_review")
      bad("status", "must be accepted or in_review");
    r.uploaded_at = format_iso8601(s_.clock.now());
    r.uploaded_by = actor;
    r.source = "import";
    records.push_back(std::move(r));
  }
  Txn txn;
  std::vector<std::string> ids;
  for (auto& r : records)
    ids.push_back(add(txn, r));
  txn.audit(actor, "evidence.imported", "", {{"ids", ids}});
  const auto res = s_.store.commit(txn);
  if (!res.ok()) throw Conflict("The evidence changed meanwhile; nothing was imported.");
  return ids;
}

}  // namespace auditbot
