// A fake Slack on loopback HTTPS (FakeHttpsServer): the Web API methods auditbot calls,
// users U<ID> with emails <id>@test.example, DMs D<ID>, response_url endpoints, all recorded.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/fakes/fake_https_server.hpp"

namespace auditbot::test {

class FakeSlack {
 public:
  FakeSlack();
  FakeHttpsServer& server() { return server_; }
  std::string api_url() const { return server_.base_url() + "/api/"; }
  std::string response_url(const std::string& name) const {
    return server_.base_url() + "/respond/" + name;
  }
  // "bob" -> "UBOB"
  static std::string user_id(const std::string& person);
  // JSON bodies of every call to `method` ("chat.postMessage"), oldest first.
  std::vector<nlohmann::json> calls(const std::string& method) const;
  // JSON bodies posted to response_url `name`.
  std::vector<nlohmann::json> responses(const std::string& name) const;

  // Every `every`-th chat.postMessage call (counting all calls) gets 429 + Retry-After.
  void rate_limit_posts(int every, int retry_after_seconds);
  // The `n`-th accepted chat.postMessage (1-based) is kept, but answered only after `delay`.
  void delay_accepted_post(std::size_t n, std::chrono::milliseconds delay);
  // Accepted chat.postMessage bodies (with the "ts" given), oldest first; conversations.history
  // (top-level ones) and conversations.replies (one thread's) answer from these.
  std::vector<nlohmann::json> posted() const;
  std::size_t posted_count() const;

  struct State;  // what the answers remember

 private:
  std::shared_ptr<State> state_;
  FakeHttpsServer server_;
};

}  // namespace auditbot::test
