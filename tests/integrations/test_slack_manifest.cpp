// The Slack app manifests in deploy/slack/ checked against Slack's own JSON Schema (draft-07,
// kept in tests/data/schemas/slack/), plus what auditbot needs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "tests/support/json_schema.hpp"

namespace auditbot::test {
namespace {

using nlohmann::json;
using ::testing::Contains;

// YAML -> JSON with YAML 1.2 core scalars: quoted scalars stay strings.
json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n)
        out[kv.first.as<std::string>()] = to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& v : n)
        out.push_back(to_json(v));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      if (std::regex_match(s, std::regex("-?[0-9]+"))) return std::stoll(s);
      if (std::regex_match(s, std::regex("-?[0-9]+\\.[0-9]+"))) return std::stod(s);
      return s;
    }
    default:
      return nullptr;
  }
}

std::string source(const std::string& rel) {
  return std::string(AUDITBOT_SOURCE_DIR) + "/" + rel;
}

JsonSchema schema() {
  return JsonSchema::load(source("tests/data/schemas/slack/manifest.schema.1.0.0.json"));
}

json manifest(const std::string& rel) {
  return to_json(YAML::LoadFile(source(rel)));
}

std::string errors_text(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors)
    out += e + "\n";
  return out;
}

std::set<std::string> strings(const json& a) {
  std::set<std::string> out;
  for (const auto& v : a)
    out.insert(v.get<std::string>());
  return out;
}

// What both modes need from Slack for the handlers auditbot has.
void expect_auditbot_needs(const json& m) {
  const json& f = m.at("features");
  ASSERT_EQ(f.at("slash_commands").size(), 1u);
  EXPECT_EQ(f["slash_commands"][0]["command"], "/soc2");
  bool shortcut = false;
  for (const auto& s : f.at("shortcuts"))
    shortcut = shortcut || (s["type"] == "message" && s["callback_id"] == "track_audit_request");
  EXPECT_TRUE(shortcut) << "the 'Track as audit request' message shortcut";
  EXPECT_TRUE(f.at("app_home").at("home_tab_enabled").get<bool>());
  EXPECT_TRUE(f["app_home"].at("messages_tab_enabled").get<bool>());
  const auto scopes = strings(m.at("oauth_config").at("scopes").at("bot"));
  for (const char* s : {"app_mentions:read", "channels:history", "groups:history", "chat:write",
                        "commands", "im:history", "im:write", "reactions:read", "reactions:write",
                        "users:read", "users:read.email"})
    EXPECT_THAT(scopes, Contains(s));
  const auto events = strings(m.at("settings").at("event_subscriptions").at("bot_events"));
  for (const char* e :
       {"app_home_opened", "app_mention", "message.im", "reaction_added", "team_join"})
    EXPECT_THAT(events, Contains(e));
  EXPECT_TRUE(m["settings"].at("interactivity").at("is_enabled").get<bool>());
}

TEST(SlackManifest, SocketModeManifestIsValidAndComplete) {
  JsonSchema v = schema();
  const json m = manifest("deploy/slack/manifest.yaml");
  const auto errors = v.validate(m);
  EXPECT_TRUE(errors.empty()) << errors_text(errors);
  expect_auditbot_needs(m);
  EXPECT_TRUE(m["settings"].at("socket_mode_enabled").get<bool>());
  // In Socket Mode nothing is posted to us: no request URLs to keep up to date.
  EXPECT_FALSE(m["settings"]["event_subscriptions"].contains("request_url"));
  EXPECT_FALSE(m["settings"]["interactivity"].contains("request_url"));
  EXPECT_FALSE(m["features"]["slash_commands"][0].contains("url"));
}

TEST(SlackManifest, HttpModeManifestIsValidAndComplete) {
  JsonSchema v = schema();
  const json m = manifest("deploy/slack/manifest.http.yaml");
  const auto errors = v.validate(m);
  EXPECT_TRUE(errors.empty()) << errors_text(errors);
  expect_auditbot_needs(m);
  EXPECT_FALSE(m["settings"].at("socket_mode_enabled").get<bool>());
  // One endpoint for events, interactivity and the command.
  for (const json* url : {&m["settings"]["event_subscriptions"]["request_url"],
                          &m["settings"]["interactivity"]["request_url"],
                          &m["features"]["slash_commands"][0]["url"]}) {
    ASSERT_TRUE(url->is_string());
    EXPECT_THAT(url->get<std::string>(), ::testing::EndsWith("/slack/events"));
  }
}

TEST(SlackManifest, TheValidatorCatchesWhatSlackWouldRefuse) {
  JsonSchema v = schema();
  json m = manifest("deploy/slack/manifest.yaml");
  ASSERT_TRUE(v.validate(m).empty());
  auto broken = [&](auto change) {
    json copy = m;
    change(copy);
    return !v.validate(copy).empty();
  };
  EXPECT_TRUE(broken([](json& j) { j["settings"]["socket_mode"] = true; }));  // unknown key
  EXPECT_TRUE(broken([](json& j) { j["settings"]["socket_mode_enabled"] = "yes"; }));
  EXPECT_TRUE(broken([](json& j) { j["features"]["slash_commands"][0]["command"] = "soc2"; }));
  EXPECT_TRUE(
      broken([](json& j) { j["features"]["shortcuts"][0]["name"] = std::string(25, 'x'); }));
  EXPECT_TRUE(broken([](json& j) { j["features"]["shortcuts"][0]["type"] = "channel"; }));
  EXPECT_TRUE(broken([](json& j) { j["display_information"].erase("name"); }));
  EXPECT_TRUE(broken([](json& j) {
    j["settings"]["event_subscriptions"]["request_url"] = "ftp://x.example/slack/events";
  }));
}

}  // namespace
}  // namespace auditbot::test
