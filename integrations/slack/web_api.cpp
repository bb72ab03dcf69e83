// Slack Web API calls over the shared HTTPS client.
#include "integrations/slack/web_api.hpp"

#include <cctype>
#include <random>
#include <thread>

#include "bot/log.hpp"

namespace auditbot::slack {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

WebApi::WebApi(http::Client& client, WebApiOptions options)
    : client_(client), options_(std::move(options)) {
  if (!options_.base_url.empty() && options_.base_url.back() != '/') options_.base_url += '/';
}

bool WebApi::wait(std::chrono::milliseconds d) {
  if (d.count() <= 0) return true;
  std::unique_lock lock(wait_mu_);
  if (stop_waiting_) return false;
  if (options_.sleep) {
    lock.unlock();
    options_.sleep(d);
    return true;
  }
  return !wait_cv_.wait_for(lock, d, [this] { return stop_waiting_; });
}

void WebApi::stop_waiting() {
  {
    std::lock_guard lock(wait_mu_);
    stop_waiting_ = true;
  }
  wait_cv_.notify_all();
}

std::chrono::milliseconds WebApi::backoff(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const auto cap = std::min<std::int64_t>(options_.backoff_max.count(),
                                          options_.backoff_min.count() << std::min(attempt, 10));
  std::uniform_int_distribution<std::int64_t> d(options_.backoff_min.count() / 2,
                                                std::max<std::int64_t>(cap, 1));
  return std::chrono::milliseconds(d(rng));
}

http::Response WebApi::send_with_retries(const http::Request& req, const std::string& what,
                                         bool resend_if_maybe_sent) {
  std::chrono::milliseconds last_wait{0};
  for (int attempt = 1;; ++attempt) {
    const bool last = attempt >= options_.max_attempts;
    try {
      http::Response res = client_.send(req);
      if (res.status == 429) {
        std::int64_t secs = 1;
        try {
          secs = std::max<std::int64_t>(0, std::stoll(res.header("retry-after")));
        } catch (const std::exception&) {
        }
        last_wait = std::chrono::milliseconds(secs * 1000);
        log::info("slack.rate_limited", {{"call", what}, {"retry_after_s", std::to_string(secs)}});
        if (last || last_wait > options_.max_retry_after) {
          throw RetryLater(what + ": rate limited", std::max(last_wait, 1000ms));
        }
        if (!wait(last_wait)) throw RetryLater(what + ": stopping", last_wait);
        continue;
      }
      if (res.status >= 500) {
        last_wait = backoff(attempt);
        log::warn("slack.server_error", {{"call", what}, {"status", std::to_string(res.status)}});
        if (last || !wait(last_wait)) {
          throw RetryLater(what + ": HTTP " + std::to_string(res.status), last_wait);
        }
        continue;
      }
      return res;
    } catch (const http::HttpError& e) {
      // Dropped or timed-out calls are retried: Slack's writes are keyed (chat.update by ts)
      // or, for outbox posts, handed back so the outbox checks Slack's history first.
      last_wait = backoff(attempt);
      log::warn("slack.transport", {{"call", what}, {"detail", e.what()}});
      const bool maybe_sent = e.kind() == http::HttpError::Kind::timeout ||
                              e.kind() == http::HttpError::Kind::closed ||
                              e.kind() == http::HttpError::Kind::protocol;
      if (last || (maybe_sent && !resend_if_maybe_sent) || !wait(last_wait)) {
        throw RetryLater(what + ": " + e.what(), last_wait);
      }
    }
  }
}

nlohmann::json WebApi::call_with_token(const std::string& method, const nlohmann::json& args,
                                       const std::string& token, bool resend_if_maybe_sent) {
  http::Request req;
  req.method = bhttp::verb::post;
  req.url = options_.base_url + method;
  req.bearer = token;
  req.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  req.body = args.dump();
  const http::Response res = send_with_retries(req, method, resend_if_maybe_sent);
  nlohmann::json j = nlohmann::json::parse(res.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw ApiError(method,
                   res.status == 200 ? "invalid_json" : "http_" + std::to_string(res.status));
  }
  if (!j.value("ok", false)) throw ApiError(method, j.value("error", "unknown_error"));
  return j;
}

nlohmann::json WebApi::call_form(const std::string& method,
                                 const std::vector<std::pair<std::string, std::string>>& args) {
  auto encode = [](const std::string& v) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  };
  http::Request req;
  req.method = bhttp::verb::post;
  req.url = options_.base_url + method;
  req.bearer = options_.token;
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  for (const auto& [k, v] : args)
    req.body += (req.body.empty() ? "" : "&") + encode(k) + "=" + encode(v);
  const http::Response res = send_with_retries(req, method);
  nlohmann::json j = nlohmann::json::parse(res.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw ApiError(method,
                   res.status == 200 ? "invalid_json" : "http_" + std::to_string(res.status));
  }
  if (!j.value("ok", false)) throw ApiError(method, j.value("error", "unknown_error"));
  return j;
}

nlohmann::json WebApi::call(const std::string& method, const nlohmann::json& args) {
  return call_with_token(method, args, options_.token);
}

void WebApi::pace(const std::string& channel) {
  if (options_.channel_interval.count() <= 0 || channel.empty()) return;
  std::chrono::steady_clock::time_point slot;
  {
    std::lock_guard lock(pace_mu_);
    const auto now = std::chrono::steady_clock::now();
    auto& next = next_slot_[channel];
    slot = std::max(next, now);
    next = slot + options_.channel_interval;
  }
  if (!wait(std::chrono::duration_cast<std::chrono::milliseconds>(
          slot - std::chrono::steady_clock::now()))) {
    throw RetryLater("paced call in " + channel + ": stopping", options_.channel_interval);
  }
}

nlohmann::json WebApi::post_message(const nlohmann::json& args) {
  pace(args.value("channel", ""));
  return call_with_token("chat.postMessage", args, options_.token, !args.contains("metadata"));
}

nlohmann::json WebApi::update_message(const nlohmann::json& args) {
  pace(args.value("channel", ""));
  return call("chat.update", args);
}

nlohmann::json WebApi::post_ephemeral(const std::string& channel, const std::string& user,
                                      const nlohmann::json& body) {
  nlohmann::json args = body;
  args["channel"] = channel;
  args["user"] = user;
  return call("chat.postEphemeral", args);
}

std::string WebApi::open_dm(const std::string& user_id) {
  auto j = call("conversations.open", {{"users", user_id}});
  return j.at("channel").at("id").get<std::string>();
}

nlohmann::json WebApi::user_info(const std::string& user_id) {
  return call("users.info", {{"user", user_id}}).at("user");
}

std::string WebApi::lookup_by_email(const std::string& email) {
  try {
    return call("users.lookupByEmail", {{"email", email}}).at("user").at("id").get<std::string>();
  } catch (const ApiError& e) {
    if (e.error() == "users_not_found" || e.error() == "user_not_found") return "";
    throw;
  }
}

nlohmann::json WebApi::views_open(const std::string& trigger_id, const nlohmann::json& view) {
  return call("views.open", {{"trigger_id", trigger_id}, {"view", view}});
}

nlohmann::json WebApi::views_update(const std::string& view_id, const nlohmann::json& view) {
  return call("views.update", {{"view_id", view_id}, {"view", view}});
}

nlohmann::json WebApi::views_publish(const std::string& user_id, const nlohmann::json& view) {
  return call("views.publish", {{"user_id", user_id}, {"view", view}});
}

void WebApi::reactions_add(const std::string& channel, const std::string& ts,
                           const std::string& name) {
  try {
    call("reactions.add", {{"channel", channel}, {"timestamp", ts}, {"name", name}});
  } catch (const ApiError& e) {
    if (e.error() != "already_reacted") throw;
  }
}

nlohmann::json WebApi::auth_test() {
  return call("auth.test", nlohmann::json::object());
}

nlohmann::json WebApi::conversations_history(const std::string& channel, int limit,
                                             const std::string& oldest) {
  std::vector<std::pair<std::string, std::string>> args{
      {"channel", channel}, {"limit", std::to_string(limit)}, {"include_all_metadata", "true"}};
  if (!oldest.empty()) args.emplace_back("oldest", oldest);
  return call_form("conversations.history", args).value("messages", nlohmann::json::array());
}

nlohmann::json WebApi::conversations_replies(const std::string& channel, const std::string& root_ts,
                                             int limit, const std::string& oldest) {
  std::vector<std::pair<std::string, std::string>> args{{"channel", channel},
                                                        {"ts", root_ts},
                                                        {"limit", std::to_string(limit)},
                                                        {"include_all_metadata", "true"}};
  if (!oldest.empty()) args.emplace_back("oldest", oldest);
  return call_form("conversations.replies", args).value("messages", nlohmann::json::array());
}

void WebApi::respond(const std::string& response_url, const nlohmann::json& body) {
  http::Request req;
  req.method = bhttp::verb::post;
  req.url = response_url;
  req.headers.push_back({"Content-Type", "application/json; charset=utf-8"});
  req.body = body.dump();
  const auto res = send_with_retries(req, "response_url");
  if (res.status >= 300) throw ApiError("response_url", "http_" + std::to_string(res.status));
}

}  // namespace auditbot::slack
