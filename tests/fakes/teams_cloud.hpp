// A fake of Microsoft's side for Teams tests: OpenID metadata + JWKS, the token endpoint and
// the Bot Connector, recording every call and failing on demand.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "integrations/teams/connector.hpp"
#include "tests/fakes/teams_keys.hpp"

namespace auditbot::test {

class FakeTeamsCloud {
 public:
  static constexpr const char* kMetadataUrl = "https://login.test.invalid/v1/openidconfiguration";
  static constexpr const char* kJwksUrl = "https://login.test.invalid/v1/keys";
  static constexpr const char* kTokenUrl = "https://login.test.invalid/botframework.com/token";
  static constexpr const char* kServiceUrl = "https://smba.trafficmanager.net/amer/";

  explicit FakeTeamsCloud(TeamsSigningKey& key) : key_(&key) {}
  // The same services under other URLs (FakeTeamsHttps: https://127.0.0.1:<port>/...).
  FakeTeamsCloud(TeamsSigningKey& key, std::string metadata_url, std::string jwks_url,
                 std::string token_url, std::string service_url)
      : key_(&key),
        metadata_url_(std::move(metadata_url)),
        jwks_url_(std::move(jwks_url)),
        token_url_(std::move(token_url)),
        service_url_(std::move(service_url)) {}
  const std::string& metadata_url() const { return metadata_url_; }
  const std::string& token_url() const { return token_url_; }
  const std::string& service_url() const { return service_url_; }

  // The transport the Teams integration is given.
  teams::Transport transport();
  teams::HttpAnswer handle(const teams::HttpCall& call);

  // Members known to the roster: Teams user id -> email.
  void add_member(const std::string& user_id, const std::string& aad, const std::string& email);
  // The next connector calls answer these statuses (then normal service resumes);
  // kDropped: the connection breaks before any answer (the transport throws).
  static constexpr unsigned kDropped = 0;
  void fail_next(std::vector<unsigned> statuses, std::string retry_after = "");
  // Users who blocked the bot: sends to their conversations get 403 MessageWritesBlocked.
  void block(const std::string& user_id) { blocked_.insert(user_id); }
  void block_conversation(const std::string& conv, const std::string& user_id) {
    conversation_user_[conv] = user_id;
    blocked_.insert(user_id);
  }
  void rotate_key(TeamsSigningKey& key) { key_ = &key; }
  // Publishes another key beside the main one (e.g. one without the msteams endorsement).
  void add_key(TeamsSigningKey& key) { extra_.push_back(&key); }

  struct Recorded {
    teams::HttpCall call;
    unsigned status;
  };
  std::vector<Recorded> calls() const;
  std::vector<Recorded> calls_to(const std::string& method, const std::string& url_part) const;
  // Activities sent or updated, per conversation id, in order (the JSON bodies).
  std::vector<nlohmann::json> activities(const std::string& conversation) const;
  std::size_t token_requests() const;
  std::size_t key_requests() const;

 private:
  mutable std::mutex mu_;
  TeamsSigningKey* key_;
  std::string metadata_url_ = kMetadataUrl, jwks_url_ = kJwksUrl, token_url_ = kTokenUrl,
              service_url_ = kServiceUrl;
  std::vector<TeamsSigningKey*> extra_;
  std::vector<Recorded> calls_;
  std::deque<unsigned> faults_;
  std::string retry_after_;
  std::set<std::string> blocked_;
  std::map<std::string, std::pair<std::string, std::string>> members_;  // user -> (aad, email)
  std::map<std::string, std::string> conversation_user_;                // conv -> user
  std::map<std::string, std::vector<nlohmann::json>> activities_;
  int next_id_ = 1;
  int tokens_ = 0;
};

}  // namespace auditbot::test
