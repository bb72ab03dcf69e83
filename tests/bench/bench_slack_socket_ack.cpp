// Ack latency of /soc2 slash command envelopes over Socket Mode: the fake Slack pushes
// envelopes on its TLS WebSocket and times each until the ack by envelope_id comes back;
// the router work (real Redis, replies to a fake response_url) runs after each ack.
#include <algorithm>
#include <iostream>

#include "integrations/slack/events.hpp"
#include "integrations/slack/socket_mode.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/fakes/fake_slack_socket.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/harness.hpp"

using namespace auditbot;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  test::Harness h;
  test::FakeSlack fake;
  http::ClientOptions co;
  co.ca_file = test::TestCa::get().ca_file;
  http::Client client(co);
  slack::WebApiOptions wo;
  wo.base_url = fake.api_url();
  wo.token = "xoxb-bench";
  wo.channel_interval = 0ms;
  slack::WebApi api(client, wo);
  slack::SlackPeople people(h.app().people(), h.app().store(), &api);
  slack::EventsOptions eo;
  slack::SlackEvents events(h.app().router(), people, api, h.app().store(), h.clock(), eo);
  slack::SocketModeOptions so;
  so.app_token = "xapp-bench";
  so.ca_file = test::TestCa::get().ca_file;
  slack::SocketMode socket(
      api, [&](const std::string& t, const nlohmann::json& p) { return events.on_envelope(t, p); },
      so);
  socket.start();
  auto link = test::FakeSocket::accept(fake.server());
  if (!link) {
    std::cerr << "no Socket Mode connection\n";
    return 1;
  }
  std::vector<double> lat;
  for (int i = 0; i < count; ++i) {
    const nlohmann::json payload = {{"command", "/soc2"},
                                    {"user_id", "UBOB"},
                                    {"channel_id", "C1"},
                                    {"text", "mine"},
                                    {"trigger_id", "s" + std::to_string(i)},
                                    {"response_url", fake.response_url("b")}};
    const auto start = std::chrono::steady_clock::now();
    const std::string id = link->push("slash_commands", payload, true);
    if (!link->ack(id, 10s)) std::cerr << "no ack for " << id << "\n";
    lat.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  events.wait_idle();
  socket.stop();
  std::sort(lat.begin(), lat.end());
  std::cout << "envelopes " << lat.size() << " (one connection, sequential)\n"
            << "ack median ms " << lat[lat.size() / 2] << "\n"
            << "ack p99 ms " << lat[lat.size() * 99 / 100] << "\n"
            << "ack max ms " << lat.back() << "\n";
}
