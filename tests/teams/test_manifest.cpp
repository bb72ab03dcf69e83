// deploy/teams/manifest.json carries what Teams requires of a bot app (the full published
// schema is checked by deploy/teams/validate-manifest.sh, which needs npm).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

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

}  // namespace
