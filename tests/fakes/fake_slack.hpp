// A fake Slack on loopback HTTPS (FakeHttpsServer): the Web API methods auditbot calls,
// users U<ID> with emails <id>@test.example, DMs D<ID>, response_url endpoints, all recorded.
#pragma once

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

 private:
  FakeHttpsServer server_;
};

}  // namespace auditbot::test
