// Slack's side of a Socket Mode connection for tests: says hello, pushes envelopes, reads
// the acks by envelope_id, sends `disconnect`, closes or drops the link.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/fakes/fake_https_server.hpp"

namespace auditbot::test {

class FakeSocket {
 public:
  explicit FakeSocket(std::shared_ptr<FakeWsConnection> ws) : ws_(std::move(ws)) {}

  // The next Socket Mode connection accepted by `server` (hello sent unless told not to);
  // nullopt on timeout.
  static std::optional<FakeSocket> accept(
      FakeHttpsServer& server, std::chrono::milliseconds timeout = std::chrono::seconds(10),
      bool say_hello = true);

  void hello();
  // Pushes {"envelope_id","type","payload","accepts_response_payload"}; returns the id.
  std::string push(const std::string& type, const nlohmann::json& payload,
                   bool accepts_response_payload = false);
  // The client's ack for `envelope_id` (other frames read meanwhile are kept); nullopt when
  // none arrives in `timeout` or the link closed.
  std::optional<nlohmann::json> ack(const std::string& envelope_id,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void disconnect(const std::string& reason);  // {"type":"disconnect","reason":...}
  void send_raw(const std::string& text) { ws_->send(text); }
  void close() { ws_->close(); }
  void drop() { ws_->drop(); }
  bool closed() const { return ws_->closed(); }
  std::string target() const { return ws_->target(); }
  // Every frame the client sent so far, in order (reads what is pending first).
  std::vector<nlohmann::json> frames();

 private:
  std::shared_ptr<FakeWsConnection> ws_;
  std::vector<nlohmann::json> seen_;
};

}  // namespace auditbot::test
