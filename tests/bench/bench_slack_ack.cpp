// Ack latency of signed /soc2 slash commands through the real HTTP listener on loopback,
// with the router work (real Redis, fake Slack for the replies) running after each ack.
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <iostream>
#include <thread>

#include "integrations/slack/events.hpp"
#include "integrations/slack/signature.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/harness.hpp"

using namespace auditbot;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

int main(int argc, char** argv) {
  const int threads = 4;
  const int per_thread = argc > 1 ? std::atoi(argv[1]) : 250;
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
  eo.signing_secret = "bench-secret";
  slack::SlackEvents events(h.app().router(), people, api, h.app().store(), h.clock(), eo);
  HttpServer server(HttpServerOptions{}, {events.route()});
  const auto port = server.start();

  std::vector<std::vector<double>> lat(threads);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      boost::asio::io_context ioc;
      boost::asio::ip::tcp::socket sock(ioc);
      sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
      boost::beast::flat_buffer buf;
      for (int i = 0; i < per_thread; ++i) {
        const std::string body =
            "command=%2Fsoc2&user_id=UBOB&channel_id=C1&text=mine&trigger_id=b" +
            std::to_string(t) + "-" + std::to_string(i) +
            "&response_url=" + "https%3A%2F%2F127.0.0.1%3A" + std::to_string(fake.server().port()) +
            "%2Frespond%2Fb";
        const std::string stamp = std::to_string(unix_seconds(h.clock().now()));
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/slack/events", 11};
        req.set(bhttp::field::host, "127.0.0.1");
        req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
        req.set("X-Slack-Request-Timestamp", stamp);
        req.set("X-Slack-Signature", slack::compute_signature("bench-secret", stamp, body));
        req.body() = body;
        req.prepare_payload();
        const auto start = std::chrono::steady_clock::now();
        bhttp::write(sock, req);
        bhttp::response<bhttp::string_body> res;
        bhttp::read(sock, buf, res);
        lat[t].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
        if (res.result_int() != 200) std::cerr << "status " << res.result_int() << "\n";
      }
    });
  }
  for (auto& t : ts)
    t.join();
  events.wait_idle();
  server.stop();
  std::vector<double> all;
  for (auto& v : lat)
    all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  std::cout << "requests " << all.size() << " (" << threads << " connections)\n"
            << "ack median ms " << all[all.size() / 2] << "\n"
            << "ack p99 ms " << all[all.size() * 99 / 100] << "\n"
            << "ack max ms " << all.back() << "\n";
}
