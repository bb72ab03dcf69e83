#include "tests/support/harness.hpp"

#include <stdexcept>

#include "handlers/controls.hpp"

namespace auditbot::test {

Config test_config(const std::string& redis_url) {
  Config c;
  c.org_id = "testorg";
  c.org_name = "Test Org";
  c.org_timezone = "America/New_York";
  c.redis_url = redis_url;
  c.channels = {{"compliance", "C-COMPLIANCE"}, {"auditor", "C-AUDIT"}, {"leadership", "C-LEAD"}};
  c.holidays = {"2026-12-25"};
  auto person = [](std::string id, std::string name, std::set<Role> roles, std::string tz,
                   std::string manager = "") {
    PersonConfig p;
    p.id = id;
    p.name = std::move(name);
    p.email = id + "@test.example";
    p.roles = std::move(roles);
    p.timezone = std::move(tz);
    p.manager = std::move(manager);
    return p;
  };
  c.people = {person("alice", "Alice Moreno", {Role::admin}, "America/New_York"),
              person("lena", "Lena Fischer", {Role::liaison}, "Europe/Berlin", "alice"),
              person("bob", "Bob Li", {}, "America/Los_Angeles", "dana"),
              person("kenji", "Kenji Sato", {}, "Asia/Tokyo", "dana"),
              person("dana", "Dana Okafor", {Role::approver}, "America/New_York"),
              person("ava", "Ava Brooks", {Role::auditor}, "America/Chicago")};
  return c;
}

std::vector<Control> test_controls() {
  return {Control{"AC-01",
                  "Quarterly user access review",
                  {"CC6.1", "CC6.2"},
                  "bob",
                  {{"Access review export", "quarterly"}}},
          Control{"CM-01",
                  "Peer-reviewed changes",
                  {"CC8.1"},
                  "kenji",
                  {{"Merged pull request sample", "quarterly"}}}};
}

DeliveryResult RecordingDeliverer::deliver(const OutboxEntry& e) {
  entries.push_back(e);
  return {};
}

TimePoint default_start() {
  return *parse_iso8601("2026-12-01T15:00:00Z");
}

Harness::Harness(TimePoint start) : clock_(start) {
  app_ = std::make_unique<App>(test_config(redis_.url()), clock_);
  ControlCatalog(app_->services()).seed_if_empty(test_controls());
  queue_ = std::make_unique<RedisOutboxQueue>(app_->store(), "test");
}

Harness::Harness(std::function<void(Config&)> adjust, TimePoint start)
    : clock_(start), adjust_(std::move(adjust)) {
  app_ = std::make_unique<App>(config(), clock_);
  ControlCatalog(app_->services()).seed_if_empty(test_controls());
  queue_ = std::make_unique<RedisOutboxQueue>(app_->store(), "test");
}

Config Harness::config() const {
  Config c = test_config(redis_.url());
  if (adjust_) adjust_(c);
  return c;
}

Harness::~Harness() = default;

void Harness::restart_app() {
  queue_.reset();
  app_ = std::make_unique<App>(config(), clock_);
  queue_ = std::make_unique<RedisOutboxQueue>(app_->store(), "test");
}

Scheduler::PassResult Harness::run_scheduler(TimePoint now) {
  clock_.set(now);
  auto r = app_->run_scheduler_pass(now);
  drain();
  return r;
}

void Harness::drain() {
  OutboxDispatcher d(*queue_, deliverer_);
  d.drain();
}

Reply Harness::command(const std::string& person, const std::string& text,
                       const std::string& event_id) {
  InboundEvent e;
  e.event_id = event_id;
  e.person = person;
  e.body = CommandText{text};
  Reply r = app_->router().handle(e);
  drain();
  return r;
}

Reply Harness::press(const std::string& person, const std::string& action_id,
                     const std::string& value, std::map<std::string, std::string> inputs,
                     const std::string& event_id) {
  InboundEvent e;
  e.event_id = event_id;
  e.person = person;
  e.body = ButtonPress{action_id, value, std::move(inputs), ""};
  Reply r = app_->router().handle(e);
  drain();
  return r;
}

void Harness::join(const std::string& person) {
  InboundEvent e;
  e.event_id = "join-" + person;
  e.person = person;
  e.body = PersonJoined{};
  app_->router().handle(e);
  drain();
}

Reply Harness::press_latest(const std::string& person, const std::string& action_id,
                            std::map<std::string, std::string> inputs) {
  const auto msgs = sent_to(person);
  for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) {
    for (const auto& b : it->buttons) {
      if (b.action_id == action_id) return press(person, action_id, b.value, std::move(inputs));
    }
  }
  throw std::runtime_error(person + " was never sent a '" + action_id + "' button");
}

std::vector<Message> Harness::sent_to(const std::string& person) const {
  std::vector<Message> out;
  for (const auto& e : deliverer_.entries) {
    if (e.message.to.id == person) out.push_back(e.message);
  }
  return out;
}

const Message* Harness::latest(const std::string& person, const std::string& key_prefix) const {
  const Message* found = nullptr;
  for (const auto& e : deliverer_.entries) {
    if (e.message.to.id == person && e.message.key.rfind(key_prefix, 0) == 0) found = &e.message;
  }
  return found;
}

std::map<std::string, std::string> Harness::item(const std::string& id) {
  return app_->store()
      .hgetall(app_->store().keys().item(id))
      .value_or(std::map<std::string, std::string>{});
}

std::vector<AuditEntry> Harness::audit_entries() {
  return app_->store().read_audit("-", 100000);
}

std::int64_t Harness::redis_key_count() {
  return app_->redis().command({"DBSIZE"}).as_integer();
}

}  // namespace auditbot::test
