// Microsoft's side of Teams over real TLS on loopback: OpenID metadata, JWKS, the token
// endpoint and the Bot Connector (FakeTeamsCloud) served by a FakeHttpsServer with the test CA.
#pragma once

#include <memory>
#include <string>

#include "tests/fakes/fake_https_server.hpp"
#include "tests/fakes/teams_cloud.hpp"

namespace auditbot::test {

class FakeTeamsHttps {
 public:
  explicit FakeTeamsHttps(TeamsSigningKey& key);
  FakeTeamsHttps(const FakeTeamsHttps&) = delete;
  FakeTeamsHttps& operator=(const FakeTeamsHttps&) = delete;

  // https://127.0.0.1:<port>/v1/.well-known/openidconfiguration and so on.
  const std::string& metadata_url() const { return cloud_->metadata_url(); }
  const std::string& token_url() const { return cloud_->token_url(); }
  const std::string& service_url() const { return cloud_->service_url(); }  // ends with '/'

  // Recording, members, blocking and fault injection (fail_next: 429, 412, 502, 504...).
  FakeTeamsCloud& cloud() { return *cloud_; }
  // The raw requests as they arrived over TLS (headers included).
  FakeHttpsServer& server() { return server_; }

 private:
  FakeHttpsServer server_;
  std::unique_ptr<FakeTeamsCloud> cloud_;
};

}  // namespace auditbot::test
