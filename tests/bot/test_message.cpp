// Neutral messages survive the trip through the outbox's JSON unchanged, stay small, and
// old or hand-written entries with missing optional fields still load.
#include "bot/message.hpp"

#include <gtest/gtest.h>

namespace auditbot {
namespace {

using nlohmann::json;

Message full_message() {
  Message m;
  m.to = Recipient::person("bob");
  m.key = "ask:ASK-3";
  m.title = "Evidence needed: CC6.1";
  m.text = "Q3 access review \"all prod systems\"\nsecond line";
  m.fields = {{"Due", "2026-12-05"}, {"Period", "2026-07-01 to 2026-09-30"}};
  Button submit;
  submit.action_id = "ask.submit";
  submit.label = "Submit evidence";
  submit.value = "ASK-3";
  submit.style = Button::Style::primary;
  submit.inputs = {Input{"link", "Link to the evidence", Input::Kind::url, false},
                   Input{"note", "Note", Input::Kind::multiline, true},
                   Input{"period_end", "Covers until", Input::Kind::date, true},
                   Input{"summary", "Summary", Input::Kind::text, false}};
  Button reassign;
  reassign.action_id = "ask.reassign";
  reassign.label = "Reassign";
  reassign.value = "ASK-3";
  reassign.inputs = {Input{"to", "New owner", Input::Kind::person, false}};
  Button reject;
  reject.action_id = "ask.reject";
  reject.label = "Reject";
  reject.value = "ASK-3";
  reject.style = Button::Style::danger;
  m.buttons = {submit, reassign, reject};
  m.context = "ASK-3 · asked by @alice";
  return m;
}

TEST(MessageJson, FullMessageRoundTrips) {
  const Message m = full_message();
  const json j = m;
  EXPECT_EQ(j.get<Message>(), m);
  // Through text too, as the outbox stores it.
  EXPECT_EQ(json::parse(j.dump()).get<Message>(), m);
}

TEST(MessageJson, EnumsAreWrittenAsStrings) {
  const json j = full_message();
  EXPECT_EQ(j["to"]["kind"], "person");
  EXPECT_EQ(j["buttons"][0]["style"], "primary");
  EXPECT_EQ(j["buttons"][1]["style"], "normal");
  EXPECT_EQ(j["buttons"][2]["style"], "danger");
  EXPECT_EQ(j["buttons"][0]["inputs"][0]["kind"], "url");
  EXPECT_EQ(j["buttons"][0]["inputs"][1]["kind"], "multiline");
  EXPECT_EQ(j["buttons"][0]["inputs"][2]["kind"], "date");
  EXPECT_EQ(j["buttons"][0]["inputs"][3]["kind"], "text");
  EXPECT_EQ(j["buttons"][1]["inputs"][0]["kind"], "person");
  EXPECT_EQ(j["buttons"][0]["inputs"][1]["optional"], true);
  EXPECT_EQ(json(Recipient::channel("compliance"))["kind"], "channel");
}

TEST(MessageJson, EmptyFieldsAreLeftOut) {
  Message m;
  m.to = Recipient::channel("compliance");
  m.text = "Weekly gap status";
  const json j = m;
  EXPECT_EQ(
      j, json::parse(R"({"to":{"kind":"channel","id":"compliance"},"text":"Weekly gap status"})"));
  EXPECT_EQ(j.get<Message>(), m);

  Button b;
  b.action_id = "gap.close";
  const json jb = b;
  EXPECT_FALSE(jb.contains("label"));
  EXPECT_FALSE(jb.contains("value"));
  EXPECT_FALSE(jb.contains("inputs"));
  EXPECT_FALSE(json(Input{"note", "", Input::Kind::text, false}).contains("optional"));
}

TEST(MessageJson, MissingOptionalFieldsTakeDefaults) {
  const auto m = json::parse(R"({"to":{"id":"bob"},"buttons":[{"action_id":"ask.submit",
      "inputs":[{"name":"link"}]}],"fields":[{"label":"Due"}]})")
                     .get<Message>();
  EXPECT_EQ(m.to, Recipient::person("bob"));
  ASSERT_EQ(m.buttons.size(), 1u);
  EXPECT_EQ(m.buttons[0].style, Button::Style::normal);
  ASSERT_EQ(m.buttons[0].inputs.size(), 1u);
  EXPECT_EQ(m.buttons[0].inputs[0].kind, Input::Kind::text);
  EXPECT_FALSE(m.buttons[0].inputs[0].optional);
  EXPECT_EQ(m.fields[0].value, "");
  EXPECT_TRUE(m.key.empty());
}

TEST(MessageJson, ThreadRootRoundTripsAndOldEntriesAreTopLevel) {
  Message m;
  m.to = Recipient::channel("auditor", "1700000000.000100");
  m.title = "REQ-4: in progress";
  const json j = m;
  EXPECT_EQ(j["to"]["thread"], "1700000000.000100");
  EXPECT_EQ(json::parse(j.dump()).get<Message>(), m);
  EXPECT_NE(m.to, Recipient::channel("auditor"));  // a reply is not a top-level post
  // Queued before threads existed: no "thread" key, so a top-level post.
  const auto old = json::parse(R"({"to":{"kind":"channel","id":"auditor"},"title":"x"})");
  EXPECT_EQ(old.get<Message>().to, Recipient::channel("auditor"));
  EXPECT_FALSE(json(Recipient::channel("auditor")).contains("thread"));
}

TEST(MessageJson, NonsenseIsRefusedRatherThanGuessed) {
  EXPECT_ANY_THROW(json::parse(R"({"text":"no recipient"})").get<Message>());
  EXPECT_ANY_THROW(json::parse(R"({"to":{"kind":"person"}})").get<Message>());
  EXPECT_ANY_THROW(json::parse(R"({"to":{"kind":"group","id":"x"}})").get<Message>());
  EXPECT_ANY_THROW(json::parse(R"({"action_id":"a","style":"loud"})").get<Button>());
  EXPECT_ANY_THROW(json::parse(R"({"label":"no action"})").get<Button>());
  EXPECT_ANY_THROW(json::parse(R"({"name":"x","kind":"checkbox"})").get<Input>());
}

}  // namespace
}  // namespace auditbot
