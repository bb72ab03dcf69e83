// Talking to Microsoft: OpenID metadata -> JWKS (cached), the client-credentials token
// (cached, refreshed once under concurrency) and the Bot Connector REST calls, paced and retried.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bot/clock.hpp"
#include "integrations/teams/activity.hpp"
#include "integrations/teams/jwt.hpp"

namespace auditbot::teams {

// One HTTP exchange, independent of the transport (the shared HTTPS client in production,
// an in-process fake in unit tests).
struct HttpCall {
  std::string method;  // GET, POST, PUT
  std::string url;
  std::string content_type;
  std::string body;
  std::string bearer;  // empty = no Authorization header
};
struct HttpAnswer {
  unsigned status = 0;
  std::string body;
  std::string retry_after;   // Retry-After header, seconds
  std::string operation_id;  // X-Correlating-OperationId
};
// Throws on transport failure (connect, TLS, timeout).
using Transport = std::function<HttpAnswer(const HttpCall&)>;
using Sleeper = std::function<void(std::chrono::milliseconds)>;

// The inbound signing keys, fetched through the OpenID metadata document.
class KeyCache {
 public:
  KeyCache(Transport transport, std::string metadata_url, const Clock& clock);
  // The current keys, fetched on first use and again after `max_age`.
  KeySet keys();
  // Refetches because a token named an unknown kid; at most once a minute. True if refetched.
  bool refresh_for_unknown_kid();
  std::size_t fetches() const { return fetches_; }

 private:
  void fetch_locked();
  Transport transport_;
  std::string metadata_url_;
  const Clock& clock_;
  std::mutex mu_;
  KeySet keys_;
  std::optional<TimePoint> fetched_at_;
  std::optional<TimePoint> last_forced_;
  std::size_t fetches_ = 0;
  std::chrono::hours max_age_{24};
};

// Client-credentials token for the Bot Connector.
class TokenCache {
 public:
  TokenCache(Transport transport, std::string token_url, std::string app_id,
             std::string app_password, const Clock& clock);
  // A valid token; fetched when none is cached or it ends within 5 minutes. Concurrent
  // callers wait for one fetch. Throws std::runtime_error when the endpoint refuses.
  std::string token();
  void invalidate();  // after a 401 from the Connector
  std::size_t fetches() const { return fetches_; }

 private:
  Transport transport_;
  std::string token_url_, app_id_, app_password_;
  const Clock& clock_;
  std::mutex mu_;
  std::string token_;
  TimePoint expires_{};
  std::size_t fetches_ = 0;
};

struct ConnectorOptions {
  std::vector<std::string> service_url_allowlist;
  int max_attempts = 4;
  std::chrono::milliseconds base_backoff{500};
  // Per conversation 7 sends a second; per tenant 50 requests a second (protocols.md 11).
  int per_conversation_per_second = 7;
  int per_tenant_per_second = 50;
};

// The Connector's answer to one operation.
struct ConnectorResult {
  unsigned status = 0;
  std::string id;        // activity or conversation id on success
  std::string sub_code;  // e.g. MessageWritesBlocked
  std::chrono::milliseconds retry_after{0};
  bool ok() const { return status >= 200 && status < 300; }
  bool blocked() const { return status == 403 && sub_code == "MessageWritesBlocked"; }
};

// Thrown (before anything is sent) for a serviceUrl outside the allow-list.
class ServiceUrlNotAllowed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Connector {
 public:
  Connector(Transport transport, TokenCache& tokens, ConnectorOptions options, const Clock& clock,
            Sleeper sleep, std::function<double()> jitter = {});

  bool allowed(std::string_view service_url) const;
  ConnectorResult send(const ConversationRef& ref, const nlohmann::json& activity);
  ConnectorResult reply(const ConversationRef& ref, const std::string& activity_id,
                        const nlohmann::json& activity);
  ConnectorResult update(const ConversationRef& ref, const std::string& activity_id,
                         const nlohmann::json& activity);
  // A 1:1 conversation with ref.user_id in ref.tenant_id; result.id is its conversation id.
  ConnectorResult create_conversation(const ConversationRef& ref);
  // {email, userPrincipalName, ...} of one member, or nullopt.
  std::optional<nlohmann::json> member(const ConversationRef& ref);

 private:
  ConnectorResult call(const ConversationRef& ref, const std::string& method,
                       const std::string& path, const nlohmann::json& body, bool is_send);
  void pace(const std::string& conversation, const std::string& tenant);
  Transport transport_;
  TokenCache& tokens_;
  ConnectorOptions options_;
  const Clock& clock_;
  Sleeper sleep_;
  std::function<double()> jitter_;
  std::mutex pace_mu_;
  std::map<std::string, std::vector<TimePoint>> recent_;  // window of send times per bucket
};

// URL-encodes a path segment (conversation ids contain ':' and ';').
std::string encode_segment(std::string_view s);
// "a=b&c=d" form body with percent-encoding.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace auditbot::teams
