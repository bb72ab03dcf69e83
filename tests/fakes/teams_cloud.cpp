// In-process fake of the Bot Framework services.
#include "tests/fakes/teams_cloud.hpp"

#include "integrations/http/https_client.hpp"

namespace auditbot::test {
namespace {
bool starts_with(const std::string& s, const std::string& p) {
  return s.rfind(p, 0) == 0;
}

std::string decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}
}  // namespace

teams::Transport FakeTeamsCloud::transport() {
  return [this](const teams::HttpCall& c) { return handle(c); };
}

void FakeTeamsCloud::add_member(const std::string& user_id, const std::string& aad,
                                const std::string& email) {
  std::lock_guard lock(mu_);
  members_[user_id] = {aad, email};
}

void FakeTeamsCloud::fail_next(std::vector<unsigned> statuses, std::string retry_after) {
  std::lock_guard lock(mu_);
  for (auto s : statuses)
    faults_.push_back(s);
  retry_after_ = std::move(retry_after);
}

teams::HttpAnswer FakeTeamsCloud::handle(const teams::HttpCall& c) {
  std::lock_guard lock(mu_);
  auto answer = [&](unsigned status, nlohmann::json body) {
    calls_.push_back({c, status});
    teams::HttpAnswer a;
    a.status = status;
    a.body = body.is_null() ? "" : body.dump();
    a.operation_id = "op-" + std::to_string(calls_.size());
    if (status == 429) a.retry_after = retry_after_;
    return a;
  };
  if (c.url == metadata_url_) {
    return answer(200, {{"issuer", "https://api.botframework.com"},
                        {"jwks_uri", jwks_url_},
                        {"id_token_signing_alg_values_supported", {"RS256"}}});
  }
  if (c.url == jwks_url_) {
    auto jwks = key_->jwks();
    for (auto* k : extra_)
      jwks["keys"].push_back(k->jwk());
    return answer(200, jwks);
  }
  if (c.url == token_url_) {
    if (c.method != "POST" || c.body.find("grant_type=client_credentials") == std::string::npos ||
        c.body.find("client_secret=s3cret-pw") == std::string::npos) {
      return answer(401, {{"error", "invalid_client"}});
    }
    ++tokens_;
    return answer(200, {{"token_type", "Bearer"},
                        {"expires_in", 3600},
                        {"access_token", "bf-token-" + std::to_string(tokens_)}});
  }
  if (!starts_with(c.url, service_url_)) return answer(404, nullptr);
  if (!starts_with(c.bearer, "bf-token-")) return answer(401, nullptr);
  if (!faults_.empty()) {
    const auto s = faults_.front();
    faults_.pop_front();
    if (s == kDropped) {
      calls_.push_back({c, 0});
      throw http::HttpError(http::HttpError::Kind::closed,
                            "connection closed before an answer (injected)");
    }
    return answer(s, {{"error", {{"code", "Injected"}}}});
  }
  const std::string path = c.url.substr(service_url_.size());
  const auto body = nlohmann::json::parse(c.body.empty() ? "null" : c.body, nullptr, false);
  if (path == "v3/conversations" && c.method == "POST") {
    const std::string user = body["members"][0].value("id", "");
    if (blocked_.count(user)) {
      return answer(403, {{"error", {{"code", "MessageWritesBlocked"}}}});
    }
    const std::string conv = "a:dm-" + user;
    conversation_user_[conv] = user;
    return answer(201, {{"id", conv}});
  }
  const std::string prefix = "v3/conversations/";
  if (!starts_with(path, prefix)) return answer(404, nullptr);
  const auto rest = path.substr(prefix.size());
  const auto slash = rest.find('/');
  const std::string conv = decode(rest.substr(0, slash));
  const std::string tail = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (c.method == "GET" && starts_with(tail, "members/")) {
    const auto user = decode(tail.substr(8));
    const auto it = members_.find(user);
    if (it == members_.end()) return answer(404, nullptr);
    return answer(200, {{"id", user},
                        {"aadObjectId", it->second.first},
                        {"email", it->second.second},
                        {"userPrincipalName", it->second.second}});
  }
  if (const auto u = conversation_user_.find(conv);
      u != conversation_user_.end() && blocked_.count(u->second)) {
    return answer(403, {{"error", {{"code", "MessageWritesBlocked"}}}});
  }
  if (c.method == "POST" && tail == "activities") {
    activities_[conv].push_back(body);
    return answer(201, {{"id", "msg-" + std::to_string(next_id_++)}});
  }
  if (c.method == "PUT" && starts_with(tail, "activities/")) {
    auto b = body;
    b["updated"] = decode(tail.substr(11));
    activities_[conv].push_back(b);
    return answer(200, {{"id", decode(tail.substr(11))}});
  }
  return answer(404, nullptr);
}

std::vector<FakeTeamsCloud::Recorded> FakeTeamsCloud::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::vector<FakeTeamsCloud::Recorded> FakeTeamsCloud::calls_to(const std::string& method,
                                                               const std::string& part) const {
  std::lock_guard lock(mu_);
  std::vector<Recorded> out;
  for (const auto& r : calls_) {
    if (r.call.method == method && r.call.url.find(part) != std::string::npos) out.push_back(r);
  }
  return out;
}

std::vector<nlohmann::json> FakeTeamsCloud::activities(const std::string& conversation) const {
  std::lock_guard lock(mu_);
  const auto it = activities_.find(conversation);
  return it == activities_.end() ? std::vector<nlohmann::json>{} : it->second;
}

std::size_t FakeTeamsCloud::token_requests() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(tokens_);
}

std::size_t FakeTeamsCloud::key_requests() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& r : calls_)
    n += r.call.url == jwks_url_;
  return n;
}

}  // namespace auditbot::test
