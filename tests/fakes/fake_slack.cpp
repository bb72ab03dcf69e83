// The fake Slack's answers.
#include "tests/fakes/fake_slack.hpp"

#include <atomic>

namespace auditbot::test {

using nlohmann::json;

namespace {

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
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

FakeSlack::FakeSlack() : server_(answer) {}

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
