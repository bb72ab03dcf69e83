#include "handlers/policies.hpp"

#include <algorithm>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include "bot/errors.hpp"
#include "bot/text.hpp"
#include "handlers/items.hpp"

namespace auditbot {
namespace {

constexpr std::string_view kPolicyUsage =
    "/soc2 policy <id>  |  /soc2 policy status <id>  |  /soc2 policy remind <id>  |  "
    "/soc2 policy publish <id> <version> [material|minor] [sha256 <hex>] [url <link>] "
    "[due <date>]  |  /soc2 policy review <id>";

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
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

bool valid_sha256(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string csv(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Date plus_days(Date d, int n) {
  return Date{std::chrono::sys_days(d) + std::chrono::days(n)};
}

nlohmann::json ack_json(const PolicyAck& a) {
  return {{"person", a.person},
          {"policy", a.policy},
          {"version", a.version},
          {"sha256", a.sha256},
          {"at", a.at},
          {"platform", a.platform},
          {"message_id", a.message_id},
          {"carried_from", a.carried_from}};
}

PolicyAck ack_from(const std::string& text) {
  PolicyAck a;
  try {
    auto j = nlohmann::json::parse(text);
    a.person = j.value("person", "");
    a.policy = j.value("policy", "");
    a.version = j.value("version", "");
    a.sha256 = j.value("sha256", "");
    a.at = j.value("at", "");
    a.platform = j.value("platform", "");
    a.message_id = j.value("message_id", "");
    a.carried_from = j.value("carried_from", "");
  } catch (const std::exception&) {
  }
  return a;
}

}  // namespace

std::string policy_ack_item(std::string_view policy_id, std::string_view person) {
  return "POLICY-ACK:" + std::string(policy_id) + ":" + std::string(person);
}

std::string Policies::key(std::string_view id) const {
  return s_.store.keys().key("policy:" + std::string(id));
}
std::string Policies::acks_key(std::string_view id) const {
  return s_.store.keys().key("policy:" + std::string(id) + ":acks");
}
std::string Policies::pending_key(std::string_view id) const {
  return s_.store.keys().key("policy:" + std::string(id) + ":pending");
}

std::optional<PolicyAck> Policies::ack_of(std::string_view policy_id,
                                          std::string_view person) const {
  // One field, not the whole hash: a campaign of 10,000 must not cost O(n) per press.
  const auto r = s_.store.client().command({"HGET", acks_key(policy_id), std::string(person)});
  if (r.is_nil()) return std::nullopt;
  return ack_from(r.as_string());
}

void Policies::register_with(Router& router) {
  router.add(CommandSpec{"policies", "/soc2 policies", "The policy library and where you stand",
                         [this](CommandCall& c) { return policies_cmd(c); }});
  router.add(CommandSpec{"policy", std::string(kPolicyUsage),
                         "Show, publish, review or follow up a policy",
                         [this](CommandCall& c) { return policy_cmd(c); }});
  router.add(ActionSpec{"policy.ack", [this](ActionCall& c) { return acknowledge(c); }});
  router.add(ActionSpec{"policy.review_approve", [this](ActionCall& c) {
                          Policy p = require(c.press.value);
                          return approve_review(p, c.actor, s_.txn_for(c.event));
                        }});
  router.add(JoinSpec{"policies",
                      [this](const InboundEvent&, const Person& p) { enroll(p, s_.clock.now()); }});
}

std::optional<Policy> Policies::load(std::string_view id_in) const {
  const std::string id = upper(id_in);
  auto h = s_.store.hgetall(key(id));
  if (!h || h->count("id") == 0) return std::nullopt;
  auto& m = *h;
  Policy p;
  p.id = m["id"];
  p.title = m["title"];
  p.version = m["version"];
  p.owner = m["owner"];
  p.url = m["url"];
  p.sha256 = m["sha256"];
  p.effective = m["effective"];
  p.next_review = m["next_review"];
  p.audience = split(m["audience"], ',');
  p.campaign = m["campaign"].empty() ? 0 : std::stoi(m["campaign"]);
  p.due = m["due"];
  p.material = m["material"] != "0";
  p.published_at = m["published_at"];
  p.published_by = m["published_by"];
  p.reviewed_at = m["reviewed_at"];
  p.reviewed_by = m["reviewed_by"];
  p.review_reminded = m["review_reminded"];
  return p;
}

Policy Policies::require(std::string_view id) const {
  auto p = load(id);
  if (!p) throw NotFound("There is no policy " + upper(id) + ". Try /soc2 policies.");
  return *p;
}

std::vector<Policy> Policies::all() const {
  auto ids = s_.store.smembers(s_.store.keys().key("policies"));
  std::sort(ids.begin(), ids.end());
  std::vector<Policy> out;
  for (const auto& id : ids) {
    if (auto p = load(id)) out.push_back(*p);
  }
  return out;
}

void Policies::write(Txn& txn, const Policy& p) const {
  txn.hset(key(p.id), {{"id", p.id},
                       {"title", p.title},
                       {"version", p.version},
                       {"owner", p.owner},
                       {"url", p.url},
                       {"sha256", p.sha256},
                       {"effective", p.effective},
                       {"next_review", p.next_review},
                       {"audience", join(p.audience, ",")},
                       {"campaign", std::to_string(p.campaign)},
                       {"due", p.due},
                       {"material", p.material ? "1" : "0"},
                       {"published_at", p.published_at},
                       {"published_by", p.published_by},
                       {"reviewed_at", p.reviewed_at},
                       {"reviewed_by", p.reviewed_by},
                       {"review_reminded", p.review_reminded}});
  txn.sadd(s_.store.keys().key("policies"), p.id);
}

std::size_t Policies::import_from_config() {
  std::size_t added = 0;
  for (const auto& c : s_.config.policies) {
    if (load(c.id)) continue;
    Policy p;
    p.id = upper(c.id);
    p.title = c.title;
    p.version = c.version;
    p.owner = c.owner;
    p.url = c.url;
    p.sha256 = c.sha256;
    if (p.sha256.empty()) {
      std::ifstream in(c.text_file, std::ios::binary);
      if (!in) throw ConfigError("policies: cannot read text_file '" + c.text_file + "'");
      std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      p.sha256 = sha256_hex(text);
    }
    p.effective = c.effective;
    p.next_review = c.next_review;
    p.audience = c.audience;
    Txn txn;
    txn.expect_absent(key(p.id), p.id + " already exists.");
    write(txn, p);
    txn.rpush(
        key(p.id) + ":versions",
        nlohmann::json{{"version", p.version}, {"sha256", p.sha256}, {"imported", true}}.dump());
    txn.audit("system", "policy.imported", p.id,
              {{"version", p.version}, {"sha256", p.sha256}, {"owner", p.owner}});
    if (s_.store.commit(txn).ok()) ++added;
  }
  return added;
}

bool Policies::in_audience(const Policy& p, const Person& person) const {
  if (p.audience.empty()) {
    // External auditors are not bound by the company's policies.
    return !(person.roles.size() == 1 && person.roles.count(Role::auditor) == 1);
  }
  for (const auto& g : person.groups) {
    if (std::find(p.audience.begin(), p.audience.end(), g) != p.audience.end()) return true;
  }
  return false;
}

std::vector<const Person*> Policies::audience(const Policy& p) const {
  std::vector<const Person*> out;
  for (const auto& person : s_.people.all()) {
    if (in_audience(p, person)) out.push_back(&person);
  }
  return out;
}

Message Policies::ack_message(const Policy& p, const std::string& person,
                              const std::string& due) const {
  Message m;
  m.to = Recipient::person(person);
  m.key = "policy:" + p.id + ":ack:" + person;
  m.title = "Please read: " + p.title + " v" + p.version;
  m.text =
      "Read the policy, then confirm: I have read and accept " + p.title + " v" + p.version + ".";
  m.fields.push_back({"Policy", p.url});
  m.fields.push_back({"Version", p.version});
  m.fields.push_back({"SHA-256", p.sha256});
  m.fields.push_back({"Acknowledge by", due});
  m.buttons.push_back({"policy.ack",
                       "I have read and accept " + p.title + " v" + p.version,
                       p.id + "|" + p.version + "|" + person,
                       {},
                       Button::Style::primary});
  return m;
}

// Opens (or refreshes) the person's acknowledgment item and DMs them the button.
void Policies::ask(Txn& txn, const Policy& p, const Person& person, const std::string& due) const {
  const auto& keys = s_.store.keys();
  const std::string item = policy_ack_item(p.id, person.id);
  const Date d = *parse_date(due);
  txn.hset(keys.item(item), {{"kind", "policy_ack"},
                             {"id", item},
                             {"status", "open"},
                             {"owner", person.id},
                             {"policy", p.id},
                             {"version", p.version},
                             {"due", due},
                             {"summary", "Acknowledge " + p.title + " v" + p.version}});
  items::assign(txn, keys, item, person.id, d);
  items::set_due(txn, keys, item, d);
  txn.sadd(pending_key(p.id), person.id);
  txn.sadd(keys.key("policy_enrolled"), person.id);
  txn.send(ack_message(p, person.id, due));
}

namespace {
// People per publish commit: small enough that building the next chunk overlaps the
// commit of this one, large enough that round trips do not add up.
constexpr std::size_t kPublishChunk = 1000;
}  // namespace

Policies::PublishResult Policies::publish(const std::string& actor, std::string_view policy_id,
                                          Publication pub) {
  Policy p = require(policy_id);
  const Person* who = s_.people.find(actor);
  const Date today = who ? s_.today_for(*who) : BusinessCalendar::local_date(s_.clock.now(), "UTC");
  if (pub.version.empty() || pub.version.find_first_of(" |/") != std::string::npos) {
    throw UserError("Give the version as a single word such as 2.0.");
  }
  const bool same_version = pub.version == p.version;
  if (same_version && p.campaign > 0) {
    throw Conflict(p.id + " v" + p.version + " is already published; give a new version.");
  }
  if (!pub.sha256.empty() && !valid_sha256(pub.sha256)) {
    throw UserError("The SHA-256 must be 64 hex digits (sha256sum of the policy text).");
  }
  if (!same_version && pub.sha256.empty()) {
    throw UserError("A new version needs the SHA-256 of its text: add sha256 <hex>.");
  }
  if (!same_version && pub.sha256 == p.sha256) {
    throw UserError("That SHA-256 is the one of v" + p.version + "; a new version has new text.");
  }
  const Date due = pub.due.value_or(plus_days(today, s_.config.policy_ack_days));
  if (std::chrono::sys_days(due) < std::chrono::sys_days(today)) {
    throw UserError("The deadline " + format_date(due) + " is in the past.");
  }
  // The first campaign of a version always asks everyone; later ones follow material/minor.
  const bool material = p.campaign == 0 || pub.material;
  const std::string old_version = p.version;
  const std::string old_campaign = std::to_string(p.campaign);
  std::map<std::string, PolicyAck> previous;
  if (!material) {
    for (auto& a : acks(p.id))
      previous[a.person] = a;
  }

  p.version = pub.version;
  if (!pub.sha256.empty()) p.sha256 = pub.sha256;
  if (!pub.url.empty()) p.url = pub.url;
  p.campaign += 1;
  p.due = format_date(due);
  p.material = material;
  p.published_at = format_iso8601(s_.clock.now());
  p.published_by = actor;
  if (!same_version) {
    p.effective = format_date(today);
    p.next_review = format_date(
        Date{today.year() + std::chrono::years(1), today.month(),
             today.month() == std::chrono::February && today.day() == std::chrono::day(29)
                 ? std::chrono::day(28)
                 : today.day()});
  }

  const auto people = audience(p);
  std::vector<const Person*> to_ask;
  std::vector<PolicyAck> carried;
  for (const Person* person : people) {
    auto it = previous.find(person->id);
    if (it == previous.end()) {
      to_ask.push_back(person);
      continue;
    }
    PolicyAck c = it->second;
    c.carried_from = it->second.carried_from.empty() ? it->second.version : it->second.carried_from;
    c.version = p.version;
    c.sha256 = p.sha256;
    carried.push_back(c);
  }

  // First commit: the version itself, its audit entry and the first chunk of people. Each
  // chunk commits on a helper thread while the next one is built, so the bot's JSON work
  // and Redis's script run side by side; commits stay strictly in order.
  PublishResult result{to_ask.size(), carried.size()};
  std::size_t next = 0;
  std::size_t next_carried = 0;
  bool first = true;
  std::future<CommitResult> in_flight;
  const auto settle = [&] {
    if (!in_flight.valid()) return;
    const CommitResult r = in_flight.get();
    if (!r.ok()) throw Conflict(r.reason);
  };
  while (first || next < to_ask.size() || next_carried < carried.size()) {
    Txn txn;
    if (first) {
      txn.expect_field(key(p.id), "campaign", old_campaign,
                       p.id + " was published meanwhile; nothing was sent.");
      write(txn, p);
      txn.rpush(key(p.id) + ":versions", nlohmann::json{{"version", p.version},
                                                        {"sha256", p.sha256},
                                                        {"material", material},
                                                        {"by", actor},
                                                        {"at", p.published_at},
                                                        {"due", p.due}}
                                             .dump());
      txn.del(pending_key(p.id));
      if (material) txn.del(acks_key(p.id));
      txn.audit(actor, "policy.published", p.id,
                {{"version", p.version},
                 {"previous_version", old_version},
                 {"sha256", p.sha256},
                 {"material", material},
                 {"due", p.due},
                 {"asked", to_ask.size()},
                 {"carried_forward", carried.size()}});
    } else {
      // Later chunks only add people, and only while this campaign is still the current one.
      txn.expect_field(key(p.id), "campaign", std::to_string(p.campaign),
                       p.id + " was published again meanwhile.");
    }
    std::size_t budget = kPublishChunk;
    for (; next_carried < carried.size() && budget > 0; ++next_carried, --budget) {
      const auto& c = carried[next_carried];
      const std::string j = ack_json(c).dump();
      txn.hset(acks_key(p.id), {{c.person, j}});
      txn.rpush(s_.store.keys().key("policy_acks:log"), j);
    }
    for (; next < to_ask.size() && budget > 0; ++next, --budget) {
      ask(txn, p, *to_ask[next], p.due);
    }
    settle();  // the chunk before this one (the first chunk has nothing before it)
    in_flight = std::async(std::launch::async,
                           [&store = s_.store, t = std::move(txn)] { return store.commit(t); });
    first = false;
  }
  settle();
  return result;
}

std::vector<PolicyAck> Policies::acks(std::string_view policy_id) const {
  auto h = s_.store.hgetall(acks_key(upper(policy_id)));
  std::vector<PolicyAck> out;
  if (!h) return out;
  for (const auto& [person, text] : *h)
    out.push_back(ack_from(text));
  return out;
}

Reply Policies::acknowledge(ActionCall& call) {
  const auto parts = split(call.press.value, '|');
  if (parts.size() != 3) throw UserError("That button is damaged; use /soc2 policies.");
  const Policy p = require(parts[0]);
  const std::string& version = parts[1];
  const std::string& recipient = parts[2];
  if (recipient != call.actor.id) {
    const Person* r = s_.people.find(recipient);
    throw Forbidden("This acknowledgment was sent to " + (r ? display(*r) : recipient) +
                    "; only they can give it. Nothing was recorded.");
  }
  if (const auto a = ack_of(p.id, call.actor.id)) {
    return Reply::ok("You already acknowledged " + p.title + " v" + p.version + " on " +
                     a->at.substr(0, 10) + "; nothing more to do.");
  }
  if (version != p.version) {
    throw Conflict("That button is for " + p.title + " v" + version + "; the current version is v" +
                   p.version + ". Nothing was recorded; use the latest message to acknowledge it.");
  }
  PolicyAck a;
  a.person = call.actor.id;
  a.policy = p.id;
  a.version = p.version;
  a.sha256 = p.sha256;
  a.at = format_iso8601(s_.clock.now());
  a.platform = std::string(to_string(call.event.platform));
  a.message_id = call.event.platform_message_id;
  const std::string j = ack_json(a).dump();
  const auto& keys = s_.store.keys();
  const std::string item = policy_ack_item(p.id, a.person);

  Txn txn = s_.txn_for(call.event);
  txn.expect_field(
      key(p.id), "version", p.version,
      "A new version of " + p.title + " was published meanwhile; nothing was recorded.");
  txn.expect_field(acks_key(p.id), a.person, "", "You already acknowledged " + p.title + ".");
  txn.hset(acks_key(p.id), {{a.person, j}});
  txn.srem(pending_key(p.id), a.person);
  txn.rpush(keys.key("policy_acks:log"), j);
  txn.hset(keys.item(item), {{"status", "acknowledged"}});
  items::unassign(txn, keys, item, a.person);
  items::resolved(txn, keys, item);
  txn.audit(a.person, "policy.acknowledged", p.id,
            {{"version", a.version},
             {"sha256", a.sha256},
             {"platform", a.platform},
             {"message_id", a.message_id}});
  Message done = ack_message(p, a.person, p.due);
  done.buttons.clear();
  done.context = "Acknowledged " + p.title + " v" + p.version + " on " + a.at.substr(0, 10) + ".";
  txn.send(done);
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::duplicate) {
    return Reply::ok("That was already recorded; nothing changed.");
  }
  if (r.status == CommitResult::Status::conflict) return Reply::fail(r.reason);
  return Reply::ok("Thanks: you acknowledged " + p.title + " v" + p.version + ".");
}

std::size_t Policies::remind(std::string_view policy_id, TimePoint now) {
  const Policy p = require(policy_id);
  if (p.campaign == 0) return 0;
  auto pending = s_.store.smembers(pending_key(p.id));
  std::sort(pending.begin(), pending.end());
  if (pending.empty()) return 0;
  const Date today = BusinessCalendar::local_date(now, s_.config.org_timezone);
  const bool overdue = !p.due.empty() && format_date(today) > p.due;
  std::size_t sent = 0;
  for (std::size_t i = 0; i < pending.size(); i += kChunk) {
    Txn txn;
    txn.expect_field(key(p.id), "campaign", std::to_string(p.campaign),
                     p.id + " was published again meanwhile.");
    std::size_t n = 0;
    for (std::size_t j = i; j < pending.size() && j < i + kChunk; ++j) {
      if (!s_.people.find(pending[j])) continue;
      Message m = ack_message(p, pending[j], p.due);
      m.key.clear();  // a reminder is a fresh notification, not an edit
      m.title = (overdue ? "Overdue: " : "Reminder: ") + p.title + " v" + p.version;
      m.context =
          overdue ? "The deadline was " + p.due + "." : "Please acknowledge by " + p.due + ".";
      txn.send(m);
      ++n;
    }
    if (i == 0) {
      txn.audit("system", "policy.reminded", p.id,
                {{"version", p.version}, {"people", pending.size()}, {"overdue", overdue}});
    }
    if (s_.store.commit(txn).ok()) sent += n;
  }
  return sent;
}

std::size_t Policies::enroll(const Person& person, TimePoint now) {
  const Date today = BusinessCalendar::local_date(now, s_.people.timezone_of(person));
  const std::string due = format_date(plus_days(today, s_.config.policy_ack_days));
  std::size_t asked = 0;
  Txn txn;
  for (const auto& p : all()) {
    if (p.campaign == 0 || !in_audience(p, person)) continue;
    if (ack_of(p.id, person.id)) continue;
    if (s_.store.client().command({"SISMEMBER", pending_key(p.id), person.id}).as_integer() == 1)
      continue;
    txn.expect_field(key(p.id), "campaign", std::to_string(p.campaign),
                     p.id + " was published again meanwhile.");
    ask(txn, p, person, due);
    ++asked;
  }
  txn.sadd(s_.store.keys().key("policy_enrolled"), person.id);
  txn.audit("system", "policy.enrolled", person.id, {{"policies", asked}, {"due", due}});
  if (!s_.store.commit(txn).ok()) return 0;
  return asked;
}

std::size_t Policies::enroll_missing(TimePoint now) {
  const auto enrolled = s_.store.smembers(s_.store.keys().key("policy_enrolled"));
  const std::set<std::string> seen(enrolled.begin(), enrolled.end());
  std::size_t people = 0;
  for (const auto& person : s_.people.all()) {
    if (seen.count(person.id)) continue;
    if (enroll(person, now) > 0) ++people;
  }
  return people;
}

std::size_t Policies::remind_reviews(TimePoint now) {
  const Date today = BusinessCalendar::local_date(now, s_.config.org_timezone);
  const std::string horizon = format_date(plus_days(today, s_.config.policy_review_notice_days));
  std::size_t sent = 0;
  for (auto p : all()) {
    if (p.next_review.empty() || p.next_review > horizon || p.review_reminded == p.next_review)
      continue;
    Txn txn;
    txn.expect_field(key(p.id), "review_reminded", p.review_reminded,
                     p.id + " was reminded meanwhile.");
    txn.hset(key(p.id), {{"review_reminded", p.next_review}});
    txn.audit("system", "policy.review_reminded", p.id,
              {{"owner", p.owner}, {"next_review", p.next_review}, {"version", p.version}});
    Message m;
    m.to = Recipient::person(p.owner);
    m.key = "policy:" + p.id + ":review:" + p.next_review;
    m.title = "Annual review due: " + p.title;
    m.text = "Review " + p.title + " v" + p.version + " by " + p.next_review +
             ". Approve this version as it is, or publish a new one with /soc2 policy publish " +
             p.id + " <version> sha256 <hex>.";
    m.fields.push_back({"Policy", p.url});
    m.buttons.push_back({"policy.review_approve",
                         "Approve v" + p.version + " unchanged",
                         p.id,
                         {},
                         Button::Style::primary});
    txn.send(m);
    if (s_.store.commit(txn).ok()) ++sent;
  }
  return sent;
}

Reply Policies::approve_review(const Policy& p_in, const Person& actor, Txn txn) {
  Policy p = p_in;
  if (actor.id != p.owner && !has_any_role(actor, {Role::admin})) {
    throw Forbidden("Only the owner of " + p.id + " or an admin can record its review.");
  }
  const Date today = s_.today_for(actor);
  const std::string old_review = p.next_review;
  p.reviewed_at = format_iso8601(s_.clock.now());
  p.reviewed_by = actor.id;
  Date base = parse_date(p.next_review).value_or(today);
  if (std::chrono::sys_days(base) < std::chrono::sys_days(today)) base = today;
  p.next_review =
      format_date(Date{base.year() + std::chrono::years(1), base.month(),
                       base.day() == std::chrono::day(29) && base.month() == std::chrono::February
                           ? std::chrono::day(28)
                           : base.day()});
  txn.expect_field(key(p.id), "next_review", old_review, p.id + " was reviewed meanwhile.");
  txn.expect_field(key(p.id), "version", p.version, p.id + " has a new version meanwhile.");
  txn.hset(key(p.id), {{"reviewed_at", p.reviewed_at},
                       {"reviewed_by", p.reviewed_by},
                       {"next_review", p.next_review}});
  txn.rpush(key(p.id) + ":versions", nlohmann::json{{"version", p.version},
                                                    {"review", "approved unchanged"},
                                                    {"by", actor.id},
                                                    {"at", p.reviewed_at}}
                                         .dump());
  txn.audit(
      actor.id, "policy.reviewed", p.id,
      {{"version", p.version}, {"decision", "approved unchanged"}, {"next_review", p.next_review}});
  const auto r = s_.store.commit(txn);
  if (r.status == CommitResult::Status::duplicate) return Reply::ok("That was already recorded.");
  if (r.status == CommitResult::Status::conflict) return Reply::fail(r.reason);
  return Reply::ok("Recorded: " + p.title + " v" + p.version +
                   " reviewed and approved unchanged; next review " + p.next_review + ".");
}

Reply Policies::policies_cmd(CommandCall& call) {
  call.args.expect_end();
  const auto list = all();
  if (list.empty()) return Reply::ok("The policy library is empty.");
  std::string text = "Policies (" + std::to_string(list.size()) + "):";
  for (const auto& p : list) {
    text += "\n• " + p.id + " · " + p.title + " v" + p.version + " · effective " + p.effective +
            " · next review " + p.next_review;
    if (p.campaign == 0 || !in_audience(p, call.actor)) continue;
    text += ack_of(p.id, call.actor.id) ? " · you acknowledged it"
                                        : " · waiting for your acknowledgment (due " + p.due + ")";
  }
  return Reply::ok(text);
}

Reply Policies::policy_cmd(CommandCall& call) {
  const std::string first = call.args.text("a policy id, or status, remind, publish or review");
  const std::string sub = [&] {
    std::string l = first;
    for (char& c : l)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return l;
  }();
  if (sub == "status" || sub == "missing") {
    require_role(call.actor, {Role::liaison, Role::admin}, "see acknowledgment status");
    const Policy p = require(call.args.text("a policy id"));
    call.args.expect_end();
    return status(p);
  }
  if (sub == "remind") {
    require_role(call.actor, {Role::liaison, Role::admin}, "send policy reminders");
    const Policy p = require(call.args.text("a policy id"));
    call.args.expect_end();
    if (p.campaign == 0) throw Conflict(p.id + " has not been published yet.");
    const std::size_t n = remind(p.id, s_.clock.now());
    return Reply::ok(n == 0 ? "Everyone has acknowledged " + p.title + " v" + p.version + "."
                            : "Reminded " + std::to_string(n) + (n == 1 ? " person" : " people") +
                                  " to acknowledge " + p.title + " v" + p.version + ".");
  }
  if (sub == "publish") {
    require_role(call.actor, {Role::admin}, "publish policies");
    const std::string id = call.args.text("a policy id");
    Publication pub;
    pub.version = call.args.next("a version such as 2.0").text;
    const Date today = s_.today_for(call.actor);
    while (!call.args.done()) {
      if (call.args.keyword("material")) {
        pub.material = true;
      } else if (call.args.keyword("minor")) {
        pub.material = false;
      } else if (call.args.keyword("due")) {
        pub.due = call.args.date("a deadline like 2026-12-15, +14d or +10bd", today, s_.calendar);
      } else if (call.args.keyword("sha256")) {
        pub.sha256 = call.args.next("the SHA-256 of the text (64 hex digits)").text;
        for (char& c : pub.sha256)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (call.args.keyword("url")) {
        pub.url = call.args.text("the link to the policy text");
        if (pub.url.rfind("https://", 0) != 0 && pub.url.rfind("http://", 0) != 0) {
          throw UserError("The policy link must start with https:// or http://.");
        }
      } else {
        throw SyntaxError("unexpected '" + call.args.next("").text +
                          "' (expected material, minor, due, sha256 or url)");
      }
    }
    const Policy before = require(id);
    const auto r = publish(call.actor.id, id, pub);
    const Policy p = require(id);
    std::string text = "Published " + p.title + " v" + p.version + " (" +
                       (p.material ? "material" : "minor") + "): asked " + std::to_string(r.asked) +
                       (r.asked == 1 ? " person" : " people") + " to acknowledge by " + p.due + ".";
    if (r.carried > 0) {
      text += " " + std::to_string(r.carried) + " acknowledgment" + (r.carried == 1 ? "" : "s") +
              " of v" + before.version + " carried forward.";
    }
    return Reply::ok(text);
  }
  if (sub == "review") {
    const Policy p = require(call.args.text("a policy id"));
    call.args.expect_end();
    return approve_review(p, call.actor, s_.txn_for(call.event));
  }
  call.args.expect_end();
  return show(require(first), call.actor);
}

Reply Policies::show(const Policy& p, const Person& actor) const {
  Reply r = Reply::ok(p.id + " · " + p.title + " v" + p.version);
  const Person* owner = s_.people.find(p.owner);
  r.fields.push_back({"Owner", owner ? display(*owner) : p.owner});
  r.fields.push_back({"Link", p.url});
  r.fields.push_back({"SHA-256", p.sha256});
  r.fields.push_back({"Effective", p.effective});
  r.fields.push_back({"Next review", p.next_review});
  r.fields.push_back({"Audience", p.audience.empty() ? "everyone" : join(p.audience, ", ")});
  if (p.campaign == 0) {
    r.fields.push_back({"Campaign", "not published yet"});
  } else if (in_audience(p, actor)) {
    if (const auto found = ack_of(p.id, actor.id)) {
      const PolicyAck& ack = *found;
      r.fields.push_back({"You", "acknowledged on " + ack.at.substr(0, 10) +
                                     (ack.carried_from.empty()
                                          ? ""
                                          : " (carried forward from v" + ack.carried_from + ")")});
    } else {
      r.fields.push_back({"You", "not acknowledged yet (due " + p.due + ")"});
    }
  }
  return r;
}

Reply Policies::status(const Policy& p) const {
  if (p.campaign == 0) return Reply::ok(p.id + " has not been published yet.");
  const auto people = audience(p);
  const auto acked_h =
      s_.store.hgetall(acks_key(p.id)).value_or(std::map<std::string, std::string>{});
  const Date today = BusinessCalendar::local_date(s_.clock.now(), s_.config.org_timezone);
  const bool late = format_date(today) > p.due;
  std::size_t acked = 0;
  std::vector<std::string> missing;
  std::map<std::string, std::pair<std::size_t, std::size_t>> groups;  // group -> acked, total
  for (const Person* person : people) {
    const bool done = acked_h.count(person->id) > 0;
    if (done) {
      ++acked;
    } else {
      missing.push_back(display(*person));
    }
    for (const auto& g : person->groups) {
      if (!p.audience.empty() &&
          std::find(p.audience.begin(), p.audience.end(), g) == p.audience.end())
        continue;
      groups[g].second += 1;
      if (done) groups[g].first += 1;
    }
  }
  const std::size_t pending = late ? 0 : missing.size();
  const std::size_t overdue = late ? missing.size() : 0;
  Reply r =
      Reply::ok(p.id + " · " + p.title + " v" + p.version + ": " + std::to_string(acked) + " of " +
                std::to_string(people.size()) + " acknowledged, " + std::to_string(pending) +
                " pending, " + std::to_string(overdue) + " overdue (deadline " + p.due + ").");
  r.fields.push_back({"Acknowledged", std::to_string(acked)});
  r.fields.push_back({"Pending", std::to_string(pending)});
  r.fields.push_back({"Overdue", std::to_string(overdue)});
  for (const auto& [g, c] : groups) {
    r.fields.push_back({"Group " + g, std::to_string(c.first) + "/" + std::to_string(c.second)});
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size() && i < 100; ++i)
      list += (i ? ", " : "") + missing[i];
    if (missing.size() > 100) list += " and " + std::to_string(missing.size() - 100) + " more";
    r.fields.push_back({"Missing", list});
  }
  return r;
}

std::string Policies::export_acks_csv() const {
  std::ostringstream out;
  out << "person,email,policy,version,sha256,acknowledged_at,message_id,platform,carried_from\n";
  for (const auto& text : s_.store.lrange(s_.store.keys().key("policy_acks:log"))) {
    const PolicyAck a = ack_from(text);
    const Person* p = s_.people.find(a.person);
    out << csv(a.person) << ',' << csv(p ? p->email : "") << ',' << csv(a.policy) << ','
        << csv(a.version) << ',' << csv(a.sha256) << ',' << csv(a.at) << ',' << csv(a.message_id)
        << ',' << csv(a.platform) << ',' << csv(a.carried_from) << '\n';
  }
  return out.str();
}

}  // namespace auditbot
