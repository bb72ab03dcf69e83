// Slack's side of Socket Mode in tests.
#include "tests/fakes/fake_slack_socket.hpp"

#include <atomic>

namespace auditbot::test {

using nlohmann::json;

std::optional<FakeSocket> FakeSocket::accept(FakeHttpsServer& server,
                                             std::chrono::milliseconds timeout, bool say_hello) {
  auto ws = server.next_ws(timeout);
  if (!ws) return std::nullopt;
  FakeSocket s(std::move(ws));
  if (say_hello) s.hello();
  return s;
}

void FakeSocket::hello() {
  ws_->send(json{{"type", "hello"},
                 {"num_connections", 1},
                 {"connection_info", {{"app_id", "A1"}}},
                 {"debug_info", {{"host", "applink-fake"}, {"approximate_connection_time", 3600}}}}
                .dump());
}

std::string FakeSocket::push(const std::string& type, const json& payload, bool accepts) {
  static std::atomic<int> n{0};
  const std::string id = "env-" + std::to_string(++n);
  ws_->send(json{
      {"envelope_id", id},
      {"type", type},
      {"payload", payload},
      {"accepts_response_payload",
       accepts}}.dump());
  return id;
}

std::optional<json> FakeSocket::ack(const std::string& envelope_id,
                                    std::chrono::milliseconds timeout) {
  auto match = [&]() -> std::optional<json> {
    for (const auto& f : seen_)
      if (f.is_object() && f.value("envelope_id", "") == envelope_id) return f;
    return std::nullopt;
  };
  if (auto f = match()) return f;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto text = ws_->next(std::max(left, std::chrono::milliseconds(1)));
    if (!text) {
      if (ws_->closed()) return std::nullopt;
      continue;
    }
    seen_.push_back(json::parse(*text, nullptr, false));
    if (auto f = match()) return f;
  }
  return std::nullopt;
}

void FakeSocket::disconnect(const std::string& reason) {
  ws_->send(json{{"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "wss-fake"}}}}
                .dump());
}

std::vector<json> FakeSocket::frames() {
  while (auto text = ws_->next(std::chrono::milliseconds(0)))
    seen_.push_back(json::parse(*text, nullptr, false));
  return seen_;
}

}  // namespace auditbot::test
