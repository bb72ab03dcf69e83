// The people directory: every spelling of a person resolves to the same record, roles and
// time zones come from config.
#include <gtest/gtest.h>

#include "bot/people.hpp"

namespace auditbot {
namespace {

std::vector<Person> staff() {
  Person alice{.id = "alice",
               .name = "Alice Ng",
               .email = "Alice@Example.com",
               .roles = {Role::admin, Role::liaison},
               .timezone = "Europe/London",
               .manager = "dana",
               .groups = {"engineering"},
               .slack_id = "U0ALICE",
               .teams_id = "aaaaaaaa-0000-0000-0000-00000000000a"};
  Person bob{.id = "bob",
             .name = "Bob Ortiz",
             .email = "bob@example.com",
             .manager = "dana",
             .slack_id = "U0BOB"};
  Person dana{.id = "dana",
              .name = "Dana Kim",
              .email = "dana@example.com",
              .roles = {Role::approver},
              .timezone = "America/Los_Angeles"};
  Person erin{.id = "erin",
              .name = "Erin",
              .email = "erin@audit.example",
              .roles = {Role::auditor, Role::approver}};
  return {alice, bob, dana, erin};
}

TEST(People, MentionsInEverySpellingResolveToOnePerson) {
  Directory dir(staff(), "America/New_York");
  for (const char* m : {"@alice", "alice", "ALICE", "@Alice", " @alice ", "alice@example.com",
                        "@ALICE@example.COM"}) {
    const auto* p = dir.resolve_mention(m);
    ASSERT_NE(p, nullptr) << m;
    EXPECT_EQ(p->id, "alice") << m;
  }
  EXPECT_EQ(dir.resolve_mention("@carol"), nullptr);
  EXPECT_EQ(dir.resolve_mention("@"), nullptr);
  EXPECT_EQ(dir.resolve_mention(""), nullptr);
  EXPECT_EQ(dir.resolve_mention("carol@example.com"), nullptr);
}

TEST(People, PlatformIdsFindThePerson) {
  Directory dir(staff());
  ASSERT_NE(dir.find_by_slack_id("U0BOB"), nullptr);
  EXPECT_EQ(dir.find_by_slack_id("U0BOB")->id, "bob");
  EXPECT_EQ(dir.find_by_slack_id("u0bob"), nullptr);  // Slack ids are exact
  EXPECT_EQ(dir.find_by_slack_id(""), nullptr);
  ASSERT_NE(dir.find_by_teams_id("AAAAAAAA-0000-0000-0000-00000000000A"), nullptr);
  EXPECT_EQ(dir.find_by_teams_id("AAAAAAAA-0000-0000-0000-00000000000A")->id, "alice");
  EXPECT_EQ(dir.find_by_teams_id(""), nullptr);  // people without a Teams id do not match
  EXPECT_EQ(dir.find_by_email("DANA@example.com")->id, "dana");
  EXPECT_EQ(dir.find("Bob")->id, "bob");
  EXPECT_EQ(dir.find("nobody"), nullptr);
}

TEST(People, RolesListPeopleInConfigOrder) {
  Directory dir(staff());
  auto approvers = dir.with_role(Role::approver);
  ASSERT_EQ(approvers.size(), 2u);
  EXPECT_EQ(approvers[0]->id, "dana");
  EXPECT_EQ(approvers[1]->id, "erin");
  EXPECT_TRUE(dir.with_role(Role::admin).size() == 1);
  EXPECT_TRUE(Directory::has_role(*dir.find("alice"), Role::liaison));
  EXPECT_FALSE(Directory::has_role(*dir.find("bob"), Role::liaison));
  EXPECT_EQ(dir.all().size(), 4u);
}

TEST(People, TimeZoneFallsBackToTheOrganisation) {
  Directory dir(staff(), "America/New_York");
  EXPECT_EQ(dir.timezone_of(*dir.find("alice")), "Europe/London");
  EXPECT_EQ(dir.timezone_of(*dir.find("bob")), "America/New_York");
  Directory utc(staff());
  EXPECT_EQ(utc.timezone_of(*utc.find("bob")), "UTC");
}

TEST(People, ACopiedDirectoryPointsIntoItsOwnPeople) {
  auto original = std::make_unique<Directory>(staff());
  Directory copy = *original;
  original.reset();
  const auto* bob = copy.resolve_mention("@bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob, &copy.all()[1]);
  EXPECT_EQ(bob->name, "Bob Ortiz");
}

}  // namespace
}  // namespace auditbot
