// Slack Web API client: bearer token, JSON bodies, `ok:false` as a typed error, 429
// Retry-After honoured, 5xx and dropped connections retried with jittered backoff, and
// about one message per second per channel for chat.postMessage / chat.update.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "integrations/http/https_client.hpp"

namespace auditbot::slack {

// Slack answered ok:false (`error()` is Slack's code, e.g. "channel_not_found").
class ApiError : public std::runtime_error {
 public:
  ApiError(std::string method, std::string error)
      : std::runtime_error(method + ": " + error),
        method_(std::move(method)),
        error_(std::move(error)) {}
  const std::string& method() const { return method_; }
  const std::string& error() const { return error_; }

 private:
  std::string method_, error_;
};

// Still rate limited (or unreachable) after the allowed attempts; try again later.
class RetryLater : public std::runtime_error {
 public:
  RetryLater(const std::string& what, std::chrono::milliseconds after)
      : std::runtime_error(what), after_(after) {}
  std::chrono::milliseconds after() const { return after_; }

 private:
  std::chrono::milliseconds after_;
};

struct WebApiOptions {
  std::string base_url = "https://slack.com/api/";  // ends with '/'
  std::string token;                                // xoxb-... (or xapp-... for Socket Mode)
  int max_attempts = 4;                             // per call, for 429 / 5xx / dropped
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds max_retry_after{30000};  // longer waits become RetryLater
  std::chrono::milliseconds channel_interval{1000};  // pacing per channel
  // How to wait (tests pass a recorder); defaults to sleeping this thread.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class WebApi {
 public:
  WebApi(http::Client& client, WebApiOptions options);

  // POSTs `args` as JSON to <base_url><method>; returns the whole answer when ok:true.
  nlohmann::json call(const std::string& method, const nlohmann::json& args);
  // Same, with another token (apps.connections.open takes the app-level token).
  // `resend_if_maybe_sent` false: a call whose connection broke after the request went out
  // is not sent again here but ends in RetryLater (the caller checks Slack first).
  nlohmann::json call_with_token(const std::string& method, const nlohmann::json& args,
                                 const std::string& token, bool resend_if_maybe_sent = true);
  // Same, form-encoded: Slack's read methods (conversations.history/replies) take no JSON.
  nlohmann::json call_form(const std::string& method,
                           const std::vector<std::pair<std::string, std::string>>& args);

  // Convenience wrappers.
  // Paced by args["channel"]. A message carrying outbox metadata is never re-posted after a
  // connection broke mid-call: the outbox looks for it on Slack before sending it again.
  nlohmann::json post_message(const nlohmann::json& args);
  nlohmann::json update_message(const nlohmann::json& args);
  nlohmann::json post_ephemeral(const std::string& channel, const std::string& user,
                                const nlohmann::json& body);
  std::string open_dm(const std::string& user_id);        // conversations.open -> channel id
  nlohmann::json user_info(const std::string& user_id);   // the "user" object
  std::string lookup_by_email(const std::string& email);  // user id, "" when not found
  nlohmann::json views_open(const std::string& trigger_id, const nlohmann::json& view);
  nlohmann::json views_update(const std::string& view_id, const nlohmann::json& view);
  nlohmann::json views_publish(const std::string& user_id, const nlohmann::json& view);
  void reactions_add(const std::string& channel, const std::string& ts, const std::string& name);
  nlohmann::json auth_test();
  // conversations.history (form-encoded: Slack reads no JSON here), newest first, at most
  // `limit` messages no older than `oldest` (a Slack ts; "" = any), with message metadata:
  // the "messages" array.
  nlohmann::json conversations_history(const std::string& channel, int limit,
                                       const std::string& oldest = "");
  // conversations.replies: the thread under `root_ts` (its root first, then replies oldest
  // first), at most `limit` messages no older than `oldest`, with metadata: the "messages".
  nlohmann::json conversations_replies(const std::string& channel, const std::string& root_ts,
                                       int limit, const std::string& oldest = "");
  // POSTs a message body to an interaction's response_url (same retries, no token).
  void respond(const std::string& response_url, const nlohmann::json& body);

  const WebApiOptions& options() const { return options_; }

  // For a prompt shutdown: from now on no call waits (Retry-After, backoff, pacing) — a call
  // that would wait ends in RetryLater at once, and waits under way end now.
  void stop_waiting();

 private:
  http::Response send_with_retries(const http::Request& req, const std::string& what,
                                   bool resend_if_maybe_sent = true);
  void pace(const std::string& channel);
  std::chrono::milliseconds backoff(int attempt);
  // False when stop_waiting() ended (or precedes) the wait.
  bool wait(std::chrono::milliseconds d);

  http::Client& client_;
  WebApiOptions options_;
  std::mutex wait_mu_;
  std::condition_variable wait_cv_;
  bool stop_waiting_ = false;
  std::mutex pace_mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> next_slot_;  // per channel
};

}  // namespace auditbot::slack
