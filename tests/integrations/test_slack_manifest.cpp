// The Slack app manifests in deploy/slack/ checked against Slack's own JSON Schema (draft-07,
// ../shared/reference/slack-manifest-schema/) with a small validator, plus what auditbot needs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

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

// The draft-07 keywords Slack's manifest schema uses (format is an annotation in draft-07;
// "requires" and "regex" are not JSON Schema keywords and are ignored as validators do).
class Validator {
 public:
  explicit Validator(json root) : root_(std::move(root)) {}

  std::vector<std::string> validate(const json& doc) {
    errors_.clear();
    check(root_, doc, "$");
    return errors_;
  }

 private:
  const json& resolve(const std::string& ref) {
    if (ref.rfind("#/", 0) != 0) throw std::runtime_error("unsupported $ref " + ref);
    const json* at = &root_;
    std::size_t pos = 2;
    while (pos <= ref.size()) {
      auto slash = ref.find('/', pos);
      if (slash == std::string::npos) slash = ref.size();
      at = &at->at(ref.substr(pos, slash - pos));
      pos = slash + 1;
    }
    return *at;
  }

  static bool is_type(const json& v, const std::string& t) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "integer") return v.is_number_integer() || v.is_number_unsigned();
    if (t == "number") return v.is_number();
    return false;
  }

  static std::size_t utf8_length(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
      if ((c & 0xC0) != 0x80) ++n;
    return n;
  }

  bool matches(const std::string& pattern, const std::string& s) {
    auto it = regex_cache_.find(pattern);
    if (it == regex_cache_.end()) {
      it = regex_cache_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
    }
    return std::regex_search(s, it->second);
  }

  void fail(const std::string& where, const std::string& what) {
    errors_.push_back(where + ": " + what);
  }

  bool passes(const json& schema, const json& v) {
    auto saved = std::move(errors_);
    errors_.clear();
    check(schema, v, "");
    const bool ok = errors_.empty();
    errors_ = std::move(saved);
    return ok;
  }

  void check(const json& schema, const json& v, const std::string& at) {
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) fail(at, "not allowed");
      return;
    }
    if (schema.contains("$ref")) {  // draft-07: $ref ignores its siblings
      check(resolve(schema["$ref"]), v, at);
      return;
    }
    if (schema.contains("type")) {
      const json& t = schema["type"];
      bool ok = false;
      if (t.is_string()) ok = is_type(v, t);
      for (const auto& one : t.is_array() ? t : json::array())
        ok = ok || is_type(v, one);
      if (!ok) {
        fail(at, "expected type " + t.dump() + ", got " + v.dump());
        return;
      }
    }
    if (schema.contains("enum")) {
      bool found = false;
      for (const auto& e : schema["enum"])
        found = found || e == v;
      if (!found) fail(at, v.dump() + " not in " + schema["enum"].dump());
    }
    if (schema.contains("anyOf")) {
      bool any = false;
      for (const auto& s : schema["anyOf"])
        any = any || passes(s, v);
      if (!any) fail(at, "matches none of anyOf");
    }
    if (v.is_string()) {
      const std::string s = v;
      if (schema.contains("minLength") && utf8_length(s) < schema["minLength"].get<std::size_t>())
        fail(at, "shorter than minLength");
      if (schema.contains("maxLength") && utf8_length(s) > schema["maxLength"].get<std::size_t>())
        fail(at, "longer than maxLength");
      if (schema.contains("pattern") && !matches(schema["pattern"], s))
        fail(at, "'" + s + "' does not match " + schema["pattern"].get<std::string>());
    }
    if (v.is_array()) {
      if (schema.contains("minItems") && v.size() < schema["minItems"].get<std::size_t>())
        fail(at, "fewer than minItems");
      if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<std::size_t>())
        fail(at, "more than maxItems");
      if (schema.value("uniqueItems", false)) {
        std::set<std::string> seen;
        for (const auto& e : v)
          if (!seen.insert(e.dump()).second) fail(at, "duplicate item " + e.dump());
      }
      if (schema.contains("items") && schema["items"].is_object()) {
        for (std::size_t i = 0; i < v.size(); ++i)
          check(schema["items"], v[i], at + "[" + std::to_string(i) + "]");
      }
    }
    if (v.is_object()) {
      if (schema.contains("minProperties") && v.size() < schema["minProperties"].get<std::size_t>())
        fail(at, "fewer than minProperties");
      if (schema.contains("maxProperties") && v.size() > schema["maxProperties"].get<std::size_t>())
        fail(at, "more than maxProperties");
      for (const auto& r : schema.value("required", json::array()))
        if (!v.contains(r.get<std::string>())) fail(at, "missing required " + r.dump());
      const json props = schema.value("properties", json::object());
      const json patterns = schema.value("patternProperties", json::object());
      for (const auto& [key, value] : v.items()) {
        bool known = false;
        if (props.contains(key)) {
          known = true;
          check(props[key], value, at + "." + key);
        }
        for (const auto& [pattern, sub] : patterns.items()) {
          if (matches(pattern, key)) {
            known = true;
            check(sub, value, at + "." + key);
          }
        }
        if (!known && schema.contains("additionalProperties")) {
          const json& extra = schema["additionalProperties"];
          if (extra.is_boolean() && !extra.get<bool>()) {
            fail(at, "unknown property '" + key + "'");
          } else if (extra.is_object()) {
            check(extra, value, at + "." + key);
          }
        }
      }
    }
  }

  json root_;
  std::vector<std::string> errors_;
  std::map<std::string, std::regex> regex_cache_;
};

std::string source(const std::string& rel) {
  return std::string(AUDITBOT_SOURCE_DIR) + "/" + rel;
}

json schema() {
  const std::string path =
      source("../shared/reference/slack-manifest-schema/schemas/manifest.schema.1.0.0.json");
  std::ifstream in(path);
  if (!in) throw std::runtime_error("Slack's manifest schema is missing: " + path);
  return json::parse(in);
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
  Validator v(schema());
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
  Validator v(schema());
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
  Validator v(schema());
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
