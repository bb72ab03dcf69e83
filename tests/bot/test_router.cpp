// The router as people meet it: commands and buttons reach their handlers, and every
// mistake (typo, bad syntax, refused action, our own bug) gets one clear reply.
#include "bot/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "bot/errors.hpp"
#include "bot/log.hpp"

namespace auditbot {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr const char* kAskUsage = "/soc2 ask @owner <control> \"<what is needed>\" due <date>";

struct RecordingAck : Ack {
  std::vector<Reply> replies;
  void reply(const Reply& r) override { replies.push_back(r); }
};

Person person(std::string id) {
  Person p;
  p.id = std::move(id);
  p.name = p.id;
  p.email = p.id + "@example.com";
  return p;
}

InboundEvent command(std::string who, std::string text) {
  InboundEvent e;
  e.event_id = "ev-1";
  e.person = std::move(who);
  e.body = CommandText{std::move(text)};
  return e;
}

InboundEvent press(std::string who, std::string action_id, std::string value) {
  InboundEvent e;
  e.event_id = "ev-2";
  e.person = std::move(who);
  ButtonPress b;
  b.action_id = std::move(action_id);
  b.value = std::move(value);
  e.body = b;
  return e;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : people({person("alice"), person("bob")}), router(people) {
    router.add(CommandSpec{
        "ask", kAskUsage, "Ask a control owner for evidence.", [this](CommandCall& c) {
          const std::string owner = c.args.mention("the owner");
          const std::string control = c.args.control("the control");
          const std::string what = c.args.text("what is needed");
          c.args.expect_end();
          calls.push_back(c.actor.id + " asked " + owner + " for " + control + ": " + what);
          return Reply::ok("ASK-1 created");
        }});
    router.add(CommandSpec{"report", "/soc2 report [readiness]", "Show the readiness report.",
                           [](CommandCall&) { return Reply::ok("report"); }});
    router.add(CommandSpec{
        "request", "/soc2 request \"<text>\"", "Log an auditor request.",
        [](CommandCall&) -> Reply { throw Forbidden("Only liaisons can log requests."); }});
    router.add(CommandSpec{"crash", "/soc2 crash", "Fails inside.", [](CommandCall&) -> Reply {
                             throw std::runtime_error("redis: READONLY secret-internal-detail");
                           }});
  }

  Directory people;
  Router router;
  std::vector<std::string> calls;
};

TEST_F(RouterTest, CommandReachesItsHandlerWithTheActorAndArgs) {
  Reply r = router.handle(command("alice", R"(ask @Bob cc6.1 "Q3 access review")"));
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.text, "ASK-1 created");
  EXPECT_THAT(calls, ElementsAre("alice asked bob for CC6.1: Q3 access review"));
}

TEST_F(RouterTest, PrefixAndVerbCaseAreAccepted) {
  Reply r = router.handle(command("alice", R"(/soc2 ASK @bob CC6.1 "x")"));
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_EQ(calls.size(), 1u);
}

TEST_F(RouterTest, DuplicateVerbIsRejectedAtRegistration) {
  try {
    router.add(CommandSpec{"ask", "u", "s", [](CommandCall&) { return Reply{}; }});
    FAIL() << "duplicate accepted";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "duplicate command 'ask'");
  }
  EXPECT_THROW(router.add(CommandSpec{"help", "u", "s", [](CommandCall&) { return Reply{}; }}),
               std::logic_error);
  router.add(ActionSpec{"ask.submit", [](ActionCall&) { return Reply{}; }});
  EXPECT_THROW(router.add(ActionSpec{"ask.submit", [](ActionCall&) { return Reply{}; }}),
               std::logic_error);
}

TEST_F(RouterTest, UnknownVerbSuggestsTheNearestVerbsUsage) {
  Reply r = router.handle(command("alice", "asq @bob CC6.1"));
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.text, std::string("Unknown command 'asq'. Did you mean: ") + kAskUsage);
  EXPECT_TRUE(calls.empty());
}

TEST_F(RouterTest, NearestVerbPrefersWhatWasStartedTyping) {
  EXPECT_EQ(router.nearest_verb("asq"), "ask");
  EXPECT_EQ(router.nearest_verb("rep"), "report");
  EXPECT_EQ(router.nearest_verb("reqest"), "request");
  EXPECT_EQ(router.nearest_verb("HELO"), "help");
}

TEST_F(RouterTest, SyntaxErrorIsOneLinePlusUsage) {
  Reply r = router.handle(command("alice", R"(ask bob CC6.1 "x")"));
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.text, std::string("expected the owner as @person, got 'bob'\nUsage: ") + kAskUsage);
  EXPECT_TRUE(calls.empty());
}

TEST_F(RouterTest, TokenizerErrorStillShowsTheVerbsUsage) {
  Reply r = router.handle(command("alice", R"(ask @bob CC6.1 "Q3 access review)"));
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, HasSubstr("missing closing quote"));
  EXPECT_THAT(r.text, HasSubstr(std::string("\nUsage: ") + kAskUsage));
  EXPECT_EQ(std::count(r.text.begin(), r.text.end(), '\n'), 1);
}

TEST_F(RouterTest, UserErrorTextIsTheReply) {
  Reply r = router.handle(command("alice", "request \"logs\""));
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.text, "Only liaisons can log requests.");
}

TEST_F(RouterTest, InternalErrorGivesAReferenceAndNeverTheExceptionText) {
  Reply r = router.handle(command("alice", "crash"));
  EXPECT_TRUE(r.error);
  EXPECT_THAT(r.text, MatchesRegex(R"(Something went wrong on our side \(ref [0-9a-f]{8}\); )"
                                   R"(nothing was changed\.)"));
  EXPECT_THAT(r.text, Not(HasSubstr("READONLY")));
  EXPECT_THAT(r.text, Not(HasSubstr("secret")));
}

TEST_F(RouterTest, InternalErrorIsLoggedUnderTheSameReference) {
  const std::string path = ::testing::TempDir() + "router_test.log";
  std::remove(path.c_str());
  log::init(log::Options{log::Level::info, false, path});
  Reply r = router.handle(command("alice", "crash"));
  log::init(log::Options{});

  const std::size_t at = r.text.find("(ref ");
  ASSERT_NE(at, std::string::npos) << r.text;
  const std::string ref = r.text.substr(at + 5, 8);
  std::ifstream in(path);
  const std::string logged((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(logged, HasSubstr("command.failed"));
  EXPECT_THAT(logged, HasSubstr(ref));
  EXPECT_THAT(logged, HasSubstr("READONLY"));  // operators see the cause; the person does not
}

TEST_F(RouterTest, UnknownPersonIsToldHowToGetAdded) {
  Reply r = router.handle(command("mallory", "ask @bob CC6.1 \"x\""));
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.text,
            "I don't know who you are yet: ask a compliance admin to add you to auditbot's "
            "people list.");
  EXPECT_TRUE(calls.empty());
}

TEST_F(RouterTest, ButtonPressReachesItsActionAndErrorsMapLikeCommands) {
  router.add(ActionSpec{"ask.submit", [](ActionCall& c) {
                          return Reply::ok(c.actor.id + " submitted " + c.press.value);
                        }});
  router.add(ActionSpec{
      "ask.stale", [](ActionCall&) -> Reply { throw Conflict("ASK-3 was already accepted."); }});
  router.add(ActionSpec{"ask.broken",
                        [](ActionCall&) -> Reply { throw std::out_of_range("vector::at"); }});
  EXPECT_EQ(router.handle(press("bob", "ask.submit", "ASK-3")).text, "bob submitted ASK-3");
  EXPECT_EQ(router.handle(press("bob", "ask.stale", "ASK-3")).text, "ASK-3 was already accepted.");
  Reply broken = router.handle(press("bob", "ask.broken", "ASK-3"));
  EXPECT_THAT(broken.text, HasSubstr("Something went wrong on our side (ref "));
  EXPECT_THAT(broken.text, Not(HasSubstr("vector")));
}

TEST_F(RouterTest, UnknownButtonIsNoLongerSupported) {
  Reply r = router.handle(press("bob", "ask.old_version", "ASK-3"));
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.text, "That button is no longer supported.");
}

TEST_F(RouterTest, HelpListsEveryVerbWithSummaryAndUsage) {
  for (const char* line : {"help", "", "/soc2", "  "}) {
    Reply r = router.handle(command("bob", line));
    EXPECT_FALSE(r.error) << line;
    for (const char* text :
         {kAskUsage, "Ask a control owner for evidence.", "/soc2 report",
          "Show the readiness report.", "/soc2 request", "/soc2 crash", "/soc2 help"}) {
      EXPECT_THAT(r.text, HasSubstr(text)) << "for '" << line << "'";
    }
  }
}

TEST_F(RouterTest, HelpForOneVerbShowsItsUsage) {
  Reply r = router.handle(command("bob", "help ASK"));
  EXPECT_FALSE(r.error);
  EXPECT_THAT(r.text, HasSubstr(kAskUsage));
  EXPECT_THAT(r.text, Not(HasSubstr("/soc2 report")));

  Reply typo = router.handle(command("bob", "help reprot"));
  EXPECT_TRUE(typo.error);
  EXPECT_EQ(typo.text, "Unknown command 'reprot'. Did you mean: /soc2 report [readiness]");
}

TEST_F(RouterTest, DispatchAnswersThroughTheAckExactlyOnce) {
  RecordingAck ack;
  router.dispatch(command("alice", "report"), ack);
  ASSERT_EQ(ack.replies.size(), 1u);
  EXPECT_EQ(ack.replies[0].text, "report");
}

TEST_F(RouterTest, PersonJoinedRunsEveryJoinHandlerAndRepliesNothing) {
  std::vector<std::string> greeted;
  router.add(JoinSpec{"policies", [&](const InboundEvent&, const Person& p) {
                        greeted.push_back("policies for " + p.id);
                      }});
  router.add(JoinSpec{
      "broken", [&](const InboundEvent&, const Person&) { throw std::runtime_error("boom"); }});
  router.add(JoinSpec{"welcome", [&](const InboundEvent&, const Person& p) {
                        greeted.push_back("welcome " + p.id);
                      }});
  InboundEvent joined;
  joined.person = "bob";
  joined.body = PersonJoined{};
  RecordingAck ack;
  router.dispatch(joined, ack);
  EXPECT_TRUE(ack.replies.empty());
  EXPECT_THAT(greeted, ElementsAre("policies for bob", "welcome bob"));

  joined.person = "stranger";
  router.dispatch(joined, ack);
  EXPECT_TRUE(ack.replies.empty());
  EXPECT_EQ(greeted.size(), 2u);
}

}  // namespace
}  // namespace auditbot
