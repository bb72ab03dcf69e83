#include "handlers/findings.hpp"

#include <algorithm>
#include <chrono>

#include "bot/errors.hpp"
#include "bot/text.hpp"
#include "handlers/items.hpp"
#include "handlers/tsc.hpp"

namespace auditbot {
namespace {

constexpr std::string_view kUsage =
    "/soc2 finding add \"<auditor's wording>\" [ref \"<their id>\"] [control <id>...] "
    "[request REQ-n...]  |  /soc2 finding list [open|all]  |  /soc2 finding export  |  "
    "/soc2 finding F-n [accurate|inaccurate \"why\"|mitigating \"factors\"|respond|approve|"
    "return \"why\"|gap <severity> [owner @p] [\"title\"]|export]";
constexpr std::size_t kMaxText = 4000;
constexpr std::size_t kMaxField = 2000;

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : sep) + s;
  return out;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + " ") {
    if (c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

std::string status_label(const Finding& f) {
  if (f.status == "open" && !f.returned_reason.empty()) return "response sent back for changes";
  if (f.status == "open" && f.accuracy.empty()) return "waiting for the factual-accuracy review";
  if (f.status == "open") return "waiting for the management response";
  if (f.status == "response_in_review") return "management response waiting for approval";
  if (f.status == "approved") return "management response approved";
  return f.status;
}

std::string accuracy_label(const Finding& f) {
  if (f.accuracy == "accurate") return "accurate";
  if (f.accuracy == "inaccurate") return "inaccurate: " + f.accuracy_note;
  if (f.accuracy == "mitigating") return "accurate, with mitigating factors: " + f.accuracy_note;
  return "not reviewed yet";
}

// Button values: "F-3/7" (the finding and the version or draft number the form was drawn for).
std::pair<std::string, int> parse_value(const std::string& v) {
  auto slash = v.find('/');
  if (slash == std::string::npos) return {v, -1};
  try {
    return {v.substr(0, slash), std::stoi(v.substr(slash + 1))};
  } catch (const std::exception&) {
    throw UserError("That button is damaged; use /soc2 finding list to find the finding.");
  }
}

std::string input(const ButtonPress& b, const std::string& name) {
  auto it = b.inputs.find(name);
  return it == b.inputs.end() ? std::string() : trim(it->second);
}

std::string who(const Directory& people, const std::string& id) {
  const Person* p = people.find(id);
  return p ? display(*p) : id;
}

}  // namespace

void Findings::register_with(Router& router) {
  router.add(CommandSpec{"finding", std::string(kUsage),
                         "Auditor findings: accuracy review, management response, approval",
                         [this](CommandCall& c) { return finding(c); }});
  router.add(ActionSpec{"finding.review", [this](ActionCall& c) {
                          auto [id, v] = parse_value(c.press.value);
                          return review(c.event, c.actor, require(id), v, input(c.press, "verdict"),
                                        input(c.press, "note"));
                        }});
  router.add(ActionSpec{"finding.respond", [this](ActionCall& c) {
                          auto [id, v] = parse_value(c.press.value);
                          return draft(c.event, c.actor, require(id), v,
                                       input(c.press, "root_cause"), input(c.press, "plan"),
                                       input(c.press, "target"), input(c.press, "owner"));
                        }});
  router.add(ActionSpec{"finding.approve", [this](ActionCall& c) {
                          auto [id, d] = parse_value(c.press.value);
                          return decide(c.event, c.actor, require(id), d, true, "");
                        }});
  router.add(ActionSpec{"finding.return", [this](ActionCall& c) {
                          auto [id, d] = parse_value(c.press.value);
                          return decide(c.event, c.actor, require(id), d, false,
                                        input(c.press, "reason"));
                        }});
  router.add(ActionSpec{"finding.gap", [this](ActionCall& c) {
                          auto [id, v] = parse_value(c.press.value);
                          return open_gap(c.event, c.actor, require(id), v,
                                          input(c.press, "severity"), input(c.press, "owner"),
                                          input(c.press, "title"));
                        }});
}

std::optional<Finding> Findings::load(std::string_view id) const {
  auto h = s_.store.hgetall(s_.store.keys().item(id));
  if (!h || (*h)["kind"] != "finding") return std::nullopt;
  auto& m = *h;
  auto num = [&](const char* k) { return m[k].empty() ? 0 : std::stoi(m[k]); };
  Finding f;
  f.id = m["id"];
  f.status = m["status"];
  f.auditor_ref = m["auditor_ref"];
  f.wording = m["wording"];
  f.controls = split_words(m["controls"]);
  f.requests = split_words(m["requests"]);
  f.recorded_by = m["recorded_by"];
  f.recorded_at = m["recorded_at"];
  f.due = m["due"];
  f.version = num("version");
  f.accuracy = m["accuracy"];
  f.accuracy_note = m["accuracy_note"];
  f.reviewed_by = m["reviewed_by"];
  f.reviewed_at = m["reviewed_at"];
  f.drafts = num("drafts");
  f.root_cause = m["root_cause"];
  f.plan = m["plan"];
  f.target = m["target"];
  f.response_owner = m["response_owner"];
  f.drafted_by = m["drafted_by"];
  f.drafted_at = m["drafted_at"];
  f.returned_reason = m["returned_reason"];
  f.approved_by = m["approved_by"];
  f.approved_at = m["approved_at"];
  f.gaps = split_words(m["gaps"]);
  return f;
}

std::vector<Finding> Findings::all() const {
  std::vector<Finding> out;
  const auto ids =
      s_.store.zrange_by_score(s_.store.keys().items_of_kind("finding"), -1e300, 1e300, 1'000'000);
  for (const auto& id : ids) {
    if (auto f = load(id)) out.push_back(std::move(*f));
  }
  return out;
}

Finding Findings::require(std::string_view id) const {
  auto f = load(id);
  if (!f) throw NotFound("There is no finding " + std::string(id) + ".");
  return *f;
}

void Findings::write(Txn& txn, const Finding& f) const {
  txn.hset(s_.store.keys().item(f.id), {{"kind", "finding"},
                                        {"id", f.id},
                                        {"status", f.status},
                                        {"auditor_ref", f.auditor_ref},
                                        {"wording", f.wording},
                                        {"summary", f.wording.substr(0, 120)},
                                        {"controls", join(f.controls, " ")},
                                        {"requests", join(f.requests, " ")},
                                        {"recorded_by", f.recorded_by},
                                        {"recorded_at", f.recorded_at},
                                        {"owner", f.recorded_by},
                                        {"due", f.due},
                                        {"version", std::to_string(f.version)},
                                        {"accuracy", f.accuracy},
                                        {"accuracy_note", f.accuracy_note},
                                        {"reviewed_by", f.reviewed_by},
                                        {"reviewed_at", f.reviewed_at},
                                        {"drafts", std::to_string(f.drafts)},
                                        {"root_cause", f.root_cause},
                                        {"plan", f.plan},
                                        {"target", f.target},
                                        {"response_owner", f.response_owner},
                                        {"drafted_by", f.drafted_by},
                                        {"drafted_at", f.drafted_at},
                                        {"returned_reason", f.returned_reason},
                                        {"approved_by", f.approved_by},
                                        {"approved_at", f.approved_at},
                                        {"gaps", join(f.gaps, " ")}});
}

// A press on a form drawn for an older version of the finding changes nothing.
void Findings::guard(Txn& txn, const Finding& f, int version) const {
  txn.expect_field(s_.store.keys().item(f.id), "version", std::to_string(version),
                   f.id + " changed since that form was shown; nothing was recorded.");
}

std::vector<std::string> Findings::liaisons_for(const Finding& f) const {
  std::vector<std::string> out;
  if (s_.people.find(f.recorded_by)) out.push_back(f.recorded_by);
  for (const Person* p : s_.people.with_role(Role::liaison)) {
    if (std::find(out.begin(), out.end(), p->id) == out.end()) out.push_back(p->id);
  }
  return out;
}

std::vector<std::string> Findings::approvers_for(const Finding& f) const {
  std::vector<std::string> out;
  for (const Person* p : s_.people.with_role(Role::approver)) {
    if (p->id != f.drafted_by) out.push_back(p->id);
  }
  return out;
}

Button Findings::response_form(const Finding& f) const {
  return Button{"finding.respond",
                f.drafts == 0 ? "Draft management response" : "Revise management response",
                f.id + "/" + std::to_string(f.version),
                {{"root_cause", "Root cause", Input::Kind::multiline, false},
                 {"plan", "Remediation plan", Input::Kind::multiline, false},
                 {"target", "Target date", Input::Kind::date, false},
                 {"owner", "Owner of the remediation", Input::Kind::person, false}},
                Button::Style::primary};
}

Message Findings::liaison_message(const Finding& f, const std::string& to) const {
  Message m;
  m.to = Recipient::person(to);
  m.key = "finding:" + f.id + ":liaison:" + to;
  m.title = "Finding " + f.id + (f.auditor_ref.empty() ? "" : " (" + f.auditor_ref + ")");
  m.text = f.wording;
  if (!f.controls.empty()) m.fields.push_back({"Controls", join(f.controls, ", ")});
  if (!f.requests.empty()) m.fields.push_back({"Requests", join(f.requests, ", ")});
  m.fields.push_back({"Factual accuracy", accuracy_label(f)});
  if (f.drafts > 0) {
    m.fields.push_back({"Root cause", f.root_cause});
    m.fields.push_back({"Remediation plan", f.plan});
    m.fields.push_back({"Target date", f.target});
    m.fields.push_back({"Owner", who(s_.people, f.response_owner)});
  }
  if (!f.gaps.empty()) m.fields.push_back({"Gaps", join(f.gaps, ", ")});
  m.fields.push_back({"Status", status_label(f)});
  if (f.status == "open" && !f.returned_reason.empty()) {
    m.context = "Sent back: " + f.returned_reason;
  } else if (f.status == "response_in_review") {
    m.context = "Waiting for an approver.";
  } else if (f.status == "approved") {
    m.context =
        "Approved by " + who(s_.people, f.approved_by) + " on " + f.approved_at.substr(0, 10) + ".";
  }
  const std::string value = f.id + "/" + std::to_string(f.version);
  if (f.status == "open") {
    m.buttons.push_back(
        {"finding.review",
         "Factual accuracy",
         value,
         {{"verdict", "accurate, inaccurate or mitigating", Input::Kind::text, false},
          {"note", "Why inaccurate / the mitigating factors", Input::Kind::multiline, true}},
         Button::Style::normal});
    m.buttons.push_back(response_form(f));
  }
  m.buttons.push_back({"finding.gap",
                       "Open a gap",
                       value,
                       {{"severity", "critical, significant or minor", Input::Kind::text, false},
                        {"owner", "Gap owner", Input::Kind::person, true},
                        {"title", "What the gap is", Input::Kind::text, true}},
                       Button::Style::normal});
  return m;
}

Message Findings::approval_message(const Finding& f, const std::string& to) const {
  Message m;
  m.to = Recipient::person(to);
  m.key = "finding:" + f.id + ":approve:" + to + ":" + std::to_string(f.drafts);
  m.title = "Management response to approve: " + f.id;
  m.text = f.wording;
  m.fields.push_back({"Factual accuracy", accuracy_label(f)});
  m.fields.push_back({"Root cause", f.root_cause});
  m.fields.push_back({"Remediation plan", f.plan});
  m.fields.push_back({"Target date", f.target});
  m.fields.push_back({"Owner", who(s_.people, f.response_owner)});
  m.fields.push_back({"Drafted by", who(s_.people, f.drafted_by)});
  const std::string value = f.id + "/" + std::to_string(f.drafts);
  if (f.status == "response_in_review") {
    m.buttons.push_back({"finding.approve", "Approve", value, {}, Button::Style::primary});
    m.buttons.push_back({"finding.return",
                         "Send back",
                         value,
                         {{"reason", "What must change", Input::Kind::text, false}},
                         Button::Style::danger});
  } else if (f.status == "approved") {
    m.context = "Approved by " + who(s_.people, f.approved_by) + ".";
  } else {
    m.context = "Sent back: " + f.returned_reason;
  }
  return m;
}

Reply Findings::finish(const CommitResult& r, Reply on_success) const {
  switch (r.status) {
    case CommitResult::Status::committed:
      return on_success;
    case CommitResult::Status::duplicate:
      return Reply::ok("That was already recorded; nothing changed.");
    case CommitResult::Status::conflict:
      return Reply::fail(r.reason);
  }
  return on_success;
}

Reply Findings::finding(CommandCall& call) {
  auto& args = call.args;
  if (const Token* t = args.peek(); t && t->kind == Token::Kind::item_id) {
    Finding f = require(args.item_id("a finding id"));
    if (args.done()) return show(f, call.actor);
    const std::string verb = args.word("what to do with the finding");
    const int v = f.version;
    if (verb == "accurate") {
      args.expect_end();
      return review(call.event, call.actor, f, v, "accurate", "");
    }
    if (verb == "inaccurate" || verb == "mitigating") {
      const std::string note = args.done() ? "" : args.text("the reason, in quotes");
      args.expect_end();
      return review(call.event, call.actor, f, v, verb, note);
    }
    if (verb == "respond") {
      args.expect_end();
      require_role(call.actor, {Role::liaison, Role::admin}, "draft management responses");
      if (f.status != "open")
        throw Conflict(f.id + " is " + status_label(f) + "; the response can't be changed now.");
      Reply r = Reply::ok("Fill in the management response for " + f.id + ".");
      r.buttons.push_back(response_form(f));
      return r;
    }
    if (verb == "approve") {
      args.expect_end();
      return decide(call.event, call.actor, f, f.drafts, true, "");
    }
    if (verb == "return") {
      const std::string why = args.done() ? "" : args.text("what must change, in quotes");
      args.expect_end();
      return decide(call.event, call.actor, f, f.drafts, false, why);
    }
    if (verb == "gap") {
      const std::string severity = args.word("a severity: critical, significant or minor");
      std::string owner, title;
      while (!args.done()) {
        if (args.keyword("owner")) {
          owner = args.mention("the gap owner as @person");
        } else {
          title = args.text("what the gap is, in quotes");
        }
      }
      return open_gap(call.event, call.actor, f, v, severity, owner, title);
    }
    if (verb == "export") {
      args.expect_end();
      require_role(call.actor, {Role::liaison, Role::admin, Role::approver}, "export findings");
      return Reply::ok(export_block(f));
    }
    throw SyntaxError("unknown finding action '" + verb + "'");
  }
  const std::string sub = args.word("add, list, export or a finding id");
  if (sub == "add") return add(call);
  if (sub == "list") return list(call);
  if (sub == "export") {
    args.expect_end();
    require_role(call.actor, {Role::liaison, Role::admin, Role::approver}, "export findings");
    const std::string text = export_text();
    return Reply::ok(text.empty() ? "No findings recorded." : text);
  }
  throw SyntaxError("unknown finding command '" + sub + "'");
}

Reply Findings::add(CommandCall& call) {
  require_role(call.actor, {Role::liaison, Role::admin}, "record findings");
  auto& args = call.args;
  Finding f;
  f.wording = trim(args.text("the auditor's wording, in quotes"));
  while (!args.done()) {
    if (args.keyword("ref")) {
      f.auditor_ref = trim(args.text("the auditor's id for the finding"));
    } else if (args.keyword("control") || args.keyword("controls")) {
      f.controls.push_back(args.control("a control id or criterion such as AC-01 or CC6.1"));
      while (const Token* t = args.peek()) {
        if (t->kind != Token::Kind::control) break;
        f.controls.push_back(args.control(""));
      }
    } else if (args.keyword("request") || args.keyword("requests")) {
      f.requests.push_back(args.item_id("a request id such as REQ-3"));
      while (const Token* t = args.peek()) {
        if (t->kind != Token::Kind::item_id) break;
        f.requests.push_back(args.item_id(""));
      }
    } else {
      throw SyntaxError("unexpected '" + args.next("").text +
                        "' (expected ref, control or request)");
    }
  }
  if (f.wording.empty()) throw SyntaxError("give the auditor's wording, in quotes");
  if (f.wording.size() > kMaxText)
    throw UserError("The finding text is too long (over 4000 characters).");
  if (f.auditor_ref.size() > 100) throw UserError("The auditor's id is too long.");
  for (auto& c : f.controls) {
    if (auto found = controls_.find(c)) {
      c = found->id;
    } else if (!tsc::find(c)) {
      throw NotFound("There is no control or TSC criterion " + c + ".");
    }
  }
  for (const auto& r : f.requests) {
    auto h = s_.store.hgetall(s_.store.keys().item(r));
    if (!h || (*h)["kind"] != "request") throw NotFound("There is no request " + r + ".");
  }
  auto dedupe = [](std::vector<std::string>& v) {
    std::vector<std::string> out;
    for (auto& s : v)
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    v = std::move(out);
  };
  dedupe(f.controls);
  dedupe(f.requests);
  const Date today = s_.today_for(call.actor);
  const Date due = s_.calendar.add_business_days(today, s_.config.request_sla_business_days);
  f.status = "open";
  f.recorded_by = call.actor.id;
  f.recorded_at = format_iso8601(s_.clock.now());
  f.due = format_date(due);
  f.version = 1;
  f.id = "F-" + std::to_string(s_.store.next_number("finding"));

  const auto& k = s_.store.keys();
  Txn txn = s_.txn_for(call.event);
  txn.expect_absent(k.item(f.id), f.id + " already exists.");
  write(txn, f);
  txn.zadd(k.items_of_kind("finding"), static_cast<double>(unix_millis(s_.clock.now())), f.id);
  items::assign(txn, k, f.id, f.recorded_by, due);
  items::set_due(txn, k, f.id, due);
  txn.audit(call.actor.id, "finding.recorded", f.id,
            {{"wording", f.wording},
             {"auditor_ref", f.auditor_ref},
             {"controls", f.controls},
             {"requests", f.requests},
             {"due", f.due}});
  txn.send(liaison_message(f, f.recorded_by));
  return finish(s_.store.commit(txn), Reply::ok("Recorded " + f.id +
                                                ". Next: the factual-accuracy review, then the "
                                                "management response (due " +
                                                f.due + ")."));
}

Reply Findings::list(CommandCall& call) const {
  if (!has_any_role(call.actor, {Role::liaison, Role::admin, Role::approver}))
    throw Forbidden("Only a liaison, approver or admin can list findings.");
  std::string filter = "open";
  if (!call.args.done()) filter = call.args.word("open or all");
  call.args.expect_end();
  if (filter != "open" && filter != "all")
    throw SyntaxError("unknown filter '" + filter + "' (expected open or all)");
  std::string text;
  std::size_t n = 0;
  for (const auto& f : all()) {
    if (filter == "open" && f.status == "approved") continue;
    text += "\n" + f.id + (f.auditor_ref.empty() ? "" : " (" + f.auditor_ref + ")") + " · " +
            status_label(f) + " · " + f.wording.substr(0, 80);
    ++n;
  }
  return Reply::ok(std::to_string(n) + " finding(s) (" + filter + ")" + (n ? ":" : ".") + text);
}

Reply Findings::show(const Finding& f, const Person& actor) const {
  const bool internal = has_any_role(actor, {Role::liaison, Role::admin, Role::approver}) ||
                        actor.id == f.response_owner;
  const bool auditor = has_any_role(actor, {Role::auditor});
  if (!internal && !auditor)
    throw Forbidden("Only a liaison, an approver or the response owner can see " + f.id + ".");
  Reply r = Reply::ok(f.id + (f.auditor_ref.empty() ? "" : " (" + f.auditor_ref + ")") + " · " +
                      status_label(f) + "\n" + f.wording);
  if (!f.controls.empty()) r.fields.push_back({"Controls", join(f.controls, ", ")});
  if (!internal) {
    // The auditor sees the wording, the status and, once approved, the response itself.
    if (f.status == "approved") {
      r.fields.push_back({"Management response", f.root_cause + "\n" + f.plan});
      r.fields.push_back({"Target date", f.target});
    }
    return r;
  }
  if (!f.requests.empty()) r.fields.push_back({"Requests", join(f.requests, ", ")});
  r.fields.push_back({"Factual accuracy", accuracy_label(f)});
  if (f.drafts > 0) {
    r.fields.push_back({"Root cause", f.root_cause});
    r.fields.push_back({"Remediation plan", f.plan});
    r.fields.push_back({"Target date", f.target});
    r.fields.push_back({"Owner", who(s_.people, f.response_owner)});
  }
  if (!f.returned_reason.empty() && f.status == "open")
    r.fields.push_back({"Sent back because", f.returned_reason});
  if (!f.gaps.empty()) r.fields.push_back({"Gaps", join(f.gaps, ", ")});
  if (f.status == "open") r.fields.push_back({"Response due", f.due});
  return r;
}

Reply Findings::review(const InboundEvent& e, const Person& actor, Finding f, int version,
                       const std::string& verdict_in, const std::string& note) {
  require_role(actor, {Role::liaison, Role::admin}, "record the factual-accuracy review");
  if (f.status != "open") {
    throw Conflict(f.id + " is " + status_label(f) + "; its accuracy review is settled.");
  }
  std::string verdict;
  for (char c : verdict_in)
    verdict += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (verdict != "accurate" && verdict != "inaccurate" && verdict != "mitigating") {
    throw UserError("The verdict must be accurate, inaccurate or mitigating, not '" + verdict_in +
                    "'.");
  }
  if (verdict == "inaccurate" && note.empty())
    throw UserError("Say why the finding is inaccurate; the auditor will ask.");
  if (verdict == "mitigating" && note.empty()) throw UserError("Name the mitigating factors.");
  if (note.size() > kMaxField) throw UserError("The note is too long (over 2000 characters).");
  const std::string before = f.accuracy;
  f.accuracy = verdict;
  f.accuracy_note = verdict == "accurate" ? "" : note;
  f.reviewed_by = actor.id;
  f.reviewed_at = format_iso8601(s_.clock.now());
  f.version += 1;

  const auto& k = s_.store.keys();
  Txn txn = s_.txn_for(e);
  guard(txn, f, version);
  txn.expect_field(k.item(f.id), "status", "open", f.id + " changed meanwhile.");
  write(txn, f);
  txn.rpush(k.item_history(f.id), nlohmann::json{{"kind", "accuracy"},
                                                 {"by", actor.id},
                                                 {"at", f.reviewed_at},
                                                 {"verdict", verdict},
                                                 {"note", f.accuracy_note}}
                                      .dump());
  txn.audit(actor.id, "finding.reviewed", f.id,
            {{"accuracy", verdict}, {"note", f.accuracy_note}, {"before", before}});
  for (const auto& l : liaisons_for(f))
    txn.send(liaison_message(f, l));
  return finish(s_.store.commit(txn), Reply::ok("Recorded the factual-accuracy review of " + f.id +
                                                ": " + accuracy_label(f) + "."));
}

Reply Findings::draft(const InboundEvent& e, const Person& actor, Finding f, int version,
                      const std::string& root_cause, const std::string& plan,
                      const std::string& target_text, const std::string& owner_text) {
  require_role(actor, {Role::liaison, Role::admin}, "draft management responses");
  if (f.status != "open") {
    throw Conflict(f.id + " is " + status_label(f) + "; the response can't be changed now.");
  }
  if (f.accuracy.empty()) {
    throw UserError("Record the factual-accuracy review of " + f.id +
                    " first (accurate, inaccurate or mitigating).");
  }
  if (root_cause.empty()) throw UserError("Say what the root cause is.");
  if (plan.empty()) throw UserError("Say what the remediation plan is.");
  if (root_cause.size() > kMaxField || plan.size() > kMaxField)
    throw UserError("The text is too long (over 2000 characters).");
  const Date today = s_.today_for(actor);
  Args dargs(tokenize(target_text));
  const Date target =
      dargs.date("a target date like 2027-01-15, +30d or +20bd", today, s_.calendar);
  dargs.expect_end();
  if (std::chrono::sys_days(target) < std::chrono::sys_days(today))
    throw UserError("The target date " + format_date(target) + " is in the past.");
  std::string owner = owner_text;
  if (!owner.empty() && owner.front() == '@') owner.erase(0, 1);
  if (owner.empty()) throw UserError("Say who owns the remediation (for example @bob).");
  const Person& o = require_person(s_.people, owner);
  const auto approvers = [&] {
    Finding probe = f;
    probe.drafted_by = actor.id;
    return approvers_for(probe);
  }();
  if (approvers.empty()) {
    throw UserError("Nobody else has the approver role, so nobody can approve this response.");
  }

  f.root_cause = root_cause;
  f.plan = plan;
  f.target = format_date(target);
  f.response_owner = o.id;
  f.drafted_by = actor.id;
  f.drafted_at = format_iso8601(s_.clock.now());
  f.drafts += 1;
  f.returned_reason.clear();
  f.status = "response_in_review";
  f.version += 1;

  const auto& k = s_.store.keys();
  Txn txn = s_.txn_for(e);
  guard(txn, f, version);
  txn.expect_field(k.item(f.id), "status", "open", f.id + " changed meanwhile.");
  write(txn, f);
  txn.rpush(k.item_history(f.id), nlohmann::json{{"kind", "draft"},
                                                 {"draft", f.drafts},
                                                 {"by", actor.id},
                                                 {"at", f.drafted_at},
                                                 {"root_cause", f.root_cause},
                                                 {"plan", f.plan},
                                                 {"target", f.target},
                                                 {"owner", f.response_owner}}
                                      .dump());
  const Date due = *parse_date(f.due);
  for (const auto& a : approvers) {
    items::assign(txn, k, f.id, a, due);
    txn.send(approval_message(f, a));
  }
  txn.audit(actor.id, "finding.response_drafted", f.id,
            {{"draft", f.drafts},
             {"root_cause", f.root_cause},
             {"plan", f.plan},
             {"target", f.target},
             {"owner", f.response_owner}});
  for (const auto& l : liaisons_for(f))
    txn.send(liaison_message(f, l));
  std::string names;
  for (const auto& a : approvers)
    names += (names.empty() ? "" : ", ") + who(s_.people, a);
  return finish(s_.store.commit(txn), Reply::ok("Sent the management response for " + f.id +
                                                " to " + names + " for approval."));
}

Reply Findings::decide(const InboundEvent& e, const Person& actor, Finding f, int draft_no,
                       bool approve, const std::string& reason) {
  require_role(actor, {Role::approver}, "approve management responses");
  if (f.status != "response_in_review" || draft_no != f.drafts) {
    throw Conflict("This approval is out of date: " + f.id + " is " + status_label(f) + ".");
  }
  if (actor.id == f.drafted_by)
    throw Forbidden("You drafted this response, so another approver has to decide on it.");
  if (!approve && reason.empty()) throw UserError("Say what must change; the liaison sees it.");
  if (reason.size() > kMaxField) throw UserError("The reason is too long (over 2000 characters).");
  const auto approvers = approvers_for(f);
  const std::string now = format_iso8601(s_.clock.now());
  if (approve) {
    f.status = "approved";
    f.approved_by = actor.id;
    f.approved_at = now;
  } else {
    f.status = "open";
    f.returned_reason = reason;
  }
  f.version += 1;

  const auto& k = s_.store.keys();
  Txn txn = s_.txn_for(e);
  txn.expect_field(k.item(f.id), "status", "response_in_review",
                   f.id + " was already decided; nothing changed.");
  txn.expect_field(k.item(f.id), "drafts", std::to_string(draft_no),
                   "This approval is out of date: " + f.id + " has a newer draft.");
  write(txn, f);
  txn.rpush(k.item_history(f.id), nlohmann::json{{"kind", approve ? "approved" : "returned"},
                                                 {"draft", draft_no},
                                                 {"by", actor.id},
                                                 {"at", now},
                                                 {"reason", reason}}
                                      .dump());
  for (const auto& a : approvers) {
    items::unassign(txn, k, f.id, a);
    txn.send(approval_message(f, a));
  }
  if (approve) {
    for (const auto& l : liaisons_for(f))
      items::unassign(txn, k, f.id, l);
    items::resolved(txn, k, f.id);
    Message m;
    m.to = Recipient::person(f.response_owner);
    m.key = "finding:" + f.id + ":owner";
    m.title = "You own the remediation of finding " + f.id;
    m.text = f.wording;
    m.fields.push_back({"Remediation plan", f.plan});
    m.fields.push_back({"Target date", f.target});
    m.context = "Management response approved by " + display(actor) + ".";
    txn.send(m);
  }
  txn.audit(actor.id, approve ? "finding.response_approved" : "finding.response_returned", f.id,
            {{"draft", draft_no}, {"reason", reason}});
  for (const auto& l : liaisons_for(f))
    txn.send(liaison_message(f, l));
  return finish(
      s_.store.commit(txn),
      Reply::ok(approve ? "Approved the management response for " + f.id + "."
                        : "Sent the management response for " + f.id + " back to the liaison."));
}

Reply Findings::open_gap(const InboundEvent& e, const Person& actor, Finding f, int version,
                         const std::string& severity_in, const std::string& owner_in,
                         const std::string& title) {
  require_role(actor, {Role::liaison, Role::admin}, "open gaps from findings");
  std::string severity;
  for (char c : severity_in)
    severity += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  GapDraft d;
  d.severity = severity;
  std::string owner = owner_in;
  if (!owner.empty() && owner.front() == '@') owner.erase(0, 1);
  if (!owner.empty()) {
    d.owner = require_person(s_.people, owner).id;
  } else if (!f.response_owner.empty()) {
    d.owner = f.response_owner;
  } else {
    for (const auto& c : f.controls) {
      if (auto found = controls_.find(c); found && !found->owner.empty()) {
        d.owner = found->owner;
        break;
      }
    }
  }
  if (d.owner.empty()) throw UserError("Say who owns the gap (owner @person).");
  if (f.controls.empty())
    throw UserError(f.id + " names no control; record the finding with its controls first.");
  d.controls = f.controls;
  d.title = title.empty() ? "Finding " + f.id + ": " + f.wording.substr(0, 200) : title;
  d.plan = f.plan;
  if (!f.target.empty()) {
    const Date target = *parse_date(f.target);
    const Date today = BusinessCalendar::local_date(s_.clock.now(), s_.config.org_timezone);
    if (std::chrono::sys_days(target) >= std::chrono::sys_days(today)) d.due = target;
  }
  f.version += 1;

  Txn txn = s_.txn_for(e);
  guard(txn, f, version);
  // Validates the draft (throws before anything is written) and adds the gap to this change.
  const std::string gap = gaps_.open_from_finding(f.id, d, actor.id, &txn);
  f.gaps.push_back(gap);
  write(txn, f);
  txn.audit(actor.id, "finding.gap_opened", f.id, {{"gap", gap}, {"severity", d.severity}});
  for (const auto& l : liaisons_for(f))
    txn.send(liaison_message(f, l));
  return finish(s_.store.commit(txn), Reply::ok("Opened " + gap + " (" + d.severity + ") for " +
                                                who(s_.people, d.owner) + " from " + f.id + "."));
}

std::string Findings::export_text() const {
  std::string out;
  for (const auto& f : all()) {
    if (!out.empty()) out += "\n";
    out += export_block(f);
  }
  return out;
}

std::string Findings::export_block(const Finding& f) const {
  std::string out;
  out += "Finding " + f.id + (f.auditor_ref.empty() ? "" : " (" + f.auditor_ref + ")") + "\n";
  if (!f.controls.empty()) out += "Controls: " + join(f.controls, ", ") + "\n";
  if (!f.requests.empty()) out += "Requests: " + join(f.requests, ", ") + "\n";
  out += "Auditor's description: " + f.wording + "\n";
  out += "Factual accuracy: " + accuracy_label(f) + "\n";
  if (f.status == "approved") {
    out += "Management response (approved by " + who(s_.people, f.approved_by) + " on " +
           f.approved_at.substr(0, 10) + "):\n";
    out += "  Root cause: " + f.root_cause + "\n";
    out += "  Remediation plan: " + f.plan + "\n";
    out += "  Target date: " + f.target + "\n";
    out += "  Owner: " + who(s_.people, f.response_owner) + "\n";
  } else {
    out += "Management response: not approved yet (" + status_label(f) + ")\n";
  }
  if (!f.gaps.empty()) out += "Remediation tracked as: " + join(f.gaps, ", ") + "\n";
  return out;
}

}  // namespace auditbot
