#include "handlers/evidence_asks.hpp"

#include <chrono>

#include "bot/errors.hpp"
#include "handlers/evidence.hpp"
#include "handlers/items.hpp"

namespace auditbot {
namespace {

constexpr std::string_view kUsage =
    "/soc2 ask @owner <control> \"<what is needed>\" [due <date>] [period <period>]  |  "
    "/soc2 ask ASK-n";
constexpr std::size_t kMaxText = 1000;

std::string status_label(const EvidenceAsk& a) {
  if (a.status == "open" && !a.reject_reason.empty()) return "rejected, waiting for new evidence";
  if (a.status == "open") return "waiting for evidence";
  if (a.status == "in_review") return "in review";
  return a.status;
}

// Button values: "ASK-3" for the owner's buttons, "ASK-3/2" for the review of submission 2.
std::pair<std::string, int> parse_value(const std::string& v) {
  auto slash = v.find('/');
  if (slash == std::string::npos) return {v, 0};
  try {
    return {v.substr(0, slash), std::stoi(v.substr(slash + 1))};
  } catch (const std::exception&) {
    throw UserError("That button is damaged; use /soc2 mine to find the item.");
  }
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

}  // namespace

void EvidenceAsks::register_with(Router& router) {
  router.add(CommandSpec{"ask", std::string(kUsage),
                         "Ask a control owner for evidence, or show an ask",
                         [this](CommandCall& c) { return ask(c); }});
  router.add(ActionSpec{"ask.submit", [this](ActionCall& c) { return submit(c); }});
  router.add(ActionSpec{"ask.more_time", [this](ActionCall& c) { return more_time(c); }});
  router.add(ActionSpec{"ask.reassign", [this](ActionCall& c) { return reassign(c); }});
  router.add(ActionSpec{"ask.accept", [this](ActionCall& c) { return decide(c, true); }});
  router.add(ActionSpec{"ask.reject", [this](ActionCall& c) { return decide(c, false); }});
}

std::optional<EvidenceAsk> EvidenceAsks::load(std::string_view id) const {
  auto h = s_.store.hgetall(s_.store.keys().item(id));
  if (!h || h->count("kind") == 0 || h->at("kind") != "ask") return std::nullopt;
  auto& m = *h;
  auto num = [&](const char* k) { return m[k].empty() ? 0 : std::stoi(m[k]); };
  EvidenceAsk a;
  a.id = m["id"];
  a.status = m["status"];
  a.owner = m["owner"];
  a.control = m["control"];
  a.what = m["what"];
  a.due = m["due"];
  a.period = m["period"];
  a.created_by = m["created_by"];
  a.created_at = m["created_at"];
  a.reviewer = m["reviewer"];
  a.submissions = num("submissions");
  a.link = m["link"];
  a.note = m["note"];
  a.submitted_by = m["submitted_by"];
  a.submitted_at = m["submitted_at"];
  a.decided_by = m["decided_by"];
  a.decided_at = m["decided_at"];
  a.reject_reason = m["reject_reason"];
  a.extensions = num("extensions");
  return a;
}

EvidenceAsk EvidenceAsks::require(std::string_view id) const {
  auto a = load(id);
  if (!a) throw NotFound("There is no evidence ask " + std::string(id) + ".");
  return *a;
}

void EvidenceAsks::write(Txn& txn, const EvidenceAsk& a) const {
  txn.hset(s_.store.keys().item(a.id), {{"kind", "ask"},
                                        {"id", a.id},
                                        {"status", a.status},
                                        {"owner", a.owner},
                                        {"control", a.control},
                                        {"what", a.what},
                                        {"summary", a.control + ": " + a.what},
                                        {"due", a.due},
                                        {"period", a.period},
                                        {"created_by", a.created_by},
                                        {"created_at", a.created_at},
                                        {"reviewer", a.reviewer},
                                        {"submissions", std::to_string(a.submissions)},
                                        {"link", a.link},
                                        {"note", a.note},
                                        {"submitted_by", a.submitted_by},
                                        {"submitted_at", a.submitted_at},
                                        {"decided_by", a.decided_by},
                                        {"decided_at", a.decided_at},
                                        {"reject_reason", a.reject_reason},
                                        {"extensions", std::to_string(a.extensions)}});
}

Message EvidenceAsks::owner_message(const EvidenceAsk& a, const std::string& owner) const {
  Message m;
  m.to = Recipient::person(owner);
  m.key = "ask:" + a.id + ":owner:" + owner;
  m.title = "Evidence needed: " + a.id;
  m.text = a.what;
  std::string control = a.control;
  if (auto c = controls_.find(a.control); c && !c->title.empty()) control += " — " + c->title;
  m.fields.push_back({"Control", control});
  m.fields.push_back({"Due", a.due});
  if (!a.period.empty()) m.fields.push_back({"Period to cover", a.period});
  const Person* asker = s_.people.find(a.created_by);
  m.fields.push_back({"Asked by", asker ? display(*asker) : a.created_by});
  m.fields.push_back({"Status", status_label(a)});
  if (a.owner != owner) {
    const Person* now = s_.people.find(a.owner);
    m.context = "Reassigned to " + (now ? display(*now) : a.owner) + ".";
    return m;
  }
  if (a.status == "open") {
    if (!a.reject_reason.empty()) m.context = "Rejected: " + a.reject_reason;
    m.buttons.push_back({"ask.submit",
                         "Submit evidence",
                         a.id,
                         {{"link", "Link to the evidence", Input::Kind::url, false},
                          {"note", "Note for the reviewer", Input::Kind::multiline, true}},
                         Button::Style::primary});
    m.buttons.push_back({"ask.more_time",
                         "Need more time",
                         a.id,
                         {{"date", "New due date", Input::Kind::date, false},
                          {"reason", "Why", Input::Kind::text, false}},
                         Button::Style::normal});
    m.buttons.push_back({"ask.reassign",
                         "Reassign",
                         a.id,
                         {{"person", "New owner", Input::Kind::person, false}},
                         Button::Style::normal});
  } else if (a.status == "in_review") {
    m.context = "Submitted " + a.submitted_at.substr(0, 10) + "; waiting for review.";
  } else if (a.status == "accepted") {
    const Person* by = s_.people.find(a.decided_by);
    m.context = "Accepted by " + (by ? display(*by) : a.decided_by) + " on " +
                a.decided_at.substr(0, 10) + ".";
  }
  return m;
}

Message EvidenceAsks::review_message(const EvidenceAsk& a) const {
  Message m;
  m.to = Recipient::person(a.reviewer);
  m.key = "ask:" + a.id + ":review:" + std::to_string(a.submissions);
  m.title = "Evidence to review: " + a.id;
  m.text = a.what;
  const Person* by = s_.people.find(a.submitted_by);
  m.fields.push_back({"Control", a.control});
  m.fields.push_back({"Submitted by", by ? display(*by) : a.submitted_by});
  m.fields.push_back({"Link", a.link});
  if (!a.note.empty()) m.fields.push_back({"Note", a.note});
  if (!a.period.empty()) m.fields.push_back({"Period to cover", a.period});
  m.fields.push_back({"Due", a.due});
  const std::string value = a.id + "/" + std::to_string(a.submissions);
  if (a.status == "in_review") {
    m.buttons.push_back({"ask.accept", "Accept", value, {}, Button::Style::primary});
    m.buttons.push_back({"ask.reject",
                         "Reject",
                         value,
                         {{"reason", "Why it is rejected", Input::Kind::text, false}},
                         Button::Style::danger});
  } else {
    const Person* d = s_.people.find(a.decided_by);
    m.context = (a.status == "accepted" ? "Accepted by " : "Rejected by ") +
                (d ? display(*d) : a.decided_by) + ".";
  }
  return m;
}

Reply EvidenceAsks::finish(const CommitResult& r, Reply on_success) const {
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

Reply EvidenceAsks::ask(CommandCall& call) {
  if (const Token* t = call.args.peek(); t && t->kind == Token::Kind::item_id) {
    const std::string id = call.args.item_id("an ask id");
    call.args.expect_end();
    return show(require(id), call.actor);
  }
  require_role(call.actor, {Role::liaison, Role::admin}, "create evidence asks");
  const Person& owner = require_person(s_.people, call.args.mention("the owner as @person"));
  const std::string control_id = call.args.control("a control id such as CC6.1");
  std::string what = call.args.text("what is needed, in quotes");
  const Date today = s_.today_for(call.actor);
  std::optional<Date> due;
  std::string period;
  while (!call.args.done()) {
    if (call.args.keyword("due")) {
      due = call.args.date("a due date like 2026-12-05, +3d or +3bd", today, s_.calendar);
    } else if (call.args.keyword("period")) {
      period = call.args.text("the period to cover, such as 2026-Q3");
    } else {
      throw SyntaxError("unexpected '" + call.args.next("").text + "' (expected due or period)");
    }
  }
  if (what.empty()) throw SyntaxError("say what is needed, in quotes");
  if (what.size() > kMaxText)
    throw UserError("The description is too long (over 1000 characters).");
  const auto control = controls_.resolve(control_id);
  if (!due)
    due = s_.calendar.add_business_days(today, s_.config.evidence_default_sla_business_days);
  if (std::chrono::sys_days(*due) < std::chrono::sys_days(today)) {
    throw UserError("The due date " + format_date(*due) + " is in the past.");
  }

  EvidenceAsk a;
  a.id = "ASK-" + std::to_string(s_.store.next_number("ask"));
  a.status = "open";
  a.owner = owner.id;
  a.control = control.id;
  a.what = what;
  a.due = format_date(*due);
  a.period = period;
  a.created_by = call.actor.id;
  a.created_at = format_iso8601(s_.clock.now());
  a.reviewer = call.actor.id;
  if (a.reviewer == a.owner) {
    // Nobody reviews their own evidence: hand the review to another liaison or admin.
    for (Role r : {Role::liaison, Role::admin}) {
      for (const Person* p : s_.people.with_role(r)) {
        if (p->id != a.owner && a.reviewer == a.owner) a.reviewer = p->id;
      }
    }
  }

  Txn txn = s_.txn_for(call.event);
  txn.expect_absent(s_.store.keys().item(a.id), a.id + " already exists.");
  write(txn, a);
  items::assign(txn, s_.store.keys(), a.id, a.owner, *due);
  items::set_due(txn, s_.store.keys(), a.id, *due);
  txn.zadd(s_.store.keys().items_of_kind("ask"), static_cast<double>(unix_millis(s_.clock.now())),
           a.id);
  txn.audit(call.actor.id, "ask.created", a.id,
            {{"owner", a.owner},
             {"control", a.control},
             {"what", a.what},
             {"due", a.due},
             {"period", a.period}});
  txn.send(owner_message(a, a.owner));
  return finish(s_.store.commit(txn),
                Reply::ok("Created " + a.id + " for " + display(owner) + ": " + a.control + " “" +
                          a.what + "”, due " + a.due + ". I've sent them a DM."));
}

std::string EvidenceAsks::create_automatic(Txn txn, const Control& control, const std::string& what,
                                           Date due, const std::string& period) {
  EvidenceAsk a;
  a.id = "ASK-" + std::to_string(s_.store.next_number("ask"));
  a.status = "open";
  a.owner = control.owner;
  a.control = control.id;
  a.what = what;
  a.due = format_date(due);
  a.period = period;
  a.created_by = "system";
  a.created_at = format_iso8601(s_.clock.now());
  for (Role r : {Role::admin, Role::liaison}) {
    for (const Person* p : s_.people.with_role(r)) {
      if (p->id != a.owner) a.reviewer = p->id;
    }
  }
  txn.expect_absent(s_.store.keys().item(a.id), a.id + " already exists.");
  write(txn, a);
  items::assign(txn, s_.store.keys(), a.id, a.owner, due);
  items::set_due(txn, s_.store.keys(), a.id, due);
  txn.zadd(s_.store.keys().items_of_kind("ask"), static_cast<double>(unix_millis(s_.clock.now())),
           a.id);
  txn.audit("system", "ask.created", a.id,
            {{"owner", a.owner},
             {"control", a.control},
             {"what", a.what},
             {"due", a.due},
             {"period", a.period},
             {"reason", "evidence expires soon"}});
  txn.send(owner_message(a, a.owner));
  return s_.store.commit(txn).ok() ? a.id : "";
}

Reply EvidenceAsks::show(const EvidenceAsk& a, const Person& actor) const {
  const bool may_see = actor.id == a.owner || actor.id == a.reviewer ||
                       has_any_role(actor, {Role::liaison, Role::admin, Role::approver});
  if (!may_see) throw Forbidden("Only the owner, a liaison or an admin can see " + a.id + ".");
  Reply r = Reply::ok(a.id + " · " + a.control + " · " + status_label(a) + "\n" + a.what);
  const Person* owner = s_.people.find(a.owner);
  r.fields.push_back({"Owner", owner ? display(*owner) : a.owner});
  r.fields.push_back({"Due", a.due});
  if (!a.period.empty()) r.fields.push_back({"Period to cover", a.period});
  if (!a.link.empty()) r.fields.push_back({"Latest evidence", a.link});
  if (!a.reject_reason.empty()) r.fields.push_back({"Rejected because", a.reject_reason});
  return r;
}

Reply EvidenceAsks::submit(ActionCall& call) {
  auto [id, n] = parse_value(call.press.value);
  EvidenceAsk a = require(id);
  if (a.owner != call.actor.id) {
    const Person* o = s_.people.find(a.owner);
    throw Forbidden(a.id + " is assigned to " + (o ? display(*o) : a.owner) +
                    "; only they can submit its evidence.");
  }
  if (a.status != "open") throw Conflict(a.id + " is " + status_label(a) + "; nothing to submit.");
  const std::string link = input(call.press, "link");
  const std::string note = input(call.press, "note");
  if (!looks_like_url(link)) {
    throw UserError("The evidence link must be a web address starting with https:// or http://.");
  }
  if (note.size() > 2000) throw UserError("The note is too long (over 2000 characters).");
  const std::string previous_status = a.status;
  a.status = "in_review";
  a.link = link;
  a.note = note;
  a.submitted_by = call.actor.id;
  a.submitted_at = format_iso8601(s_.clock.now());
  a.submissions += 1;
  a.reject_reason.clear();

  Txn txn = s_.txn_for(call.event);
  txn.expect_field(s_.store.keys().item(a.id), "status", previous_status,
                   a.id + " changed meanwhile; nothing was submitted.");
  txn.expect_field(s_.store.keys().item(a.id), "owner", a.owner,
                   a.id + " was reassigned meanwhile; nothing was submitted.");
  write(txn, a);
  txn.rpush(s_.store.keys().item_history(a.id), nlohmann::json{{"submission", a.submissions},
                                                               {"by", a.submitted_by},
                                                               {"at", a.submitted_at},
                                                               {"link", a.link},
                                                               {"note", a.note},
                                                               {"period", a.period}}
                                                    .dump());
  items::assign(txn, s_.store.keys(), a.id, a.reviewer, *parse_date(a.due));
  txn.audit(call.actor.id, "ask.submitted", a.id,
            {{"submission", a.submissions}, {"link", a.link}, {"note", a.note}});
  txn.send(owner_message(a, a.owner));
  txn.send(review_message(a));
  const Person* reviewer = s_.people.find(a.reviewer);
  return finish(s_.store.commit(txn),
                Reply::ok("Submitted evidence for " + a.id + "; " +
                          (reviewer ? display(*reviewer) : a.reviewer) + " will review it."));
}

Reply EvidenceAsks::more_time(ActionCall& call) {
  auto [id, n] = parse_value(call.press.value);
  EvidenceAsk a = require(id);
  if (a.owner != call.actor.id)
    throw Forbidden("Only the owner of " + a.id + " can ask for more time.");
  if (a.status != "open")
    throw Conflict(a.id + " is " + status_label(a) + "; its due date is fixed.");
  const std::string reason = input(call.press, "reason");
  if (reason.empty()) throw UserError("Say why you need more time.");
  auto tokens = tokenize(input(call.press, "date"));
  Args args(std::move(tokens));
  const Date today = s_.today_for(call.actor);
  const Date new_due = args.date("a new due date like 2026-12-05, +3d or +3bd", today, s_.calendar);
  args.expect_end();
  const Date old_due = *parse_date(a.due);
  if (std::chrono::sys_days(new_due) <= std::chrono::sys_days(old_due)) {
    throw UserError("The new due date must be after the current one (" + a.due + ").");
  }
  const std::string old = a.due;
  a.due = format_date(new_due);
  a.extensions += 1;

  Txn txn = s_.txn_for(call.event);
  txn.expect_field(s_.store.keys().item(a.id), "due", old, a.id + " changed meanwhile.");
  txn.expect_field(s_.store.keys().item(a.id), "owner", a.owner,
                   a.id + " was reassigned meanwhile.");
  write(txn, a);
  items::assign(txn, s_.store.keys(), a.id, a.owner, new_due);
  items::set_due(txn, s_.store.keys(), a.id, new_due);
  txn.audit(call.actor.id, "ask.extended", a.id,
            {{"from", old}, {"to", a.due}, {"reason", reason}});
  txn.send(owner_message(a, a.owner));
  Message note;
  note.to = Recipient::person(a.reviewer);
  note.title = a.id + ": due date moved";
  note.text = display(call.actor) + " moved " + a.id + " from " + old + " to " + a.due + ".";
  note.fields.push_back({"Reason", reason});
  txn.send(note);
  return finish(s_.store.commit(txn),
                Reply::ok(a.id + " is now due " + a.due + "; I told the liaison."));
}

Reply EvidenceAsks::reassign(ActionCall& call) {
  auto [id, n] = parse_value(call.press.value);
  EvidenceAsk a = require(id);
  if (a.owner != call.actor.id && !has_any_role(call.actor, {Role::liaison, Role::admin})) {
    throw Forbidden("Only the owner of " + a.id + ", a liaison or an admin can reassign it.");
  }
  if (a.status != "open")
    throw Conflict(a.id + " is " + status_label(a) + "; it can't be reassigned now.");
  std::string who = input(call.press, "person");
  if (!who.empty() && who.front() == '@') who.erase(0, 1);
  if (who.empty()) throw UserError("Say who should own " + a.id + " (for example @carol).");
  const Person& to = require_person(s_.people, who);
  if (to.id == a.owner) throw UserError(display(to) + " already owns " + a.id + ".");
  const std::string from = a.owner;
  a.owner = to.id;

  Txn txn = s_.txn_for(call.event);
  txn.expect_field(s_.store.keys().item(a.id), "owner", from, a.id + " was reassigned meanwhile.");
  txn.expect_field(s_.store.keys().item(a.id), "status", "open", a.id + " changed meanwhile.");
  write(txn, a);
  items::unassign(txn, s_.store.keys(), a.id, from);
  items::assign(txn, s_.store.keys(), a.id, to.id, *parse_date(a.due));
  txn.audit(call.actor.id, "ask.reassigned", a.id, {{"from", from}, {"to", to.id}});
  txn.send(owner_message(a, from));
  txn.send(owner_message(a, to.id));
  return finish(s_.store.commit(txn), Reply::ok(a.id + " is now assigned to " + display(to) + "."));
}

Reply EvidenceAsks::decide(ActionCall& call, bool accept) {
  auto [id, submission] = parse_value(call.press.value);
  EvidenceAsk a = require(id);
  require_role(call.actor, {Role::liaison, Role::admin}, "review evidence");
  if (a.status != "in_review" || submission != a.submissions) {
    throw Conflict("This review is out of date: " + a.id + " is " + status_label(a) + ".");
  }
  if (a.submitted_by == call.actor.id) {
    throw Forbidden("You submitted this evidence, so someone else has to review it.");
  }
  const std::string reason = input(call.press, "reason");
  if (!accept && reason.empty())
    throw UserError("Say why the evidence is rejected; the owner sees it.");
  a.status = accept ? "accepted" : "open";
  a.decided_by = call.actor.id;
  a.decided_at = format_iso8601(s_.clock.now());
  a.reject_reason = accept ? "" : reason;

  Txn txn = s_.txn_for(call.event);
  txn.expect_field(s_.store.keys().item(a.id), "status", "in_review",
                   a.id + " was already reviewed.");
  txn.expect_field(s_.store.keys().item(a.id), "submissions", std::to_string(submission),
                   "This review is out of date: " + a.id + " has newer evidence.");
  write(txn, a);
  txn.rpush(s_.store.keys().item_history(a.id),
            nlohmann::json{{"submission", submission},
                           {"decision", accept ? "accepted" : "rejected"},
                           {"by", a.decided_by},
                           {"at", a.decided_at},
                           {"reason", reason}}
                .dump());
  if (a.reviewer != a.owner) items::unassign(txn, s_.store.keys(), a.id, a.reviewer);
  if (accept) {
    items::unassign(txn, s_.store.keys(), a.id, a.owner);
    items::resolved(txn, s_.store.keys(), a.id);
    // Accepted evidence becomes the control's evidence record (freshness, coverage).
    EvidenceLedger(s_).add_from_ask(txn, a);
  }
  txn.audit(call.actor.id, accept ? "ask.accepted" : "ask.rejected", a.id,
            {{"submission", submission}, {"reason", reason}});
  EvidenceAsk reviewed = a;
  reviewed.status = accept ? "accepted" : "rejected";
  txn.send(review_message(reviewed));
  txn.send(owner_message(a, a.owner));
  const Person* owner = s_.people.find(a.owner);
  const std::string owner_name = owner ? display(*owner) : a.owner;
  return finish(s_.store.commit(txn),
                Reply::ok(accept ? "Accepted the evidence for " + a.id + "."
                                 : "Rejected the evidence for " + a.id + "; " + owner_name +
                                       " has been asked for new evidence."));
}

}  // namespace auditbot
