// Benchmark, not a test: how long publishing a policy to 10,000 people takes to queue (the
// campaign's commits with every DM), and a minor re-publication that carries acks forward.
#include <chrono>
#include <iostream>

#include "tests/support/harness.hpp"

using namespace auditbot;

namespace {

void ten_thousand(Config& c) {
  for (int i = 0; i < 10000; ++i) {
    PersonConfig p;
    p.id = "u" + std::to_string(i);
    p.name = "User " + std::to_string(i);
    p.email = p.id + "@bench.example";
    p.groups = {i % 3 == 0 ? "engineering" : "operations"};
    c.people.push_back(p);
  }
  PolicyConfig sec;
  sec.id = "SEC-01";
  sec.title = "Information Security Policy";
  sec.version = "1.0";
  sec.owner = "alice";
  sec.url = "https://policies.example/sec-01";
  sec.sha256 = sha256_hex("v1");
  sec.effective = "2026-01-15";
  sec.next_review = "2027-01-15";
  c.policies = {sec};
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main() {
  test::Harness h(ten_thousand);
  h.app().seed_policies();
  auto& policies = h.app().policies();

  // Where a campaign's time goes: building 10,000 DMs in a Txn, then one commit of them.
  {
    auto t = std::chrono::steady_clock::now();
    Txn txn;
    for (int i = 0; i < 10000; ++i) {
      Message m;
      m.to = Recipient::person("u" + std::to_string(i));
      m.key = "bench:" + std::to_string(i);
      m.title = "Please read: Information Security Policy v1.0";
      m.buttons.push_back({"policy.ack", "I have read and accept", "SEC-01|1.0|u", {}, {}});
      txn.send(m);
    }
    const double build_ms = ms_since(t);
    t = std::chrono::steady_clock::now();
    h.app().store().commit(txn);
    std::cout << "10,000 bare DMs: build " << build_ms << " ms, commit " << ms_since(t) << " ms\n";
  }
  auto t0 = std::chrono::steady_clock::now();
  const auto first = policies.publish("alice", "SEC-01", {"1.0", true, "", "", std::nullopt});
  const double publish_ms = ms_since(t0);

  // A tenth acknowledge, through the router as a press would.
  std::size_t acked = 0;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10000; i += 10) {
    InboundEvent e;
    e.person = "u" + std::to_string(i);
    e.body = ButtonPress{"policy.ack", "SEC-01|1.0|" + e.person, {}, ""};
    if (!h.app().router().handle(e).error) ++acked;
  }
  const double ack_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  const auto minor =
      policies.publish("alice", "SEC-01", {"1.1", false, sha256_hex("v1.1"), "", std::nullopt});
  const double minor_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  const auto reminded = policies.remind("SEC-01", h.clock().now());
  const double remind_ms = ms_since(t0);

  std::cout << "publish v1.0 to " << first.asked << " people: " << publish_ms << " ms\n"
            << acked << " acknowledgments through the router: " << ack_ms << " ms ("
            << ack_ms / static_cast<double>(acked) << " ms each)\n"
            << "minor v1.1: asked " << minor.asked << ", carried " << minor.carried << ": "
            << minor_ms << " ms\n"
            << "reminder to " << reminded << " people: " << remind_ms << " ms\n";
  return 0;
}
