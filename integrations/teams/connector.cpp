// OpenID keys, client-credentials tokens and Bot Connector calls.
#include "integrations/teams/connector.hpp"

#include <random>
#include <stdexcept>

#include "bot/log.hpp"

namespace auditbot::teams {
namespace {

nlohmann::json parse_object(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return (j.is_discarded() || !j.is_object()) ? nlohmann::json::object() : j;
}

bool retryable(unsigned status) {
  return status == 429 || status == 412 || status == 502 || status == 504;
}

}  // namespace

std::string encode_segment(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += encode_segment(k) + "=" + encode_segment(v);
  }
  return out;
}

// ---------------------------------------------------------------- KeyCache

KeyCache::KeyCache(Transport transport, std::string metadata_url, const Clock& clock)
    : transport_(std::move(transport)), metadata_url_(std::move(metadata_url)), clock_(clock) {}

void KeyCache::fetch_locked() {
  ++fetches_;
  const auto meta = transport_({"GET", metadata_url_, "", "", ""});
  if (meta.status != 200) throw std::runtime_error("OpenID metadata fetch failed");
  const auto doc = parse_object(meta.body);
  const std::string jwks_uri = doc.value("jwks_uri", "");
  if (jwks_uri.rfind("https://", 0) != 0)
    throw std::runtime_error("OpenID metadata lacks jwks_uri");
  const auto keys = transport_({"GET", jwks_uri, "", "", ""});
  if (keys.status != 200) throw std::runtime_error("JWKS fetch failed");
  keys_ = KeySet::parse(parse_object(keys.body));
  fetched_at_ = clock_.now();
}

KeySet KeyCache::keys() {
  std::lock_guard lock(mu_);
  if (!fetched_at_ || clock_.now() - *fetched_at_ > max_age_) fetch_locked();
  return keys_;
}

bool KeyCache::refresh_for_unknown_kid() {
  std::lock_guard lock(mu_);
  const auto now = clock_.now();
  // Forged tokens with random kids must not turn into a flood of key fetches.
  if (last_forced_ && now - *last_forced_ < std::chrono::minutes(1)) return false;
  last_forced_ = now;
  fetch_locked();
  return true;
}

// ---------------------------------------------------------------- TokenCache

TokenCache::TokenCache(Transport transport, std::string token_url, std::string app_id,
                       std::string app_password, const Clock& clock)
    : transport_(std::move(transport)),
      token_url_(std::move(token_url)),
      app_id_(std::move(app_id)),
      app_password_(std::move(app_password)),
      clock_(clock) {}

std::string TokenCache::token() {
  std::lock_guard lock(mu_);  // the second caller waits and then finds the fresh token
  if (!token_.empty() && clock_.now() + std::chrono::minutes(5) < expires_) return token_;
  ++fetches_;
  const auto answer = transport_({"POST", token_url_, "application/x-www-form-urlencoded",
                                  form_encode({{"grant_type", "client_credentials"},
                                               {"client_id", app_id_},
                                               {"client_secret", app_password_},
                                               {"scope", "https://api.botframework.com/.default"}}),
                                  ""});
  const auto doc = parse_object(answer.body);
  if (answer.status != 200 || !doc.contains("access_token") || !doc["access_token"].is_string()) {
    log::error("teams.token_failed",
               {{"status", std::to_string(answer.status)}, {"error", doc.value("error", "")}});
    throw std::runtime_error("Teams token endpoint refused the bot's credentials");
  }
  token_ = doc["access_token"].get<std::string>();
  const auto lifetime = doc.contains("expires_in") && doc["expires_in"].is_number()
                            ? doc["expires_in"].get<std::int64_t>()
                            : 3600;
  expires_ = clock_.now() + std::chrono::seconds(lifetime);
  return token_;
}

void TokenCache::invalidate() {
  std::lock_guard lock(mu_);
  token_.clear();
}

// ---------------------------------------------------------------- Connector

Connector::Connector(Transport transport, TokenCache& tokens, ConnectorOptions options,
                     const Clock& clock, Sleeper sleep, std::function<double()> jitter)
    : transport_(std::move(transport)),
      tokens_(tokens),
      options_(std::move(options)),
      clock_(clock),
      sleep_(std::move(sleep)),
      jitter_(std::move(jitter)) {
  if (!jitter_) {
    jitter_ = [] {
      thread_local std::mt19937 rng{std::random_device{}()};
      return std::uniform_real_distribution<double>(0.5, 1.5)(rng);
    };
  }
}

bool Connector::allowed(std::string_view service_url) const {
  for (const auto& prefix : options_.service_url_allowlist) {
    if (!prefix.empty() && service_url.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

void Connector::pace(const std::string& conversation, const std::string& tenant) {
  using namespace std::chrono;
  std::unique_lock lock(pace_mu_);
  const std::pair<std::string, int> buckets[] = {
      {"c:" + conversation, options_.per_conversation_per_second},
      {"t:" + tenant, options_.per_tenant_per_second}};
  while (true) {
    const auto now = clock_.now();
    milliseconds wait{0};
    for (const auto& [name, limit] : buckets) {
      auto& times = recent_[name];
      std::erase_if(times, [&](TimePoint t) { return now - t >= seconds(1); });
      if (static_cast<int>(times.size()) >= limit) {
        wait = std::max(
            wait, duration_cast<milliseconds>(times.front() + seconds(1) - now) + milliseconds(1));
      }
    }
    if (wait.count() <= 0) break;
    lock.unlock();
    sleep_(wait);
    lock.lock();
  }
  const auto now = clock_.now();
  for (const auto& [name, limit] : buckets)
    recent_[name].push_back(now);
}

ConnectorResult Connector::call(const ConversationRef& ref, const std::string& method,
                                const std::string& path, const nlohmann::json& body, bool is_send) {
  if (!allowed(ref.service_url)) {
    log::warn("teams.service_url_refused", {{"service_url", ref.service_url}});
    throw ServiceUrlNotAllowed("serviceUrl is not on teams.service_url_allowlist");
  }
  std::string base = ref.service_url;
  if (base.empty() || base.back() != '/') base += '/';
  const std::string url = base + path;
  ConnectorResult result;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (is_send) pace(ref.conversation_id, ref.tenant_id);
    const auto answer = transport_({method, url, body.is_null() ? "" : "application/json",
                                    body.is_null() ? "" : body.dump(), tokens_.token()});
    result = ConnectorResult{};
    result.status = answer.status;
    const auto doc = parse_object(answer.body);
    result.id = doc.value("id", "");
    if (doc.contains("error") && doc["error"].is_object()) {
      result.sub_code = doc["error"].value("code", "");
    }
    if (doc.contains("subCode") && doc["subCode"].is_string()) result.sub_code = doc["subCode"];
    if (!answer.retry_after.empty()) {
      try {
        result.retry_after = std::chrono::seconds(std::stoll(answer.retry_after));
      } catch (const std::exception&) {
      }
    }
    log::debug("teams.connector", {{"method", method},
                                   {"status", std::to_string(answer.status)},
                                   {"operation_id", answer.operation_id}});
    if (answer.status == 401 && attempt == 1) {
      tokens_.invalidate();  // a token revoked early: fetch a new one once
      continue;
    }
    if (!retryable(answer.status) || attempt == options_.max_attempts) break;
    auto backoff = std::chrono::milliseconds(static_cast<std::int64_t>(
        static_cast<double>(options_.base_backoff.count() * (1 << (attempt - 1))) * jitter_()));
    backoff = std::max<std::chrono::milliseconds>(backoff, result.retry_after);
    log::info("teams.retry",
              {{"status", std::to_string(answer.status)}, {"attempt", std::to_string(attempt)}});
    sleep_(backoff);
  }
  return result;
}

ConnectorResult Connector::send(const ConversationRef& ref, const nlohmann::json& activity) {
  return call(ref, "POST",
              "v3/conversations/" + encode_segment(ref.conversation_id) + "/activities", activity,
              true);
}

ConnectorResult Connector::reply(const ConversationRef& ref, const std::string& activity_id,
                                 const nlohmann::json& activity) {
  auto a = activity;
  a["replyToId"] = activity_id;
  return call(ref, "POST",
              "v3/conversations/" + encode_segment(ref.conversation_id) + "/activities/" +
                  encode_segment(activity_id),
              a, true);
}

ConnectorResult Connector::update(const ConversationRef& ref, const std::string& activity_id,
                                  const nlohmann::json& activity) {
  auto a = activity;
  a["id"] = activity_id;
  return call(ref, "PUT",
              "v3/conversations/" + encode_segment(ref.conversation_id) + "/activities/" +
                  encode_segment(activity_id),
              a, true);
}

ConnectorResult Connector::create_conversation(const ConversationRef& ref) {
  const nlohmann::json body = {{"bot", {{"id", ref.bot_id}, {"name", ref.bot_name}}},
                               {"members", nlohmann::json::array({{{"id", ref.user_id}}})},
                               {"channelData", {{"tenant", {{"id", ref.tenant_id}}}}},
                               {"isGroup", false},
                               {"tenantId", ref.tenant_id}};
  return call(ref, "POST", "v3/conversations", body, true);
}

std::optional<nlohmann::json> Connector::member(const ConversationRef& ref) {
  if (!allowed(ref.service_url)) return std::nullopt;
  std::string base = ref.service_url;
  if (base.empty() || base.back() != '/') base += '/';
  const auto answer = transport_({"GET",
                                  base + "v3/conversations/" + encode_segment(ref.conversation_id) +
                                      "/members/" + encode_segment(ref.user_id),
                                  "", "", tokens_.token()});
  if (answer.status != 200) return std::nullopt;
  return parse_object(answer.body);
}

}  // namespace auditbot::teams
