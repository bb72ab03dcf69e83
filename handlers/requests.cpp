#include "handlers/requests.hpp"

#include <algorithm>
#include <set>

#include "bot/errors.hpp"
#include "bot/text.hpp"
#include "handlers/csv.hpp"
#include "handlers/items.hpp"
#include "handlers/tsc.hpp"

namespace auditbot {
namespace {

constexpr std::string_view kUsage =
    "/soc2 request add \"<text>\" [control <id>] [due <date>] [owner @p]  |  /soc2 request "
    "list [open|overdue|mine|control <id>]  |  /soc2 request REQ-n [assign @p|start|submit "
    "<link> [\"note\"]|note \"text\"|send|return \"why\"|follow-up \"text\"|accept]  |  "
    "/soc2 request triage";
constexpr std::size_t kMaxText = 4000;

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : sep) + s;
  return out;
}

std::vector<std::string> split_refs(const std::string& cell) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : cell + " ") {
    if (ch == ',' || ch == ';' || ch == '/' || ch == '|' ||
        std::isspace(static_cast<unsigned char>(ch))) {
      // Trailing sentence dots are not part of an id (CC6.1. -> CC6.1).
      while (!cur.empty() && (cur.back() == '.' || cur.back() == ')' || cur.back() == ':'))
        cur.pop_back();
      while (!cur.empty() && cur.front() == '(')
        cur.erase(0, 1);
      if (!cur.empty()) out.push_back(upper(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  return out;
}

// Allowed moves: from -> {to}. Every change goes through this table.
const std::map<std::string, std::set<std::string>>& transitions() {
  static const std::map<std::string, std::set<std::string>> kNext{
      {"new", {"assigned"}},
      {"assigned", {"in_progress"}},
      {"in_progress", {"in_review"}},
      {"in_review", {"sent", "in_progress"}},
      {"sent", {"accepted", "follow_up"}},
      {"follow_up", {"in_progress"}},
      {"accepted", {}}};
  return kNext;
}

bool allowed(const std::string& from, const std::string& to) {
  auto it = transitions().find(from);
  return it != transitions().end() && it->second.count(to) > 0;
}

std::string label(std::string_view status) {
  std::string s(status);
  std::replace(s.begin(), s.end(), '_', ' ');
  return s;
}

// 2026-12-05, or 12/05/2026 as US spreadsheets write it.
std::optional<Date> parse_sheet_date(const std::string& s) {
  if (auto d = parse_date(s)) return d;
  unsigned m = 0, d = 0;
  int y = 0;
  char a = 0, b = 0;
  if (std::sscanf(s.c_str(), "%u%c%u%c%d", &m, &a, &d, &b, &y) == 5 && a == '/' && b == '/' &&
      y > 1970) {
    Date out{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    if (out.ok()) return out;
  }
  return std::nullopt;
}

std::string normalise_header(const std::string& h) {
  std::string out;
  for (char c : lower(trim(h))) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '#') {
      out += c;
    } else if (!out.empty() && out.back() != ' ') {
      out += ' ';
    }
  }
  return trim(out);
}

// Header names auditors' spreadsheets use, normalised, per field.
const std::map<std::string, std::string>& header_aliases() {
  static const std::map<std::string, std::string> kAliases{{"request id", "request id"},
                                                           {"req id", "request id"},
                                                           {"id", "request id"},
                                                           {"#", "request id"},
                                                           {"request #", "request id"},
                                                           {"request no", "request id"},
                                                           {"pbc id", "request id"},
                                                           {"pbc #", "request id"},
                                                           {"item #", "request id"},
                                                           {"ref", "request id"},
                                                           {"description", "description"},
                                                           {"request", "description"},
                                                           {"request description", "description"},
                                                           {"details", "description"},
                                                           {"text", "description"},
                                                           {"request detail", "description"},
                                                           {"tsc", "reference"},
                                                           {"tsc reference", "reference"},
                                                           {"control reference", "reference"},
                                                           {"tsc control reference", "reference"},
                                                           {"criteria", "reference"},
                                                           {"control", "reference"},
                                                           {"control id", "reference"},
                                                           {"reference", "reference"},
                                                           {"tsc criteria", "reference"},
                                                           {"controls", "reference"},
                                                           {"owner", "owner"},
                                                           {"assigned to", "owner"},
                                                           {"client owner", "owner"},
                                                           {"due date", "due date"},
                                                           {"due", "due date"},
                                                           {"date due", "due date"},
                                                           {"sample period", "sample period"},
                                                           {"period", "sample period"},
                                                           {"period covered", "sample period"},
                                                           {"priority", "priority"},
                                                           {"comments", "comments"},
                                                           {"comment", "comments"},
                                                           {"auditor comments", "comments"},
                                                           {"notes", "comments"}};
  return kAliases;
}

[[noreturn]] void bad(std::size_t row, const std::string& field, const std::string& problem) {
  throw ImportError("row " + std::to_string(row) + ", field " + field + ": " + problem);
}

}  // namespace

std::string auditor_status(std::string_view status) {
  if (status == "new" || status == "assigned") return "received";
  if (status == "in_progress" || status == "in_review") return "in progress";
  if (status == "sent") return "evidence sent";
  if (status == "follow_up") return "follow-up requested";
  if (status == "accepted") return "accepted";
  return std::string(status);
}

RequestColumnMap parse_column_map(std::string_view spec) {
  RequestColumnMap out;
  std::string s(spec);
  std::size_t start = 0;
  while (start < s.size()) {
    auto comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    const std::string part = s.substr(start, comma - start);
    start = comma + 1;
    if (trim(part).empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string::npos)
      throw UserError("column map entry '" + part + "' is not field=Header");
    const std::string field = normalise_header(part.substr(0, eq));
    static const std::set<std::string> kFields{"request id", "description", "reference",
                                               "owner",      "due date",    "sample period",
                                               "priority",   "comments"};
    auto alias = header_aliases().find(field);
    const std::string canon = kFields.count(field)              ? field
                              : alias != header_aliases().end() ? alias->second
                                                                : "";
    if (canon.empty())
      throw UserError("column map: unknown field '" + trim(part.substr(0, eq)) + "'");
    out[canon] = normalise_header(part.substr(eq + 1));
  }
  return out;
}

void RequestLog::register_with(Router& router) {
  router.add(CommandSpec{"request", std::string(kUsage),
                         "Auditor requests: add, list, show, route, submit, send",
                         [this](CommandCall& c) { return request(c); }});
  router.add(TrackSpec{
      "requests", [this](const InboundEvent& e, const Person& actor, const TrackMessage& m) {
        auto it = s_.config.channels.find("auditor");
        if (m.channel != "auditor" && (it == s_.config.channels.end() || it->second != m.channel)) {
          throw UserError("Only messages in the auditor channel can be tracked.");
        }
        const std::string where =
            m.channel + "/" + (m.message_id.empty() ? m.thread : m.message_id);
        // Slack threads are one level deep: a reply's statuses go under its parent.
        return track(e, actor, m.text, m.author, where, m.thread.empty() ? m.message_id : m.thread);
      }});
  router.add(ActionSpec{"request.create", [this](ActionCall& c) { return add_from_form(c); }});
  for (const char* verb : {"start", "submit", "send", "return", "assign"}) {
    router.add(ActionSpec{std::string("request.") + verb,
                          [this, v = std::string(verb)](ActionCall& c) { return press(c, v); }});
  }
}

std::optional<AuditorRequest> RequestLog::load(std::string_view id) const {
  auto h = s_.store.hgetall(s_.store.keys().item(id));
  if (!h || (*h)["kind"] != "request") return std::nullopt;
  auto& m = *h;
  AuditorRequest r;
  r.id = m["id"];
  r.external_id = m["external_id"];
  r.text = m["text"];
  r.requested_by = m["requested_by"];
  r.references = split_refs(m["references"]);
  r.controls = split_refs(m["controls"]);
  r.sample_period = m["sample_period"];
  r.priority = m["priority"];
  r.comments = m["comments"];
  r.owner = m["owner"];
  r.due = m["due"];
  r.status = m["status"];
  r.created_at = m["created_at"];
  r.source = m["source"];
  r.thread = m["thread"];
  r.reply_thread = m["reply_thread"];
  r.link = m["link"];
  r.note = m["note"];
  r.submitted_by = m["submitted_by"];
  r.submissions = m["submissions"].empty() ? 0 : std::stoi(m["submissions"]);
  return r;
}

AuditorRequest RequestLog::require(std::string_view id) const {
  auto r = load(id);
  if (!r) throw NotFound("There is no request " + std::string(id) + ".");
  return *r;
}

void RequestLog::write(Txn& txn, const AuditorRequest& r) const {
  txn.hset(s_.store.keys().item(r.id), {{"kind", "request"},
                                        {"id", r.id},
                                        {"external_id", r.external_id},
                                        {"text", r.text},
                                        {"summary", r.text.substr(0, 120)},
                                        {"requested_by", r.requested_by},
                                        {"references", join(r.references, " ")},
                                        {"controls", join(r.controls, " ")},
                                        {"sample_period", r.sample_period},
                                        {"priority", r.priority},
                                        {"comments", r.comments},
                                        {"owner", r.owner},
                                        {"due", r.due},
                                        {"status", r.status},
                                        {"created_at", r.created_at},
                                        {"source", r.source},
                                        {"thread", r.thread},
                                        {"reply_thread", r.reply_thread},
                                        {"link", r.link},
                                        {"note", r.note},
                                        {"submitted_by", r.submitted_by},
                                        {"submissions", std::to_string(r.submissions)}});
}

void RequestLog::route(AuditorRequest& r) const {
  // Control ids named in the references or anywhere in the text pick the owner.
  std::vector<std::string> refs = r.references;
  for (const auto& w : split_refs(r.text))
    refs.push_back(w);
  for (const auto& ref : refs) {
    std::vector<std::string> ids;
    if (controls_.find(ref)) {
      ids.push_back(ref);
    } else if (tsc::find(ref)) {
      ids = s_.store.smembers(s_.store.keys().key("criterion:" + ref));
      std::sort(ids.begin(), ids.end());
    }
    for (const auto& id : ids) {
      if (std::find(r.controls.begin(), r.controls.end(), id) == r.controls.end())
        r.controls.push_back(id);
    }
  }
  if (r.owner.empty()) {
    for (const auto& id : r.controls) {
      auto c = controls_.find(id);
      if (c && !c->owner.empty() && s_.people.find(c->owner)) {
        r.owner = c->owner;
        break;
      }
    }
  }
  r.status = r.owner.empty() ? "new" : "assigned";
}

Message RequestLog::auditor_update(const AuditorRequest& r) const {
  // Only the id, the auditor's own reference and the status: never owners or notes.
  Message m;
  m.title = r.id + (r.external_id.empty() ? "" : " (" + r.external_id + ")") + ": " +
            auditor_status(r.status);
  if (r.reply_thread.empty()) {
    // One card per request at the channel's top level, updated in place.
    m.to = Recipient::channel("auditor");
    m.key = "req:" + r.id + ":auditor";
    m.text = r.text.substr(0, 300);
  } else {
    // A fresh reply per status under the auditor's own message, which already says what
    // was asked; a reply notifies the thread where an edit would not.
    m.to = Recipient::channel("auditor", r.reply_thread);
  }
  if (r.status == "sent" && !r.link.empty()) m.fields.push_back({"Evidence", r.link});
  return m;
}

Message RequestLog::owner_message(const AuditorRequest& r, const std::string& to) const {
  Message m;
  m.to = Recipient::person(to);
  m.key = "req:" + r.id + ":owner:" + to;
  m.title = "Auditor request " + r.id + (r.external_id.empty() ? "" : " (" + r.external_id + ")");
  m.text = r.text;
  if (!r.controls.empty()) m.fields.push_back({"Controls", join(r.controls, ", ")});
  if (!r.sample_period.empty()) m.fields.push_back({"Sample period", r.sample_period});
  m.fields.push_back({"Due", r.due});
  m.fields.push_back({"Status", label(r.status)});
  if (r.owner != to) {
    m.context = "Reassigned.";
    return m;
  }
  if (r.status == "assigned" || r.status == "follow_up") {
    m.buttons.push_back({"request.start", "Start", r.id, {}, Button::Style::normal});
  }
  if (r.status == "assigned" || r.status == "in_progress" || r.status == "follow_up") {
    m.buttons.push_back(
        {"request.submit",
         "Submit evidence",
         r.id,
         {{"link", "Link to the evidence", Input::Kind::url, false},
          {"note", "Note for the liaison (internal)", Input::Kind::multiline, true}},
         Button::Style::primary});
  }
  return m;
}

Message RequestLog::review_message(const AuditorRequest& r, const std::string& to) const {
  Message m;
  m.to = Recipient::person(to);
  m.key = "req:" + r.id + ":review:" + to;
  m.title = "Request evidence to review: " + r.id;
  m.text = r.text;
  const Person* by = s_.people.find(r.submitted_by);
  m.fields.push_back({"Submitted by", by ? display(*by) : r.submitted_by});
  m.fields.push_back({"Link", r.link});
  if (!r.note.empty()) m.fields.push_back({"Note", r.note});
  if (r.status == "in_review") {
    m.buttons.push_back({"request.send", "Send to the auditor", r.id, {}, Button::Style::primary});
    m.buttons.push_back({"request.return",
                         "Return to owner",
                         r.id,
                         {{"reason", "What is missing", Input::Kind::text, false}},
                         Button::Style::danger});
  } else {
    m.context = "Now " + label(r.status) + ".";
  }
  return m;
}

Message RequestLog::triage_message(const AuditorRequest& r, const std::string& to) const {
  Message m;
  m.to = Recipient::person(to);
  m.key = "req:" + r.id + ":triage:" + to;
  m.title = "Request to route: " + r.id;
  m.text = r.text;
  if (r.status == "new") {
    m.context = "No control matched; pick an owner.";
    m.buttons.push_back({"request.assign",
                         "Assign",
                         r.id,
                         {{"person", "Owner", Input::Kind::person, false}},
                         Button::Style::primary});
  } else {
    const Person* o = s_.people.find(r.owner);
    m.context = "Assigned to " + (o ? display(*o) : r.owner) + ".";
  }
  return m;
}

Reply RequestLog::finish(const CommitResult& res, Reply ok) const {
  if (res.status == CommitResult::Status::duplicate)
    return Reply::ok("That was already recorded; nothing changed.");
  if (res.status == CommitResult::Status::conflict) return Reply::fail(res.reason);
  return ok;
}

void RequestLog::create(Txn& txn, AuditorRequest& r, const std::string& actor) {
  const auto& k = s_.store.keys();
  txn.expect_absent(k.item(r.id), r.id + " already exists.");
  write(txn, r);
  const Date due = *parse_date(r.due);
  items::set_due(txn, k, r.id, due);
  txn.zadd(k.items_of_kind("request"), static_cast<double>(unix_millis(s_.clock.now())), r.id);
  if (!r.external_id.empty()) txn.hset(k.key("requests:external"), {{r.external_id, r.id}});
  if (r.owner.empty()) {
    txn.zadd(k.key("requests:triage"), items::due_score(due), r.id);
    for (const Person* l : s_.people.with_role(Role::liaison)) {
      items::assign(txn, k, r.id, l->id, due);
      txn.send(triage_message(r, l->id));
    }
  } else {
    items::assign(txn, k, r.id, r.owner, due);
    txn.send(owner_message(r, r.owner));
  }
  txn.audit(actor, "request.created", r.id,
            {{"external_id", r.external_id},
             {"owner", r.owner},
             {"controls", r.controls},
             {"due", r.due},
             {"status", r.status},
             {"source", r.source}});
}

Reply RequestLog::request(CommandCall& call) {
  if (const Token* t = call.args.peek(); t && t->kind == Token::Kind::item_id) {
    const std::string id = call.args.item_id("a request id");
    if (call.args.done()) return show(require(id), call.actor);
    const std::string verb = call.args.word("what to do");
    std::string a1, a2;
    if (verb == "assign") {
      a1 = call.args.mention("the new owner as @person");
    } else if (verb == "submit") {
      a1 = call.args.text("the evidence link");
      if (!call.args.done()) a2 = call.args.text("a note, in quotes");
    } else if (verb == "note" || verb == "return" || verb == "follow-up") {
      a1 = call.args.text("the text, in quotes");
    }
    call.args.expect_end();
    return transition(call.event, call.actor, id, verb, a1, a2);
  }
  const std::string sub = call.args.word("add, list, triage or a request id");
  if (sub == "add") return add(call);
  if (sub == "list") return list(call);
  if (sub == "triage") {
    require_role(call.actor, {Role::liaison, Role::admin}, "see the triage queue");
    call.args.expect_end();
    auto ids = s_.store.zrange_by_score(s_.store.keys().key("requests:triage"), -1e300, 1e300);
    std::string text = std::to_string(ids.size()) + " request(s) waiting for an owner";
    for (const auto& id : ids) {
      if (auto r = load(id))
        text += "\n" + r->id + " · due " + r->due + " · " + r->text.substr(0, 80);
    }
    return Reply::ok(text);
  }
  throw SyntaxError("unknown request command '" + sub + "'");
}

Reply RequestLog::add(CommandCall& call) {
  require_role(call.actor, {Role::liaison, Role::admin, Role::auditor}, "log auditor requests");
  if (call.args.done()) {
    // No arguments: the same fields as a form (a modal in Slack, a card in Teams).
    Reply r = Reply::ok("Fill in the auditor's request.");
    r.buttons.push_back(
        {"request.create",
         "Log a request",
         std::to_string(unix_millis(s_.clock.now())),
         {{"text", "What the auditor asks for", Input::Kind::multiline, false},
          {"control", "Control or criterion (AC-01, CC6.1)", Input::Kind::text, true},
          {"due", "Due date (2026-12-18, +5bd)", Input::Kind::date, true},
          {"owner", "Owner", Input::Kind::person, true}},
         Button::Style::primary});
    return r;
  }
  std::string text = trim(call.args.text("the request text, in quotes"));
  const Date today = s_.today_for(call.actor);
  std::optional<Date> due;
  std::string owner, control;
  while (!call.args.done()) {
    if (call.args.keyword("control")) {
      control = call.args.control("a control id such as AC-01");
    } else if (call.args.keyword("due")) {
      due = call.args.date("a due date like 2026-12-05, +3d or +3bd", today, s_.calendar);
    } else if (call.args.keyword("owner")) {
      owner = require_person(s_.people, call.args.mention("the owner as @person")).id;
    } else {
      throw SyntaxError("unexpected '" + call.args.next("").text +
                        "' (expected control, due or owner)");
    }
  }
  Txn txn = s_.txn_for(call.event);
  return create_request(txn, call.actor, text, control, due, owner);
}

Reply RequestLog::add_from_form(ActionCall& call) {
  require_role(call.actor, {Role::liaison, Role::admin, Role::auditor}, "log auditor requests");
  auto input = [&](const char* k) {
    auto it = call.press.inputs.find(k);
    return it == call.press.inputs.end() ? std::string() : trim(it->second);
  };
  const Date today = s_.today_for(call.actor);
  std::optional<Date> due;
  if (!input("due").empty()) {
    Args a(tokenize(input("due")));
    due = a.date("a due date like 2026-12-05, +3d or +3bd", today, s_.calendar);
    a.expect_end();
  }
  std::string control = input("control");
  if (!control.empty()) {
    Args a(tokenize(control));
    control = a.control("a control id such as AC-01");
    a.expect_end();
  }
  std::string owner = input("owner");
  if (!owner.empty() && owner.front() == '@') owner.erase(0, 1);
  if (!owner.empty()) owner = require_person(s_.people, owner).id;
  if (input("text").empty()) throw UserError("Say what the auditor asks for.");
  Txn txn = s_.txn_for(call.event);
  // One form logs one request, however often it is submitted.
  txn.claim_once(s_.store.keys().key("request-form:" + call.actor.id + ":" + call.press.value),
                 std::chrono::hours(24 * 7));
  return create_request(txn, call.actor, input("text"), control, due, owner);
}

Reply RequestLog::create_request(Txn& txn, const Person& actor, const std::string& text,
                                 const std::string& control, std::optional<Date> due,
                                 const std::string& owner) {
  AuditorRequest r;
  r.text = text;
  const Date today = s_.today_for(actor);
  if (r.text.empty()) throw SyntaxError("say what the auditor asks for, in quotes");
  if (r.text.size() > kMaxText)
    throw UserError("The request text is too long (over 4000 characters).");
  if (!owner.empty() && has_any_role(actor, {Role::auditor}) &&
      !has_any_role(actor, {Role::liaison, Role::admin})) {
    throw Forbidden("Only a liaison or admin can choose the owner of a request.");
  }
  if (!control.empty()) r.references.push_back(controls_.resolve(control).id);
  if (!due) due = s_.calendar.add_business_days(today, s_.config.request_sla_business_days);
  if (std::chrono::sys_days(*due) < std::chrono::sys_days(today))
    throw UserError("The due date " + format_date(*due) + " is in the past.");
  r.owner = owner;
  r.due = format_date(*due);
  r.requested_by = actor.id;
  r.created_at = format_iso8601(s_.clock.now());
  r.source = "command";
  route(r);
  r.id = "REQ-" + std::to_string(s_.store.next_number("req"));
  create(txn, r, actor.id);
  txn.send(auditor_update(r));
  const Person* o = s_.people.find(r.owner);
  return finish(s_.store.commit(txn), Reply::ok("Logged " + r.id + ", due " + r.due + "; " +
                                                (o ? "routed to " + display(*o) + "."
                                                   : "in the liaison's triage queue.")));
}

Reply RequestLog::track(const InboundEvent& e, const Person& actor, const std::string& text,
                        const std::string& author, const std::string& thread,
                        const std::string& reply_thread) {
  require_role(actor, {Role::liaison, Role::admin, Role::auditor}, "track auditor messages");
  AuditorRequest r;
  r.text = trim(text);
  if (r.text.empty()) throw UserError("That message has no text to track.");
  if (r.text.size() > kMaxText) r.text = r.text.substr(0, kMaxText);
  // Tracking the same message twice gives the same request.
  const auto key = s_.store.keys().key("requests:thread");
  if (auto h = s_.store.hgetall(key); h && !thread.empty() && h->count(thread)) {
    return Reply::ok("Already tracked as " + h->at(thread) + ".");
  }
  const Date today = BusinessCalendar::local_date(s_.clock.now(), s_.config.org_timezone);
  r.due = format_date(s_.calendar.add_business_days(today, s_.config.request_sla_business_days));
  r.requested_by = author;
  r.created_at = format_iso8601(s_.clock.now());
  r.source = "tracked";
  r.thread = thread;
  r.reply_thread = reply_thread;
  route(r);
  r.id = "REQ-" + std::to_string(s_.store.next_number("req"));
  Txn txn = s_.txn_for(e);
  if (!thread.empty()) {
    txn.expect_field(key, thread, "", "That message is already tracked.");
    txn.hset(key, {{thread, r.id}});
  }
  create(txn, r, actor.id);
  txn.send(auditor_update(r));
  return finish(s_.store.commit(txn), Reply::ok("Tracking this message as " + r.id + "."));
}

Reply RequestLog::list(CommandCall& call) {
  std::string filter = "open", control;
  if (!call.args.done()) {
    filter = call.args.word("open, overdue, mine or control <id>");
    if (filter == "control") control = controls_.resolve(call.args.control("a control id")).id;
    if (filter != "open" && filter != "overdue" && filter != "mine" && filter != "control" &&
        filter != "all")
      throw SyntaxError("unknown filter '" + filter +
                        "' (expected open, overdue, mine or control <id>)");
  }
  call.args.expect_end();
  const bool auditor_view = has_any_role(call.actor, {Role::auditor}) &&
                            !has_any_role(call.actor, {Role::liaison, Role::admin});
  const Date today = s_.today_for(call.actor);
  auto ids =
      s_.store.zrange_by_score(s_.store.keys().items_of_kind("request"), -1e300, 1e300, 100000);
  std::string text;
  std::size_t n = 0;
  for (const auto& id : ids) {
    auto r = load(id);
    if (!r) continue;
    const bool open = r->status != "accepted";
    if (filter == "open" && !open) continue;
    if (filter == "overdue" && !(open && r->due < format_date(today))) continue;
    if (filter == "mine" && r->owner != call.actor.id) continue;
    if (filter == "control" &&
        std::find(r->controls.begin(), r->controls.end(), control) == r->controls.end())
      continue;
    text += "\n" + r->id + (r->external_id.empty() ? "" : " (" + r->external_id + ")") + " · " +
            (auditor_view ? auditor_status(r->status) : label(r->status)) + " · due " + r->due;
    if (!auditor_view) text += " · " + (r->owner.empty() ? std::string("triage") : "@" + r->owner);
    text += " · " + r->text.substr(0, 80);
    ++n;
  }
  return Reply::ok(std::to_string(n) + " request(s) (" + filter +
                   (control.empty() ? "" : " " + control) + ")" + (n ? ":" : ".") + text);
}

Reply RequestLog::show(const AuditorRequest& r, const Person& actor) const {
  const bool internal =
      has_any_role(actor, {Role::liaison, Role::admin, Role::approver}) || actor.id == r.owner;
  const bool auditor = has_any_role(actor, {Role::auditor});
  if (!internal && !auditor)
    throw Forbidden("Only the owner, a liaison or an auditor can see " + r.id + ".");
  Reply out = Reply::ok(r.id + (r.external_id.empty() ? "" : " (" + r.external_id + ")") + " · " +
                        (internal ? label(r.status) : auditor_status(r.status)) + "\n" + r.text);
  out.fields.push_back({"Due", r.due});
  if (!r.references.empty()) out.fields.push_back({"References", join(r.references, ", ")});
  if (!r.sample_period.empty()) out.fields.push_back({"Sample period", r.sample_period});
  if (internal) {
    const Person* o = s_.people.find(r.owner);
    out.fields.push_back({"Owner", o ? display(*o) : "triage (no owner yet)"});
    if (!r.controls.empty()) out.fields.push_back({"Controls", join(r.controls, ", ")});
    if (!r.link.empty()) out.fields.push_back({"Latest evidence", r.link});
    for (const auto& h : s_.store.lrange(s_.store.keys().item_history(r.id))) {
      auto j = nlohmann::json::parse(h, nullptr, false);
      if (j.is_object() && j.value("kind", "") == "note")
        out.fields.push_back({"Note by @" + j.value("by", ""), j.value("text", "")});
    }
  } else if (r.status == "sent" || r.status == "accepted") {
    out.fields.push_back({"Evidence", r.link});
  }
  return out;
}

Reply RequestLog::press(ActionCall& call, const std::string& verb) {
  auto input = [&](const char* k) {
    auto it = call.press.inputs.find(k);
    return it == call.press.inputs.end() ? std::string() : trim(it->second);
  };
  std::string a1, a2;
  if (verb == "submit") {
    a1 = input("link");
    a2 = input("note");
  } else if (verb == "return") {
    a1 = input("reason");
  } else if (verb == "assign") {
    a1 = input("person");
    if (!a1.empty() && a1.front() == '@') a1.erase(0, 1);
  }
  return transition(call.event, call.actor, call.press.value, verb, a1, a2);
}

Reply RequestLog::transition(const InboundEvent& e, const Person& actor, const std::string& id,
                             const std::string& verb, const std::string& arg1,
                             const std::string& arg2) {
  AuditorRequest r = require(id);
  const auto& k = s_.store.keys();
  const bool liaison = has_any_role(actor, {Role::liaison, Role::admin});
  const bool auditor = has_any_role(actor, {Role::auditor});
  const std::string from = r.status;
  const std::string from_owner = r.owner;
  const std::string now = format_iso8601(s_.clock.now());
  nlohmann::json history{{"at", now}, {"by", actor.id}, {"from", from}};
  std::string to = from;
  std::string reply;
  auto need = [&](const std::string& next) {
    if (!allowed(from, next)) {
      throw Conflict(r.id + " is " + label(from) + "; it can't go to " + label(next) + ".");
    }
    to = next;
  };
  auto owner_only = [&] {
    if (actor.id != r.owner) throw Forbidden("Only the owner of " + r.id + " can do that.");
  };

  if (verb == "assign") {
    if (!liaison) throw Forbidden("Only a liaison or admin can route requests.");
    const Person& p = require_person(s_.people, arg1);
    if (from == "sent" || from == "accepted" || from == "in_review")
      throw Conflict(r.id + " is " + label(from) + "; it can't be reassigned now.");
    if (p.id == r.owner) throw UserError(display(p) + " already owns " + r.id + ".");
    if (from == "new") need("assigned");
    r.owner = p.id;
    history["kind"] = "assigned";
    history["owner"] = p.id;
    reply = r.id + " is now assigned to " + display(p) + ".";
  } else if (verb == "start") {
    owner_only();
    need("in_progress");
    history["kind"] = "started";
    reply = r.id + " is in progress.";
  } else if (verb == "submit") {
    owner_only();
    if (from == "assigned" || from == "follow_up") {
      // Submitting straight away also starts the work: two checked steps in one change.
      need("in_progress");
    }
    const std::string mid = to;
    if (!allowed(mid, "in_review"))
      throw Conflict(r.id + " is " + label(from) + "; nothing to submit now.");
    to = "in_review";
    if (!looks_like_url(arg1))
      throw UserError("The evidence link must be a web address starting with https:// or http://.");
    if (arg2.size() > 2000) throw UserError("The note is too long (over 2000 characters).");
    r.link = arg1;
    r.note = arg2;
    r.submitted_by = actor.id;
    r.submissions += 1;
    history["kind"] = "submitted";
    history["link"] = r.link;
    history["note"] = r.note;
    history["submission"] = r.submissions;
    reply = "Submitted evidence for " + r.id +
            "; a liaison will review it before it goes to the auditor.";
  } else if (verb == "note") {
    if (!liaison && actor.id != r.owner)
      throw Forbidden("Only the owner or a liaison can add notes.");
    if (arg1.empty()) throw UserError("Say what the note is, in quotes.");
    history["kind"] = "note";
    history["text"] = arg1;
    reply = "Added an internal note to " + r.id + " (never shown to the auditor).";
  } else if (verb == "send") {
    if (!liaison) throw Forbidden("Only a liaison or admin can send evidence to the auditor.");
    if (actor.id == r.submitted_by)
      throw Forbidden("You submitted this evidence, so someone else has to send it.");
    need("sent");
    history["kind"] = "sent";
    history["link"] = r.link;
    reply = "Sent the evidence for " + r.id + " to the auditor.";
  } else if (verb == "return") {
    if (!liaison) throw Forbidden("Only a liaison or admin can return evidence.");
    if (arg1.empty()) throw UserError("Say what is missing; the owner sees it.");
    need("in_progress");
    history["kind"] = "returned";
    history["reason"] = arg1;
    reply = "Returned " + r.id + " to its owner.";
  } else if (verb == "follow-up") {
    if (!liaison && !auditor) throw Forbidden("Only the auditor or a liaison can ask a follow-up.");
    need("follow_up");
    history["kind"] = "follow_up";
    history["text"] = arg1;
    reply = r.id + " needs a follow-up; the owner has been told.";
  } else if (verb == "accept") {
    if (!liaison && !auditor)
      throw Forbidden("Only the auditor or a liaison can accept a request.");
    need("accepted");
    history["kind"] = "accepted";
    reply = r.id + " is accepted.";
  } else {
    throw SyntaxError("unknown request action '" + verb + "'");
  }
  r.status = to;
  history["to"] = to;

  Txn txn = s_.txn_for(e);
  txn.expect_field(k.item(r.id), "status", from, r.id + " changed meanwhile; nothing was done.");
  txn.expect_field(k.item(r.id), "owner", from_owner, r.id + " was reassigned meanwhile.");
  write(txn, r);
  txn.rpush(k.item_history(r.id), history.dump());
  const Date due = *parse_date(r.due);
  if (verb == "assign") {
    txn.zrem(k.key("requests:triage"), r.id);
    if (from_owner.empty()) {
      for (const Person* l : s_.people.with_role(Role::liaison)) {
        items::unassign(txn, k, r.id, l->id);
        txn.send(triage_message(r, l->id));
      }
    } else {
      items::unassign(txn, k, r.id, from_owner);
      txn.send(owner_message(r, from_owner));
    }
    items::assign(txn, k, r.id, r.owner, due);
    txn.send(owner_message(r, r.owner));
  } else if (verb == "submit") {
    txn.send(owner_message(r, r.owner));
    for (const Person* l : s_.people.with_role(Role::liaison)) {
      items::assign(txn, k, r.id, l->id, due);
      txn.send(review_message(r, l->id));
    }
  } else if (verb == "send" || verb == "return") {
    for (const Person* l : s_.people.with_role(Role::liaison)) {
      items::unassign(txn, k, r.id, l->id);
      txn.send(review_message(r, l->id));
    }
    if (verb == "send") {
      items::unassign(txn, k, r.id, r.owner);
    } else {
      Message m = owner_message(r, r.owner);
      m.context = "Returned by the liaison: " + arg1;
      txn.send(m);
    }
  } else if (verb == "follow-up") {
    items::assign(txn, k, r.id, r.owner, due);
    Message m = owner_message(r, r.owner);
    m.context = "The auditor asked a follow-up" + (arg1.empty() ? "." : ": " + arg1);
    txn.send(m);
  } else if (verb == "start") {
    txn.send(owner_message(r, r.owner));
  }
  if (r.status == "accepted") {
    items::unassign(txn, k, r.id, r.owner);
    items::resolved(txn, k, r.id);
  }
  // The auditor side hears about status changes and nothing else.
  if (auditor_status(from) != auditor_status(to)) txn.send(auditor_update(r));
  nlohmann::json detail{{"from", from}, {"to", to}};
  if (verb == "assign") detail["owner"] = r.owner;
  if (verb == "submit") detail["link"] = r.link;
  txn.audit(actor.id, "request." + (verb == "follow-up" ? std::string("follow_up") : verb), r.id,
            detail);
  return finish(s_.store.commit(txn), Reply::ok(reply));
}

std::vector<std::string> RequestLog::import_csv(std::string_view text, const std::string& actor,
                                                const RequestColumnMap& columns) {
  const auto rows = csv::parse(text);
  if (rows.empty()) throw ImportError("the file is empty (expected a header row)");
  std::map<std::string, std::size_t> col;
  std::map<std::string, std::string> mapped_header;  // normalised header -> field
  for (const auto& [field, header] : columns)
    mapped_header[header] = field;
  for (std::size_t i = 0; i < rows[0].size(); ++i) {
    const auto h = normalise_header(rows[0][i]);
    std::string field;
    if (auto m = mapped_header.find(h); m != mapped_header.end()) {
      field = m->second;
    } else if (auto a = header_aliases().find(h); a != header_aliases().end()) {
      field = a->second;
      if (columns.count(field)) continue;  // the mapping chose another column for it
    } else {
      continue;  // columns we do not use (status, auditor name...) are ignored
    }
    if (!col.emplace(field, i).second) bad(1, rows[0][i], "two columns mean " + field);
  }
  for (const auto& [field, header] : columns) {
    if (!col.count(field)) bad(1, field, "no column named '" + header + "'");
  }
  if (!col.count("description")) {
    bad(1, "description", "no description column (map one with description=<header>)");
  }
  const Date today = BusinessCalendar::local_date(s_.clock.now(), s_.config.org_timezone);
  const auto existing = s_.store.hgetall(s_.store.keys().key("requests:external"));
  std::map<std::string, std::size_t> ext_seen;
  std::vector<AuditorRequest> out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::size_t row = i + 1;
    auto get = [&](const char* f) -> std::string {
      auto it = col.find(f);
      if (it == col.end() || it->second >= rows[i].size()) return {};
      return trim(rows[i][it->second]);
    };
    AuditorRequest r;
    r.external_id = get("request id");
    r.text = get("description");
    if (r.text.empty()) bad(row, "description", "empty");
    if (r.text.size() > kMaxText) bad(row, "description", "over 4000 characters");
    if (!r.external_id.empty()) {
      auto [it, fresh] = ext_seen.emplace(r.external_id, row);
      if (!fresh)
        bad(row, "request id", "'" + r.external_id + "' repeats row " + std::to_string(it->second));
      if (existing && existing->count(r.external_id)) {
        bad(row, "request id",
            "'" + r.external_id + "' is already logged as " + existing->at(r.external_id));
      }
    }
    for (const auto& ref : split_refs(get("reference"))) {
      if (!tsc::find(ref) && !controls_.find(ref)) {
        bad(row, "reference", "'" + ref + "' is not a TSC criterion or a control id");
      }
      r.references.push_back(ref);
    }
    if (auto o = get("owner"); !o.empty()) {
      if (o.front() == '@') o.erase(0, 1);
      const Person* p = s_.people.resolve_mention(o);
      if (!p) bad(row, "owner", "unknown person '" + o + "'");
      r.owner = p->id;
    }
    if (auto d = get("due date"); !d.empty()) {
      auto due = parse_sheet_date(d);
      if (!due) bad(row, "due date", "'" + d + "' is not a date (YYYY-MM-DD or MM/DD/YYYY)");
      r.due = format_date(*due);
    } else {
      r.due =
          format_date(s_.calendar.add_business_days(today, s_.config.request_sla_business_days));
    }
    r.sample_period = get("sample period");
    r.priority = get("priority");
    if (r.priority.size() > 40) bad(row, "priority", "over 40 characters");
    r.comments = get("comments");
    r.requested_by = "auditor";
    r.created_at = format_iso8601(s_.clock.now());
    r.source = "csv";
    route(r);
    out.push_back(std::move(r));
  }
  if (out.empty()) throw ImportError("the file has a header but no requests");
  Txn txn;
  std::vector<std::string> ids;
  for (auto& r : out) {
    r.id = "REQ-" + std::to_string(s_.store.next_number("req"));
    create(txn, r, actor);
    ids.push_back(r.id);
  }
  Message summary;
  summary.to = Recipient::channel("auditor");
  summary.title = "Received " + std::to_string(ids.size()) + " requests";
  summary.text = ids.front() + " to " + ids.back() + " are logged; status updates follow here.";
  txn.send(summary);
  txn.audit(actor, "requests.imported", "", {{"ids", ids}});
  const auto res = s_.store.commit(txn);
  if (!res.ok()) throw Conflict("The request log changed meanwhile; nothing was imported.");
  return ids;
}

std::string RequestLog::export_csv() const {
  std::string out = csv::line({"id", "request_id", "description", "references", "controls", "owner",
                               "due", "status", "sample_period", "priority", "comments", "source",
                               "created_at", "history"});
  auto ids =
      s_.store.zrange_by_score(s_.store.keys().items_of_kind("request"), -1e300, 1e300, 10000000);
  for (const auto& id : ids) {
    auto r = load(id);
    if (!r) continue;
    std::string history;
    for (const auto& h : s_.store.lrange(s_.store.keys().item_history(r->id))) {
      auto j = nlohmann::json::parse(h, nullptr, false);
      if (!j.is_object()) continue;
      std::string line = j.value("at", "") + " " + j.value("kind", "") + " by " + j.value("by", "");
      if (j.contains("link")) line += " " + j.value("link", "");
      if (!history.empty()) history += '\n';
      history += line;
    }
    out += csv::line({r->id, r->external_id, r->text, join(r->references, " "),
                      join(r->controls, " "), r->owner, r->due, r->status, r->sample_period,
                      r->priority, r->comments, r->source, r->created_at, history});
  }
  return out;
}

}  // namespace auditbot
