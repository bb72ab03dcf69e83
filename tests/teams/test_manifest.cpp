// deploy/teams/manifest.json is valid against Microsoft's published schema for the version its
// $schema names (kept in tests/data/schemas/teams/) and carries what auditbot's bot needs.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/json_schema.hpp"

namespace {

nlohmann::json manifest() {
  std::ifstream in(std::string(AUDITBOT_SOURCE_DIR) + "/deploy/teams/manifest.json");
  return nlohmann::json::parse(in);
}

TEST(TeamsManifest, HasTheRequiredTopLevelFieldsOfItsSchemaVersion) {
  const auto m = manifest();
  for (const char* k : {"manifestVersion", "version", "id", "developer", "name", "description",
                        "icons", "accentColor"}) {
    EXPECT_TRUE(m.contains(k)) << k;
  }
  const std::string version = m["manifestVersion"];
  EXPECT_NE(
      m["$schema"].get<std::string>().find("/teams/v" + version + "/MicrosoftTeams.schema.json"),
      std::string::npos);
  for (const char* k : {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"}) {
    EXPECT_EQ(m["developer"][k].get<std::string>().empty(), false) << k;
  }
  EXPECT_LE(m["name"]["short"].get<std::string>().size(), 30u);
  EXPECT_LE(m["description"]["short"].get<std::string>().size(), 80u);
  EXPECT_LE(m["description"]["full"].get<std::string>().size(), 4000u);
  EXPECT_EQ(m["accentColor"].get<std::string>().size(), 7u);
}

TEST(TeamsManifest, BotHasAllThreeScopesAndAValidCommandList) {
  const auto m = manifest();
  ASSERT_EQ(m["bots"].size(), 1u);
  const auto& bot = m["bots"][0];
  EXPECT_EQ(bot["botId"], m["id"]);  // the app and the bot registration share one id
  EXPECT_EQ(bot["scopes"].get<std::set<std::string>>(),
            (std::set<std::string>{"personal", "team", "groupChat"}));
  ASSERT_GE(bot["commandLists"].size(), 1u);
  ASSERT_LE(bot["commandLists"].size(), 3u);
  std::set<std::string> titles;
  for (const auto& list : bot["commandLists"]) {
    ASSERT_LE(list["commands"].size(), 10u);
    for (const auto& c : list["commands"]) {
      EXPECT_LE(c["title"].get<std::string>().size(), 32u);
      EXPECT_LE(c["description"].get<std::string>().size(), 128u);
      titles.insert(c["title"]);
    }
  }
  EXPECT_TRUE(titles.count("help") && titles.count("ask") && titles.count("mine"));
}

std::string errors_text(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors)
    out += e + "\n";
  return out;
}

// The schema of the version the manifest's $schema names: a newer version needs its file.
auditbot::test::JsonSchema published_schema(const nlohmann::json& m) {
  const std::string url = m.at("$schema");
  const auto at = url.find("/teams/v");
  EXPECT_NE(at, std::string::npos) << url;
  const std::string version = url.substr(at + 8, url.find('/', at + 8) - at - 8);
  return auditbot::test::JsonSchema::load(std::string(AUDITBOT_SOURCE_DIR) +
                                          "/tests/data/schemas/teams/v" + version +
                                          "/MicrosoftTeams.schema.json");
}

TEST(TeamsManifest, IsValidAgainstMicrosoftsPublishedSchema) {
  const auto m = manifest();
  auto schema = published_schema(m);
  const auto errors = schema.validate(m);
  EXPECT_TRUE(errors.empty()) << errors_text(errors);
}

TEST(TeamsManifest, TheSchemaCheckCatchesWhatTeamsWouldRefuse) {
  const auto m = manifest();
  auto schema = published_schema(m);
  ASSERT_TRUE(schema.validate(m).empty());
  auto broken = [&](auto change) {
    nlohmann::json copy = m;
    change(copy);
    return !schema.validate(copy).empty();
  };
  // "const" is draft-06, but the schema means it: a manifest names the version it is checked as.
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["manifestVersion"] = "1.18"; }));
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["id"] = "not-a-guid"; }));
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["developer"].erase("privacyUrl"); }));
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["developer"]["websiteUrl"] = "ftp://x.example"; }));
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["accentColor"] = "blue"; }));
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["bots"][0]["scopes"] = {"personal", "channel"}; }));
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["bots"][0]["supportsCalls"] = "yes"; }));
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["botsAndMore"] = true; }));  // unknown key
  EXPECT_TRUE(broken([](nlohmann::json& j) { j["name"]["short"] = std::string(31, 'x'); }));
}

// The published schema uses "dependencies" (extension tabs); the check enforces both forms.
TEST(TeamsManifest, TheSchemaCheckEnforcesDependencies) {
  auditbot::test::JsonSchema schema(
      nlohmann::json::parse(R"({"dependencies": {"a": ["b"], "c": {"required": ["d"]}}})"));
  EXPECT_TRUE(schema.validate({{"x", 1}}).empty());
  EXPECT_FALSE(schema.validate({{"a", 1}}).empty());
  EXPECT_TRUE(schema.validate({{"a", 1}, {"b", 2}}).empty());
  EXPECT_FALSE(schema.validate({{"c", 1}}).empty());
  EXPECT_TRUE(schema.validate({{"c", 1}, {"d", 2}}).empty());
}

}  // namespace
