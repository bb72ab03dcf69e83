#include "handlers/gaps.hpp"

#include <algorithm>
#include <regex>

#include "bot/errors.hpp"
#include "handlers/items.hpp"

namespace auditbot {
namespace {

constexpr std::string_view kUsage =
    "/soc2 gap add <critical|significant|minor> @owner <control>... \"<title>\" [due <date>] "
    "[plan \"<plan>\"] [compensating \"<control>\"]  |  /soc2 gap new  |  "
    "/soc2 gap list [critical|significant|minor|overdue|@owner]  |  /soc2 gap GAP-n  |  "
    "/soc2 gap fix GAP-n <link> [\"<note>\"]  |  /soc2 gap accept-risk GAP-n \"<rationale>\"";
constexpr std::size_t kMaxText = 2000;
const std::vector<std::string> kSeverities{"critical", "significant", "minor"};

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep || c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string input(const ButtonPress& b, const std::string& name) {
  auto it = b.inputs.find(name);
  if (it == b.inputs.end()) return {};
  std::string v = it->second;
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())))
    v.pop_back();
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front())))
    v.erase(0, 1);
  return v;
}

// Review buttons carry "GAP-3/2": the gap and the round they were sent for.
std::pair<std::string, int> parse_value(const std::string& v) {
  auto slash = v.find('/');
  if (slash == std::string::npos) return {v, 0};
  try {
    return {v.substr(0, slash), std::stoi(v.substr(slash + 1))};
  } catch (const std::exception&) {
    throw UserError("That button is damaged; use /soc2 gap list to find the gap.");
  }
}

int default_days(const std::string& severity) {
  if (severity == "critical") return 30;
  if (severity == "significant") return 60;
  return 90;
}

std::string status_label(const Gap& g) {
  if (g.status == "open" && !g.reopen_reason.empty()) return "open (fix not accepted)";
  if (g.status == "fix_review") return "fix in re-assessment";
  if (g.status == "risk_review") return "risk acceptance proposed";
  if (g.status == "risk_accepted") return "risk accepted";
  return g.status;
}

bool is_open(const Gap& g) {
  return g.status != "closed" && g.status != "risk_accepted";
}

bool is_criterion(const std::string& s) {
  static const std::regex re("^(CC|A|C|PI|P)[0-9]+\\.[0-9]+$");
  return std::regex_match(s, re);
}

}  // namespace

void Gaps::register_with(Router& router) {
  router.add(CommandSpec{"gap", std::string(kUsage),
                         "Record, list and remediate gaps; propose risk acceptance",
                         [this](CommandCall& c) { return gap_cmd(c); }});
  router.add(ActionSpec{"gap.create", [this](ActionCall& c) { return create_from_form(c); }});
  router.add(ActionSpec{"gap.fix", [this](ActionCall& c) {
                          return submit_fix(c.event, c.actor, require(c.press.value),
                                            input(c.press, "link"), input(c.press, "note"));
                        }});
  router.add(ActionSpec{"gap.propose_risk", [this](ActionCall& c) {
                          return propose_risk(c.event, c.actor, require(c.press.value),
                                              input(c.press, "rationale"));
                        }});
  router.add(ActionSpec{"gap.fix_accept", [this](ActionCall& c) { return reassess(c, true); }});
  router.add(ActionSpec{"gap.fix_reopen", [this](ActionCall& c) { return reassess(c, false); }});
  router.add(
      ActionSpec{"gap.risk_approve", [this](ActionCall& c) { return decide_risk(c, true); }});
  router.add(
      ActionSpec{"gap.risk_decline", [this](ActionCall& c) { return decide_risk(c, false); }});
}

std::optional<Gap> Gaps::load(std::string_view id) const {
  auto h = s_.store.hgetall(s_.store.keys().item(id));
  if (!h || h->count("kind") == 0 || h->at("kind") != "gap") return std::nullopt;
  auto& m = *h;
  auto num = [&](const char* k) { return m[k].empty() ? 0 : std::stoi(m[k]); };
  Gap g;
  g.id = m["id"];
  g.status = m["status"];
  g.severity = m["severity"];
  g.owner = m["owner"];
  g.controls = split(m["controls"], ',');
  g.title = m["title"];
  g.due = m["due"];
  g.plan = m["plan"];
  g.compensating = m["compensating"];
  g.source = m["source"];
  g.created_by = m["created_by"];
  g.created_at = m["created_at"];
  g.reviewer = m["reviewer"];
  g.fix_round = num("fix_round");
  g.fix_link = m["fix_link"];
  g.fix_note = m["fix_note"];
  g.risk_round = num("risk_round");
  g.rationale = m["rationale"];
  g.decided_by = m["decided_by"];
  g.decided_at = m["decided_at"];
  g.reopen_reason = m["reopen_reason"];
  g.closed_at = m["closed_at"];
  return g;
}

std::vector<Gap> Gaps::all() const {
  const auto ids = s_.store.zrange_by_score(s_.store.keys().items_of_kind("gap"),
                                            -std::numeric_limits<double>::infinity(),
                                            std::numeric_limits<double>::infinity(), 100000);
  std::vector<Gap> out;
  for (const auto& id : ids) {
    if (auto g = load(id)) out.push_back(*g);
  }
  return out;
}

Gap Gaps::require(std::string_view id) const {
  auto g = load(id);
  if (!g) throw NotFound("There is no gap " + std::string(id) + ".");
  return *g;
}

void Gaps::write(Txn& txn, const Gap& g) const {
  txn.hset(s_.store.keys().item(g.id), {{"kind", "gap"},
                                        {"id", g.id},
                                        {"status", g.status},
                                        {"severity", g.severity},
                                        {"owner", g.owner},
                                        {"controls", join(g.controls, ",")},
                                        {"title", g.title},
                                        {"summary", g.severity + " gap: " + g.title},
                                        {"due", g.due},
                                        {"plan", g.plan},
                                        {"compensating", g.compensating},
                                        {"source", g.source},
                                        {"created_by", g.created_by},
                                        {"created_at", g.created_at},
                                        {"reviewer", g.reviewer},
                                        {"fix_round", std::to_string(g.fix_round)},
                                        {"fix_link", g.fix_link},
                                        {"fix_note", g.fix_note},
                                        {"risk_round", std::to_string(g.risk_round)},
                                        {"rationale", g.rationale},
                                        {"decided_by", g.decided_by},
                                        {"decided_at", g.decided_at},
                                        {"reopen_reason", g.reopen_reason},
                                        {"closed_at", g.closed_at}});
}

nlohmann::json Gaps::snapshot(const Gap& g) const {
  const Date today = BusinessCalendar::local_date(s_.clock.now(), s_.config.org_timezone);
  return {{"status", g.status},
          {"severity", g.severity},
          {"owner", g.owner},
          {"due", g.due},
          {"overdue", is_open(g) && format_date(today) > g.due},
          {"plan", g.plan},
          {"compensating", g.compensating},
          {"controls", g.controls},
          {"fix_round", g.fix_round}};
}

Gap Gaps::build(const GapDraft& d, const std::string& actor, Date today) const {
  if (std::find(kSeverities.begin(), kSeverities.end(), d.severity) == kSeverities.end()) {
    throw UserError("The severity must be critical, significant or minor, not '" + d.severity +
                    "'.");
  }
  const Person* owner = s_.people.find(d.owner);
  if (!owner) throw NotFound("I don't know anyone called '@" + d.owner + "'.");
  if (d.title.empty()) throw UserError("Say what the gap is, in quotes.");
  if (d.title.size() > kMaxText || d.plan.size() > kMaxText || d.compensating.size() > kMaxText) {
    throw UserError("The text is too long (over 2000 characters).");
  }
  if (d.controls.empty()) throw UserError("Name at least one control or criterion (AC-01, CC6.1).");
  Gap g;
  for (const auto& c : d.controls) {
    if (auto found = controls_.find(c)) {
      g.controls.push_back(found->id);
    } else if (is_criterion(c)) {
      g.controls.push_back(c);
    } else {
      throw NotFound("There is no control " + c + ".");
    }
  }
  const Date due = d.due.value_or(
      Date{std::chrono::sys_days(today) + std::chrono::days(default_days(d.severity))});
  if (std::chrono::sys_days(due) < std::chrono::sys_days(today)) {
    throw UserError("The target date " + format_date(due) + " is in the past.");
  }
  g.status = "open";
  g.severity = d.severity;
  g.owner = owner->id;
  g.title = d.title;
  g.due = format_date(due);
  g.plan = d.plan;
  g.compensating = d.compensating;
  g.created_by = actor;
  g.created_at = format_iso8601(s_.clock.now());
  // The re-assessor: the creator when they are a liaison/admin other than the owner.
  g.reviewer = actor;
  const Person* creator = s_.people.find(actor);
  if (!creator || !has_any_role(*creator, {Role::liaison, Role::admin}) || actor == g.owner) {
    g.reviewer.clear();
    for (Role r : {Role::liaison, Role::admin}) {
      for (const Person* p : s_.people.with_role(r)) {
        if (p->id != g.owner && g.reviewer.empty()) g.reviewer = p->id;
      }
    }
  }
  return g;
}

void Gaps::create(Txn& txn, const Gap& g) const {
  const auto& keys = s_.store.keys();
  txn.expect_absent(keys.item(g.id), g.id + " already exists.");
  write(txn, g);
  const Date due = *parse_date(g.due);
  items::assign(txn, keys, g.id, g.owner, due);
  items::set_due(txn, keys, g.id, due);
  txn.zadd(keys.items_of_kind("gap"), static_cast<double>(unix_millis(s_.clock.now())), g.id);
  txn.audit(g.created_by, "gap.created", g.id,
            {{"severity", g.severity},
             {"owner", g.owner},
             {"controls", g.controls},
             {"title", g.title},
             {"due", g.due},
             {"plan", g.plan},
             {"compensating", g.compensating},
             {"source", g.source}});
  txn.send(owner_message(g));
}

std::string Gaps::open_from_finding(const std::string& finding_id, const GapDraft& draft,
                                    const std::string& actor, Txn* txn) {
  Gap g = build(draft, actor, BusinessCalendar::local_date(s_.clock.now(), s_.config.org_timezone));
  g.id = "GAP-" + std::to_string(s_.store.next_number("gap"));
  g.source = finding_id;
  if (txn) {
    create(*txn, g);
    return g.id;
  }
  Txn own;
  create(own, g);
  const auto r = s_.store.commit(own);
  if (!r.ok()) throw Conflict(r.reason);
  return g.id;
}

Message Gaps::owner_message(const Gap& g) const {
  Message m;
  m.to = Recipient::person(g.owner);
  m.key = "gap:" + g.id + ":owner";
  m.title = "Gap to remediate: " + g.id + " (" + g.severity + ")";
  m.text = g.title;
  m.fields.push_back({"Controls", join(g.controls, ", ")});
  m.fields.push_back({"Target date", g.due});
  if (!g.plan.empty()) m.fields.push_back({"Plan", g.plan});
  if (!g.compensating.empty()) m.fields.push_back({"Compensating control", g.compensating});
  if (!g.source.empty()) m.fields.push_back({"From finding", g.source});
  m.fields.push_back({"Status", status_label(g)});
  if (g.status == "open") {
    if (!g.reopen_reason.empty()) m.context = "Reopened: " + g.reopen_reason;
    m.buttons.push_back({"gap.fix",
                         "Submit fix evidence",
                         g.id,
                         {{"link", "Link to the evidence of the fix", Input::Kind::url, false},
                          {"note", "Note for the re-assessment", Input::Kind::multiline, true}},
                         Button::Style::primary});
    m.buttons.push_back(
        {"gap.propose_risk",
         "Propose risk acceptance",
         g.id,
         {{"rationale", "Why the risk can be accepted", Input::Kind::multiline, false}},
         Button::Style::normal});
  }
  return m;
}

Message Gaps::fix_review_message(const Gap& g) const {
  Message m;
  m.to = Recipient::person(g.reviewer);
  m.key = "gap:" + g.id + ":fix:" + std::to_string(g.fix_round);
  m.title = "Re-assess the fix: " + g.id + " (" + g.severity + ")";
  m.text = g.title;
  const Person* owner = s_.people.find(g.owner);
  m.fields.push_back({"Owner", owner ? display(*owner) : g.owner});
  m.fields.push_back({"Fix evidence", g.fix_link});
  if (!g.fix_note.empty()) m.fields.push_back({"Note", g.fix_note});
  const std::string value = g.id + "/" + std::to_string(g.fix_round);
  if (g.status == "fix_review") {
    m.buttons.push_back({"gap.fix_accept", "Accept the fix", value, {}, Button::Style::primary});
    m.buttons.push_back({"gap.fix_reopen",
                         "Reopen",
                         value,
                         {{"reason", "Why the fix is not enough", Input::Kind::text, false}},
                         Button::Style::danger});
  } else {
    m.context = g.status == "closed" ? "Fix accepted; gap closed." : "Reopened: " + g.reopen_reason;
  }
  return m;
}

Message Gaps::risk_message(const Gap& g, const std::string& approver) const {
  Message m;
  m.to = Recipient::person(approver);
  m.key = "gap:" + g.id + ":risk:" + std::to_string(g.risk_round) + ":" + approver;
  m.title = "Risk acceptance to decide: " + g.id + " (" + g.severity + ")";
  m.text = g.title;
  const Person* owner = s_.people.find(g.owner);
  m.fields.push_back({"Owner", owner ? display(*owner) : g.owner});
  m.fields.push_back({"Rationale", g.rationale});
  m.fields.push_back({"Controls", join(g.controls, ", ")});
  m.fields.push_back({"Target date", g.due});
  if (!g.compensating.empty()) m.fields.push_back({"Compensating control", g.compensating});
  const std::string value = g.id + "/" + std::to_string(g.risk_round);
  if (g.status == "risk_review") {
    m.buttons.push_back({"gap.risk_approve", "Accept the risk", value, {}, Button::Style::primary});
    m.buttons.push_back({"gap.risk_decline",
                         "Decline",
                         value,
                         {{"reason", "Why it is declined", Input::Kind::text, false}},
                         Button::Style::danger});
  } else {
    const Person* d = s_.people.find(g.decided_by);
    m.context = (g.status == "risk_accepted" ? "Accepted by " : "Declined by ") +
                (d ? display(*d) : g.decided_by) + ".";
  }
  return m;
}

std::vector<std::string> Gaps::approvers_for(const Gap& g) const {
  std::vector<std::string> out;
  for (const Person* p : s_.people.with_role(Role::approver)) {
    if (p->id != g.owner) out.push_back(p->id);
  }
  return out;
}

Reply Gaps::gap_cmd(CommandCall& call) {
  const Token* t = call.args.peek();
  if (!t) throw SyntaxError("say what to do: add, new, list, fix, accept-risk or a GAP id");
  if (t->kind == Token::Kind::item_id) {
    const std::string id = call.args.item_id("a gap id");
    call.args.expect_end();
    return show(require(id), call.actor);
  }
  if (call.args.keyword("add")) return add(call);
  if (call.args.keyword("list")) return list(call);
  if (call.args.keyword("new")) {
    call.args.expect_end();
    require_role(call.actor, {Role::liaison, Role::admin}, "record gaps");
    Reply r = Reply::ok("Fill in the new gap:");
    r.buttons.push_back(
        {"gap.create",
         "Record a gap",
         "new",
         {{"severity", "Severity (critical, significant or minor)", Input::Kind::text, false},
          {"owner", "Owner", Input::Kind::person, false},
          {"controls", "Controls or criteria (AC-01, CC6.1)", Input::Kind::text, false},
          {"title", "What is missing", Input::Kind::text, false},
          {"due", "Target date", Input::Kind::date, true},
          {"plan", "Remediation plan", Input::Kind::multiline, true},
          {"compensating", "Compensating control", Input::Kind::multiline, true}},
         Button::Style::primary});
    return r;
  }
  if (call.args.keyword("fix")) {
    Gap g = require(call.args.item_id("a gap id"));
    const std::string link = call.args.text("the link to the evidence of the fix");
    std::string note;
    if (!call.args.done()) note = call.args.text("a note, in quotes");
    call.args.expect_end();
    return submit_fix(call.event, call.actor, std::move(g), link, note);
  }
  if (call.args.keyword("accept-risk")) {
    Gap g = require(call.args.item_id("a gap id"));
    const std::string rationale = call.args.text("the rationale, in quotes");
    call.args.expect_end();
    return propose_risk(call.event, call.actor, std::move(g), rationale);
  }
  throw SyntaxError("unexpected '" + call.args.next("").text +
                    "' (expected add, new, list, fix, accept-risk or a GAP id)");
}

Reply Gaps::add(CommandCall& call) {
  require_role(call.actor, {Role::liaison, Role::admin}, "record gaps");
  GapDraft d;
  d.severity = call.args.word("the severity: critical, significant or minor");
  d.owner = require_person(s_.people, call.args.mention("the owner as @person")).id;
  while (const Token* t = call.args.peek()) {
    if (t->kind != Token::Kind::control) break;
    d.controls.push_back(call.args.control("a control"));
  }
  if (d.controls.empty()) call.args.control("a control id such as AC-01 or CC6.1");
  d.title = call.args.text("what is missing, in quotes");
  const Date today = s_.today_for(call.actor);
  while (!call.args.done()) {
    if (call.args.keyword("due")) {
      d.due = call.args.date("a target date like 2027-01-31, +30d or +20bd", today, s_.calendar);
    } else if (call.args.keyword("plan")) {
      d.plan = call.args.text("the remediation plan, in quotes");
    } else if (call.args.keyword("compensating")) {
      d.compensating = call.args.text("the compensating control, in quotes");
    } else {
      throw SyntaxError("unexpected '" + call.args.next("").text +
                        "' (expected due, plan or compensating)");
    }
  }
  Gap g = build(d, call.actor.id, today);
  g.id = "GAP-" + std::to_string(s_.store.next_number("gap"));
  Txn txn = s_.txn_for(call.event);
  create(txn, g);
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::duplicate) return Reply::ok("That was already recorded.");
  if (!r.ok()) return Reply::fail(r.reason);
  const Person* owner = s_.people.find(g.owner);
  return Reply::ok("Recorded " + g.id + " (" + g.severity + ") for " + display(*owner) + ": " +
                   g.title + ", target " + g.due + ". I've sent them a DM.");
}

Reply Gaps::create_from_form(ActionCall& call) {
  require_role(call.actor, {Role::liaison, Role::admin}, "record gaps");
  GapDraft d;
  d.severity = input(call.press, "severity");
  for (char& c : d.severity)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string owner = input(call.press, "owner");
  if (!owner.empty() && owner.front() == '@') owner.erase(0, 1);
  d.owner = require_person(s_.people, owner).id;
  for (auto c : split(input(call.press, "controls"), ',')) {
    for (char& ch : c)
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    d.controls.push_back(c);
  }
  d.title = input(call.press, "title");
  d.plan = input(call.press, "plan");
  d.compensating = input(call.press, "compensating");
  const Date today = s_.today_for(call.actor);
  if (const std::string due = input(call.press, "due"); !due.empty()) {
    Args args(tokenize(due));
    d.due = args.date("a target date like 2027-01-31, +30d or +20bd", today, s_.calendar);
    args.expect_end();
  }
  Gap g = build(d, call.actor.id, today);
  g.id = "GAP-" + std::to_string(s_.store.next_number("gap"));
  Txn txn = s_.txn_for(call.event);
  create(txn, g);
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::duplicate) return Reply::ok("That was already recorded.");
  if (!r.ok()) return Reply::fail(r.reason);
  return Reply::ok("Recorded " + g.id + " (" + g.severity + "): " + g.title + ", target " + g.due +
                   ".");
}

Reply Gaps::list(CommandCall& call) const {
  std::string filter;
  std::string owner;
  if (const Token* t = call.args.peek(); t && t->kind == Token::Kind::mention) {
    owner = require_person(s_.people, call.args.mention("an owner")).id;
    filter = "@" + owner;
  } else if (!call.args.done()) {
    filter = call.args.word("critical, significant, minor, overdue or @owner");
    if (filter != "overdue" &&
        std::find(kSeverities.begin(), kSeverities.end(), filter) == kSeverities.end()) {
      throw SyntaxError("expected critical, significant, minor, overdue or @owner, got '" + filter +
                        "'");
    }
  }
  call.args.expect_end();
  const std::string today = format_date(s_.today_for(call.actor));
  std::vector<Gap> shown;
  for (auto& g : all()) {
    if (!is_open(g)) continue;
    if (!owner.empty() && g.owner != owner) continue;
    if (filter == "overdue" && !(g.due < today)) continue;
    if (!filter.empty() && owner.empty() && filter != "overdue" && g.severity != filter) continue;
    shown.push_back(g);
  }
  if (shown.empty()) {
    return Reply::ok(filter.empty() ? "No open gaps." : "No open gaps (" + filter + ").");
  }
  std::string text = "Open gaps" + (filter.empty() ? "" : " (" + filter + ")") + ": " +
                     std::to_string(shown.size());
  for (const auto& g : shown) {
    text += "\n• " + g.id + " · " + g.severity + " · " + g.title + " · @" + g.owner + " · target " +
            g.due + (g.due < today ? " (overdue)" : "") + " · " + status_label(g);
  }
  return Reply::ok(text);
}

Reply Gaps::show(const Gap& g, const Person& actor) const {
  Reply r = Reply::ok(g.id + " · " + g.severity + " · " + status_label(g) + "\n" + g.title);
  const Person* owner = s_.people.find(g.owner);
  r.fields.push_back({"Owner", owner ? display(*owner) : g.owner});
  r.fields.push_back({"Controls", join(g.controls, ", ")});
  r.fields.push_back({"Target date", g.due});
  if (!g.plan.empty()) r.fields.push_back({"Plan", g.plan});
  if (!g.compensating.empty()) r.fields.push_back({"Compensating control", g.compensating});
  if (!g.source.empty()) r.fields.push_back({"From finding", g.source});
  if (!g.fix_link.empty()) r.fields.push_back({"Fix evidence", g.fix_link});
  if (!g.rationale.empty()) r.fields.push_back({"Risk rationale", g.rationale});
  if (!g.reopen_reason.empty()) r.fields.push_back({"Last reopened because", g.reopen_reason});
  if (!g.decided_by.empty()) {
    const Person* d = s_.people.find(g.decided_by);
    r.fields.push_back(
        {"Last decision", (d ? display(*d) : g.decided_by) + " on " + g.decided_at.substr(0, 10)});
  }
  (void)actor;
  return r;
}

Reply Gaps::submit_fix(const InboundEvent& e, const Person& actor, Gap g, const std::string& link,
                       const std::string& note) {
  if (g.owner != actor.id && !has_any_role(actor, {Role::liaison, Role::admin})) {
    throw Forbidden("Only the owner of " + g.id + " can submit its fix.");
  }
  if (g.status != "open") throw Conflict(g.id + " is " + status_label(g) + "; nothing to submit.");
  if (!looks_like_url(link)) {
    throw UserError("The fix evidence must be a web address starting with https:// or http://.");
  }
  if (note.size() > kMaxText) throw UserError("The note is too long (over 2000 characters).");
  if (g.reviewer.empty() || g.reviewer == actor.id) {
    throw Conflict("Nobody else can re-assess " + g.id + "; ask an admin to add a liaison.");
  }
  g.status = "fix_review";
  g.fix_round += 1;
  g.fix_link = link;
  g.fix_note = note;
  const std::string at = format_iso8601(s_.clock.now());
  Txn txn = s_.txn_for(e);
  txn.expect_field(s_.store.keys().item(g.id), "status", "open",
                   g.id + " changed meanwhile; nothing was submitted.");
  write(txn, g);
  txn.rpush(s_.store.keys().item_history(g.id),
            nlohmann::json{
                {"fix", g.fix_round}, {"by", actor.id}, {"at", at}, {"link", link}, {"note", note}}
                .dump());
  items::assign(txn, s_.store.keys(), g.id, g.reviewer, *parse_date(g.due));
  txn.audit(actor.id, "gap.fix_submitted", g.id,
            {{"round", g.fix_round}, {"link", link}, {"note", note}});
  txn.send(owner_message(g));
  txn.send(fix_review_message(g));
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::duplicate) return Reply::ok("That was already recorded.");
  if (!r.ok()) return Reply::fail(r.reason);
  const Person* rev = s_.people.find(g.reviewer);
  return Reply::ok("Submitted the fix for " + g.id + "; " + (rev ? display(*rev) : g.reviewer) +
                   " will re-assess it.");
}

Reply Gaps::reassess(ActionCall& call, bool accept) {
  auto [id, round] = parse_value(call.press.value);
  Gap g = require(id);
  require_role(call.actor, {Role::liaison, Role::admin}, "re-assess gap fixes");
  if (g.status != "fix_review" || round != g.fix_round) {
    throw Conflict("This re-assessment is out of date: " + g.id + " is " + status_label(g) + ".");
  }
  if (call.actor.id == g.owner) {
    throw Forbidden("You own " + g.id + ", so someone else has to re-assess its fix.");
  }
  const std::string reason = input(call.press, "reason");
  if (!accept && reason.empty()) throw UserError("Say why the gap is reopened; the owner sees it.");
  const nlohmann::json before = snapshot(g);
  g.status = accept ? "closed" : "open";
  g.decided_by = call.actor.id;
  g.decided_at = format_iso8601(s_.clock.now());
  g.reopen_reason = accept ? "" : reason;
  if (accept) g.closed_at = g.decided_at;
  Txn txn = s_.txn_for(call.event);
  txn.expect_field(s_.store.keys().item(g.id), "status", "fix_review",
                   g.id + " was already re-assessed.");
  txn.expect_field(s_.store.keys().item(g.id), "fix_round", std::to_string(round),
                   "This re-assessment is out of date: " + g.id + " has a newer fix.");
  write(txn, g);
  txn.rpush(s_.store.keys().item_history(g.id),
            nlohmann::json{{"fix", round},
                           {"reassessment", accept ? "accepted" : "reopened"},
                           {"by", g.decided_by},
                           {"at", g.decided_at},
                           {"reason", reason},
                           {"state", before}}
                .dump());
  if (g.reviewer != g.owner) items::unassign(txn, s_.store.keys(), g.id, g.reviewer);
  if (accept) {
    items::unassign(txn, s_.store.keys(), g.id, g.owner);
    items::resolved(txn, s_.store.keys(), g.id);
  }
  txn.audit(call.actor.id, accept ? "gap.fix_accepted" : "gap.reopened", g.id,
            {{"round", round}, {"reason", reason}, {"state", before}});
  Gap reviewed = g;
  txn.send(fix_review_message(reviewed));
  txn.send(owner_message(g));
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::duplicate) return Reply::ok("That was already recorded.");
  if (!r.ok()) return Reply::fail(r.reason);
  return Reply::ok(accept ? "Accepted the fix; " + g.id + " is closed."
                          : "Reopened " + g.id + "; the owner has been told why.");
}

Reply Gaps::propose_risk(const InboundEvent& e, const Person& actor, Gap g,
                         const std::string& rationale) {
  if (g.owner != actor.id) {
    const Person* o = s_.people.find(g.owner);
    throw Forbidden("Only the owner of " + g.id + " (" + (o ? display(*o) : g.owner) +
                    ") can propose accepting its risk.");
  }
  if (g.status != "open") throw Conflict(g.id + " is " + status_label(g) + "; nothing to propose.");
  if (rationale.empty()) throw UserError("Give the rationale for accepting the risk.");
  if (rationale.size() > kMaxText)
    throw UserError("The rationale is too long (over 2000 characters).");
  const auto approvers = approvers_for(g);
  if (approvers.empty())
    throw Conflict("Nobody can approve risk acceptance; ask an admin to name an approver.");
  g.status = "risk_review";
  g.risk_round += 1;
  g.rationale = rationale;
  const std::string at = format_iso8601(s_.clock.now());
  Txn txn = s_.txn_for(e);
  txn.expect_field(s_.store.keys().item(g.id), "status", "open",
                   g.id + " changed meanwhile; nothing was proposed.");
  write(txn, g);
  txn.rpush(
      s_.store.keys().item_history(g.id),
      nlohmann::json{
          {"risk_proposal", g.risk_round}, {"by", actor.id}, {"at", at}, {"rationale", rationale}}
          .dump());
  for (const auto& a : approvers) {
    items::assign(txn, s_.store.keys(), g.id, a, *parse_date(g.due));
    txn.send(risk_message(g, a));
  }
  txn.audit(actor.id, "gap.risk_proposed", g.id,
            {{"round", g.risk_round}, {"rationale", rationale}, {"approvers", approvers}});
  txn.send(owner_message(g));
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::duplicate) return Reply::ok("That was already recorded.");
  if (!r.ok()) return Reply::fail(r.reason);
  return Reply::ok(
      "Proposed accepting the risk of " + g.id + "; " + std::to_string(approvers.size()) +
      (approvers.size() == 1 ? " approver has" : " approvers have") + " been asked to decide.");
}

Reply Gaps::decide_risk(ActionCall& call, bool approve) {
  auto [id, round] = parse_value(call.press.value);
  Gap g = require(id);
  require_role(call.actor, {Role::approver}, "decide on risk acceptance");
  if (call.actor.id == g.owner) throw Forbidden("You own " + g.id + "; someone else must decide.");
  if (g.status != "risk_review" || round != g.risk_round) {
    throw Conflict("This decision is out of date: " + g.id + " is " + status_label(g) + ".");
  }
  const std::string reason = input(call.press, "reason");
  if (!approve && reason.empty()) throw UserError("Say why it is declined; the owner sees it.");
  // The gap's state when the decision was taken, for the record.
  nlohmann::json before = snapshot(g);
  before["rationale"] = g.rationale;
  g.status = approve ? "risk_accepted" : "open";
  g.decided_by = call.actor.id;
  g.decided_at = format_iso8601(s_.clock.now());
  if (approve) g.closed_at = g.decided_at;
  Txn txn = s_.txn_for(call.event);
  txn.expect_field(s_.store.keys().item(g.id), "status", "risk_review",
                   g.id + " was already decided.");
  txn.expect_field(s_.store.keys().item(g.id), "risk_round", std::to_string(round),
                   "This decision is out of date.");
  write(txn, g);
  txn.rpush(s_.store.keys().item_history(g.id),
            nlohmann::json{{"risk_decision", approve ? "accepted" : "declined"},
                           {"round", round},
                           {"by", g.decided_by},
                           {"at", g.decided_at},
                           {"reason", reason},
                           {"state", before}}
                .dump());
  const auto approvers = approvers_for(g);
  for (const auto& a : approvers) {
    if (a != g.owner) items::unassign(txn, s_.store.keys(), g.id, a);
  }
  if (approve) {
    items::unassign(txn, s_.store.keys(), g.id, g.owner);
    items::resolved(txn, s_.store.keys(), g.id);
  }
  txn.audit(call.actor.id, approve ? "gap.risk_accepted" : "gap.risk_declined", g.id,
            {{"round", round}, {"reason", reason}, {"state", before}});
  for (const auto& a : approvers)
    txn.send(risk_message(g, a));
  Message note = owner_message(g);
  if (!approve) note.context = "Risk acceptance declined: " + reason;
  txn.send(note);
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::duplicate) return Reply::ok("That was already recorded.");
  if (!r.ok()) return Reply::fail(r.reason);
  return Reply::ok(approve ? "Accepted the risk of " + g.id + "; it is closed as risk accepted."
                           : "Declined the risk acceptance of " + g.id +
                                 "; it stays open for remediation.");
}

Message GapReport::weekly(TimePoint now) {
  Gaps gaps(s_);
  const auto all = gaps.all();
  const std::string today = format_date(BusinessCalendar::local_date(now, s_.config.org_timezone));
  const std::string week_start = format_iso8601(now - std::chrono::days(7));
  const std::string prev_start = format_iso8601(now - std::chrono::days(14));
  const std::string now_s = format_iso8601(now);
  int opened = 0, opened_prev = 0, closed = 0, closed_prev = 0, overdue = 0, open = 0;
  std::map<std::string, int> by_severity{{"critical", 0}, {"significant", 0}, {"minor", 0}};
  for (const auto& g : all) {
    if (g.created_at >= week_start && g.created_at < now_s) ++opened;
    if (g.created_at >= prev_start && g.created_at < week_start) ++opened_prev;
    if (!g.closed_at.empty() && g.closed_at >= week_start && g.closed_at < now_s) ++closed;
    if (!g.closed_at.empty() && g.closed_at >= prev_start && g.closed_at < week_start)
      ++closed_prev;
    const bool still_open = g.status != "closed" && g.status != "risk_accepted";
    if (!still_open) continue;
    ++open;
    by_severity[g.severity] += 1;
    if (g.due < today) ++overdue;
  }
  const std::string snap_key = s_.store.keys().key("gaps:weekly:last");
  const auto last = s_.store.hgetall(snap_key).value_or(std::map<std::string, std::string>{});
  auto was = [&](const std::string& k) -> std::string {
    auto it = last.find(k);
    return it == last.end() ? "" : " (last week " + it->second + ")";
  };
  Message m;
  m.to = Recipient::channel("compliance");
  m.key = "gaps:weekly:" + today;
  m.title = "Gap status, week ending " + today;
  m.text = std::to_string(open) + " open gap" + (open == 1 ? "" : "s") + was("open") + ", " +
           std::to_string(overdue) + " overdue" + was("overdue") + ".";
  m.fields.push_back({"Opened this week",
                      std::to_string(opened) + " (last week " + std::to_string(opened_prev) + ")"});
  m.fields.push_back({"Closed this week",
                      std::to_string(closed) + " (last week " + std::to_string(closed_prev) + ")"});
  m.fields.push_back({"Overdue", std::to_string(overdue) + was("overdue")});
  for (const auto& sev : kSeverities) {
    m.fields.push_back({"Open " + sev, std::to_string(by_severity[sev]) + was("open_" + sev)});
  }
  Txn txn;
  txn.hset(snap_key, {{"week", today},
                      {"open", std::to_string(open)},
                      {"overdue", std::to_string(overdue)},
                      {"open_critical", std::to_string(by_severity["critical"])},
                      {"open_significant", std::to_string(by_severity["significant"])},
                      {"open_minor", std::to_string(by_severity["minor"])}});
  txn.audit("system", "gap.weekly_report", "",
            {{"week", today},
             {"opened", opened},
             {"closed", closed},
             {"open", open},
             {"overdue", overdue}});
  txn.send(m);
  const auto r = s_.store.commit(txn);
  if (!r.ok()) throw Conflict(r.reason);
  return m;
}

}  // namespace auditbot
