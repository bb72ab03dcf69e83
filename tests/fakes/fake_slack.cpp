// The fake Slack's answers.
#include "tests/fakes/fake_slack.hpp"

#include <algorithm>
#include <atomic>
#include <map>

#include "bot/text.hpp"

namespace auditbot::test {

using nlohmann::json;

namespace {

// key=value&... with %XX and '+' decoded.
std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> out;
  auto decode = [](const std::string& v) {
    std::string o;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '+') {
        o += ' ';
      } else if (v[i] == '%' && i + 2 < v.size()) {
        o += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        o += v[i];
      }
    }
    return o;
  };
  std::size_t pos = 0;
  while (pos <= body.size()) {
    const std::size_t amp = std::min(body.find('&', pos), body.size());
    const std::string pair = body.substr(pos, amp - pos);
    const std::size_t eq = pair.find('=');
    if (eq != std::string::npos) out[decode(pair.substr(0, eq))] = decode(pair.substr(eq + 1));
    pos = amp + 1;
  }
  return out;
}

FakeResponse answer(const RecordedRequest& r) {
  static std::atomic<int> ts{1000};
  if (r.path.rfind("/respond/", 0) == 0) return FakeResponse::json("ok");
  if (r.path.rfind("/api/", 0) != 0) return FakeResponse::status_only(404);
  if (r.header("authorization").rfind("Bearer ", 0) != 0) {
    return FakeResponse::json(R"({"ok":false,"error":"not_authed"})");
  }
  const std::string method = r.path.substr(5);
  json args = json::parse(r.body, nullptr, false);
  if (args.is_discarded()) args = json::object();
  json out = {{"ok", true}};
  if (method == "chat.postMessage") {
    out["channel"] = args.value("channel", "");
    out["ts"] = std::to_string(ts++) + ".000100";
  } else if (method == "chat.update") {
    out["channel"] = args.value("channel", "");
    out["ts"] = args.value("ts", "");
  } else if (method == "chat.postEphemeral") {
    out["message_ts"] = std::to_string(ts++) + ".000200";
  } else if (method == "conversations.open") {
    out["channel"] = {{"id", "D" + args.value("users", "").substr(1)}};
  } else if (method == "users.info") {
    const std::string id = args.value("user", "");
    out["user"] = {{"id", id},
                   {"tz", "America/New_York"},
                   {"profile", {{"email", lower(id.substr(1)) + "@test.example"}}}};
  } else if (method == "users.lookupByEmail") {
    const std::string email = args.value("email", "");
    out["user"] = {{"id", FakeSlack::user_id(email.substr(0, email.find('@')))}};
  } else if (method == "views.open" || method == "views.update" || method == "views.publish") {
    out["view"] = {{"id", "V" + std::to_string(ts++)}};
  } else if (method == "auth.test") {
    out["user_id"] = "UBOT";
    out["team_id"] = "T1";
  } else if (method == "apps.connections.open") {
    out["url"] = "wss://127.0.0.1:" + r.header("host").substr(r.header("host").find(':') + 1) +
                 "/link/?ticket=t" + std::to_string(ts++);
  } else if (method == "reactions.add") {
  } else {
    out = {{"ok", false}, {"error", "unknown_method"}};
  }
  return FakeResponse::json(out.dump());
}

}  // namespace

struct FakeSlack::State {
  mutable std::mutex mu;
  int limit_every = 0;
  int retry_after = 1;
  std::size_t post_calls = 0;
  std::size_t delay_at = 0;
  std::chrono::milliseconds delay{0};
  std::vector<json> posted;

  FakeResponse handle(const RecordedRequest& r) {
    if (r.path == "/api/chat.postMessage") {
      std::lock_guard lock(mu);
      ++post_calls;
      if (limit_every > 0 && post_calls % static_cast<std::size_t>(limit_every) == 0) {
        return FakeResponse::rate_limited(retry_after);
      }
      FakeResponse res = answer(r);
      json body = json::parse(r.body, nullptr, false);
      const json out = json::parse(res.body, nullptr, false);
      if (body.is_object() && out.is_object() && out.value("ok", false)) {
        body["ts"] = out.value("ts", "");
        posted.push_back(std::move(body));
        if (posted.size() == delay_at) res.delay = delay;
      }
      return res;
    }
    if (r.path == "/api/conversations.history" || r.path == "/api/conversations.replies") {
      if (r.header("authorization").rfind("Bearer ", 0) != 0) {
        return FakeResponse::json(R"({"ok":false,"error":"not_authed"})");
      }
      return read(r.path == "/api/conversations.replies", parse_form(r.body));
    }
    return answer(r);
  }

  // conversations.history (newest first, top-level messages only, as Slack leaves thread
  // replies out) or conversations.replies (the thread under `ts`, oldest first). The fake's
  // ts count up from 1000, so `oldest` (a real time) is not applied.
  FakeResponse read(bool replies, std::map<std::string, std::string> args) {
    const std::string channel = args["channel"];
    const std::string root = args["ts"];
    if (replies && root.empty()) return FakeResponse::json(R"({"ok":false,"error":"invalid_ts"})");
    const std::size_t limit = args["limit"].empty() ? 100 : std::stoul(args["limit"]);
    const bool metadata = args["include_all_metadata"] == "true";
    std::lock_guard lock(mu);
    std::vector<const json*> picked;
    for (const auto& p : posted) {
      if (p.value("channel", "") != channel) continue;
      const std::string thread = p.value("thread_ts", "");
      if (replies ? thread == root || p.value("ts", "") == root : thread.empty()) {
        picked.push_back(&p);
      }
    }
    if (!replies) std::reverse(picked.begin(), picked.end());
    json messages = json::array();
    for (const json* p : picked) {
      if (messages.size() == limit) break;
      json m = {{"type", "message"}, {"ts", p->value("ts", "")}, {"text", p->value("text", "")}};
      if (p->contains("thread_ts")) m["thread_ts"] = (*p)["thread_ts"];
      if (metadata && p->contains("metadata")) m["metadata"] = (*p)["metadata"];
      messages.push_back(std::move(m));
    }
    return FakeResponse::json(json{{"ok", true}, {"messages", messages}}.dump());
  }
};

FakeSlack::FakeSlack()
    : state_(std::make_shared<State>()),
      server_([state = state_](const RecordedRequest& r) { return state->handle(r); }) {}

void FakeSlack::rate_limit_posts(int every, int retry_after_seconds) {
  std::lock_guard lock(state_->mu);
  state_->limit_every = every;
  state_->retry_after = retry_after_seconds;
}

void FakeSlack::delay_accepted_post(std::size_t n, std::chrono::milliseconds delay) {
  std::lock_guard lock(state_->mu);
  state_->delay_at = n;
  state_->delay = delay;
}

std::vector<json> FakeSlack::posted() const {
  std::lock_guard lock(state_->mu);
  return state_->posted;
}

std::size_t FakeSlack::posted_count() const {
  std::lock_guard lock(state_->mu);
  return state_->posted.size();
}

std::string FakeSlack::user_id(const std::string& person) {
  return "U" + upper(person);
}

std::vector<json> FakeSlack::calls(const std::string& method) const {
  std::vector<json> out;
  for (const auto& r : server_.requests_to("/api/" + method)) {
    out.push_back(json::parse(r.body, nullptr, false));
  }
  return out;
}

std::vector<json> FakeSlack::responses(const std::string& name) const {
  std::vector<json> out;
  for (const auto& r : server_.requests_to("/respond/" + name)) {
    out.push_back(json::parse(r.body, nullptr, false));
  }
  return out;
}

}  // namespace auditbot::test
