// Teams activities become the neutral events a person would expect; cards carry the same
// buttons and forms as Slack.
#include <gtest/gtest.h>

#include "integrations/teams/activity.hpp"
#include "integrations/teams/cards.hpp"

namespace auditbot::teams {
namespace {

using nlohmann::json;

json base(const std::string& type) {
  return {{"type", type},
          {"id", "act-1"},
          {"channelId", "msteams"},
          {"serviceUrl", "https://smba.trafficmanager.net/amer/"},
          {"from", {{"id", "29:alice"}, {"aadObjectId", "aad-alice"}, {"name", "Alice"}}},
          {"recipient", {{"id", "28:app"}, {"name", "auditbot"}}},
          {"conversation",
           {{"id", "a:dm-alice"}, {"conversationType", "personal"}, {"tenantId", "t1"}}}};
}

TEST(TeamsActivity, PersonalMessageWithSoc2PrefixIsACommand) {
  auto a = base("message");
  a["text"] = "soc2 ask @bob CC6.1 &quot;access review&quot; due 2026-12-10";
  const auto p = parse_activity(a);
  ASSERT_EQ(p.kind, ParsedActivity::Kind::command);
  EXPECT_EQ(p.text, "ask @bob CC6.1 \"access review\" due 2026-12-10");
  const auto e = to_event(p, "alice");
  EXPECT_EQ(e.platform, Platform::teams);
  EXPECT_EQ(e.event_id, "act-1");
  EXPECT_EQ(e.place.kind, Place::Kind::dm);
  EXPECT_EQ(std::get<CommandText>(e.body).text, p.text);
}

TEST(TeamsActivity, BotMentionIsStrippedAndOtherMentionsResolve) {
  auto a = base("message");
  a["conversation"]["conversationType"] = "channel";
  a["text"] = "<at>auditbot</at> ask <at>Bob Builder</at> CC6.1 \"x\" due 2026-12-10";
  a["entities"] = json::array(
      {{{"type", "mention"}, {"text", "<at>auditbot</at>"}, {"mentioned", {{"id", "28:app"}}}},
       {{"type", "mention"},
        {"text", "<at>Bob Builder</at>"},
        {"mentioned", {{"id", "29:bob"}, {"aadObjectId", "aad-bob"}}}}});
  const auto p = parse_activity(a,
                                [](const std::string& id, const std::string& aad,
                                   const std::string&) -> std::optional<std::string> {
                                  if (id == "29:bob" && aad == "aad-bob") return "bob";
                                  return std::nullopt;
                                });
  ASSERT_EQ(p.kind, ParsedActivity::Kind::command);
  EXPECT_EQ(p.text, "ask @bob CC6.1 \"x\" due 2026-12-10");
  EXPECT_EQ(to_event(p, "alice").place.kind, Place::Kind::channel);
}

TEST(TeamsActivity, UnresolvedMentionBecomesAnAtNameWithoutSpaces) {
  auto a = base("message");
  a["text"] = "<at>auditbot</at> soc2 mine <at>Carol D</at>";
  a["entities"] = json::array(
      {{{"type", "mention"}, {"text", "<at>auditbot</at>"}, {"mentioned", {{"id", "28:app"}}}}});
  EXPECT_EQ(parse_activity(a).text, "mine @CarolD");
}

TEST(TeamsActivity, ActionSubmitValueIsAButtonPressWithItsOwnInputs) {
  auto a = base("message");
  a["replyToId"] = "card-9";
  a["value"] = {{"auditbot", {{"a", "ask.submit"}, {"v", "ASK-1"}, {"k", "ask:ASK-1"}, {"b", 0}}},
                {"in.0.link", " https://x/y "},
                {"in.0.note", ""},
                {"in.1.reason", "not mine"}};
  const auto p = parse_activity(a);
  ASSERT_EQ(p.kind, ParsedActivity::Kind::button);
  EXPECT_EQ(p.press.action_id, "ask.submit");
  EXPECT_EQ(p.press.value, "ASK-1");
  EXPECT_EQ(p.press.message_key, "ask:ASK-1");
  EXPECT_EQ(p.press.inputs, (std::map<std::string, std::string>{{"link", "https://x/y"}}));
  EXPECT_EQ(to_event(p, "bob").platform_message_id, "card-9");
}

TEST(TeamsActivity, InvokeAdaptiveCardActionIsAButtonPress) {
  auto a = base("invoke");
  a["name"] = "adaptiveCard/action";
  a["value"] = {{"action",
                 {{"type", "Action.Execute"},
                  {"verb", "ask.decline"},
                  {"data",
                   {{"auditbot", {{"a", "ask.decline"}, {"v", "ASK-2"}, {"k", "k2"}, {"b", 1}}},
                    {"in.1.reason", "wrong owner"}}}}},
                {"trigger", "manual"}};
  const auto p = parse_activity(a);
  EXPECT_TRUE(p.invoke);
  ASSERT_EQ(p.kind, ParsedActivity::Kind::button);
  EXPECT_EQ(p.press.action_id, "ask.decline");
  EXPECT_EQ(p.press.inputs.at("reason"), "wrong owner");
}

TEST(TeamsActivity, InstallAndUninstallCarryTheConversationReference) {
  auto add = base("installationUpdate");
  add["action"] = "add";
  add["conversation"].erase("tenantId");
  add["channelData"] = {{"tenant", {{"id", "t-from-channel-data"}}}};
  const auto p = parse_activity(add);
  EXPECT_EQ(p.kind, ParsedActivity::Kind::install);
  EXPECT_EQ(p.ref.tenant_id, "t-from-channel-data");
  EXPECT_EQ(p.ref.aad_object_id, "aad-alice");
  EXPECT_EQ(p.ref.user_id, "29:alice");
  EXPECT_EQ(p.ref.bot_id, "28:app");
  EXPECT_EQ(conversation_ref_from_json(to_json(p.ref)), p.ref);

  auto rm = base("installationUpdate");
  rm["action"] = "remove";
  EXPECT_EQ(parse_activity(rm).kind, ParsedActivity::Kind::uninstall);

  auto cu = base("conversationUpdate");
  cu["membersAdded"] = json::array({{{"id", "29:alice"}}, {{"id", "28:app"}}});
  EXPECT_EQ(parse_activity(cu).kind, ParsedActivity::Kind::install);
  cu.erase("membersAdded");
  cu["membersAdded"] = json::array({{{"id", "29:someone"}}});
  EXPECT_EQ(parse_activity(cu).kind, ParsedActivity::Kind::ignored);
}

TEST(TeamsActivity, TheSendersTimeZoneIsReadFromLocalTimezoneOrClientInfo) {
  auto a = base("message");
  a["text"] = "soc2 mine";
  EXPECT_EQ(parse_activity(a).timezone, "");
  a["entities"] =
      json::array({{{"type", "clientInfo"}, {"locale", "ja-JP"}, {"timezone", "Asia/Tokyo"}}});
  EXPECT_EQ(parse_activity(a).timezone, "Asia/Tokyo");
  a["localTimezone"] = "Europe/Berlin";  // the activity's own field wins
  EXPECT_EQ(parse_activity(a).timezone, "Europe/Berlin");
  a["localTimezone"] = 7;  // not a string: ignored, clientInfo still read
  EXPECT_EQ(parse_activity(a).timezone, "Asia/Tokyo");
}

TEST(TeamsActivity, MalformedActivitiesAreRefusedAndUnknownTypesIgnored) {
  auto a = base("message");
  a.erase("serviceUrl");
  EXPECT_THROW(parse_activity(a), std::invalid_argument);
  EXPECT_THROW(parse_activity(json::array()), std::invalid_argument);
  EXPECT_EQ(parse_activity(base("typing")).kind, ParsedActivity::Kind::ignored);
  auto foreign = base("message");
  foreign["value"] = {{"something", "else"}};
  EXPECT_EQ(parse_activity(foreign).kind, ParsedActivity::Kind::ignored);
}

json track_invoke(const std::string& conversation_id) {
  auto a = base("invoke");
  a["name"] = "composeExtension/submitAction";
  a["conversation"] = {
      {"id", conversation_id}, {"conversationType", "channel"}, {"tenantId", "t1"}};
  a["value"] = {
      {"commandId", "trackAuditRequest"},
      {"commandContext", "message"},
      {"data", {{"confirm", "true"}}},
      {"messagePayload",
       {{"id", "1700000000222"},
        {"replyToId", "1700000000111"},
        {"body",
         {{"contentType", "html"},
          {"content", "<p>Please send the AC-01 review &amp; its sign-off<br>for Q4</p>"}}},
        {"from",
         {{"user", {{"id", "29:ava"}, {"aadObjectId", "aad-ava"}, {"displayName", "Ava B"}}}}},
        {"linkToMessage", "https://teams.microsoft.com/l/message/19:x/1700000000222"}}}};
  return a;
}

MentionResolver knows_ava() {
  return [](const std::string& id, const std::string& aad,
            const std::string&) -> std::optional<std::string> {
    if (id == "29:ava" && aad == "aad-ava") return "ava";
    return std::nullopt;
  };
}

TEST(TeamsActivity, TrackMessageActionCarriesTheMessageItsAuthorChannelAndThread) {
  const auto p =
      parse_activity(track_invoke("19:audit@thread.tacv2;messageid=1700000000111"), knows_ava());
  ASSERT_EQ(p.kind, ParsedActivity::Kind::track);
  EXPECT_TRUE(p.invoke);
  EXPECT_EQ(p.track.text, "Please send the AC-01 review & its sign-off for Q4");
  EXPECT_EQ(p.track.author, "ava");
  EXPECT_EQ(p.track.channel, "19:audit@thread.tacv2");
  EXPECT_EQ(p.track.message_id, "1700000000222");
  EXPECT_EQ(p.track.thread, "1700000000111");
  const auto e = to_event(p, "lena");
  EXPECT_EQ(e.person, "lena");
  EXPECT_EQ(e.event_id, "act-1");
  EXPECT_EQ(e.place.kind, Place::Kind::thread);
  EXPECT_EQ(e.place.channel, "19:audit@thread.tacv2");
  const auto& m = std::get<TrackMessage>(e.body);
  EXPECT_EQ(m.message_id, "1700000000222");
  EXPECT_EQ(m.thread, "1700000000111");
}

TEST(TeamsActivity, TrackedRootPostHasNoThreadAndAnUnknownAuthorKeepsTheirName) {
  auto a = track_invoke("19:audit@thread.tacv2;messageid=1700000000222");
  a["value"]["messagePayload"].erase("replyToId");
  auto p = parse_activity(a);
  ASSERT_EQ(p.kind, ParsedActivity::Kind::track);
  EXPECT_EQ(p.track.author, "Ava B");
  EXPECT_EQ(p.track.channel, "19:audit@thread.tacv2");
  EXPECT_EQ(p.track.thread, "");  // the message is the root itself
  EXPECT_EQ(to_event(p, "lena").place.kind, Place::Kind::channel);

  // A thread named only by the conversation id is taken from there.
  a = track_invoke("19:audit@thread.tacv2;messageid=1700000000111");
  a["value"]["messagePayload"].erase("replyToId");
  p = parse_activity(a);
  EXPECT_EQ(p.track.thread, "1700000000111");
  p = parse_activity(track_invoke("19:audit@thread.tacv2"));
  EXPECT_EQ(p.track.channel, "19:audit@thread.tacv2");
  EXPECT_EQ(p.track.thread, "1700000000111");
}

TEST(TeamsActivity, MalformedOrForeignMessageActionsAreIgnoredNotCrashed) {
  auto a = track_invoke("19:audit@thread.tacv2");
  a["value"]["messagePayload"] = "not an object";
  EXPECT_EQ(parse_activity(a).kind, ParsedActivity::Kind::ignored);
  a = track_invoke("19:audit@thread.tacv2");
  a["value"]["messagePayload"].erase("id");
  EXPECT_EQ(parse_activity(a).kind, ParsedActivity::Kind::ignored);
  a = track_invoke("19:audit@thread.tacv2");
  a["value"]["messagePayload"]["body"] = nullptr;
  a["value"]["messagePayload"]["from"] = json::array();
  const auto p = parse_activity(a, knows_ava());
  EXPECT_EQ(p.kind, ParsedActivity::Kind::track);
  EXPECT_EQ(p.track.text, "");
  EXPECT_EQ(p.track.author, "");
  a = track_invoke("19:audit@thread.tacv2");
  a["value"]["commandId"] = "somethingElse";
  EXPECT_EQ(parse_activity(a).kind, ParsedActivity::Kind::ignored);
  a = track_invoke("19:audit@thread.tacv2");
  a["value"] = 42;
  EXPECT_EQ(parse_activity(a).kind, ParsedActivity::Kind::ignored);
  const auto r = invoke_task_message_response("Tracking this message as REQ-3.");
  EXPECT_EQ(r["task"]["type"], "message");
  EXPECT_EQ(r["task"]["value"], "Tracking this message as REQ-3.");
}

TEST(TeamsActivity, InvokeResponsesHaveTheDocumentedShape) {
  const auto m = invoke_message_response("Done");
  EXPECT_EQ(m["statusCode"], 200);
  EXPECT_EQ(m["type"], "application/vnd.microsoft.activity.message");
  EXPECT_EQ(m["value"], "Done");
  const auto c = invoke_card_response(json{{"type", "AdaptiveCard"}});
  EXPECT_EQ(c["type"], "application/vnd.microsoft.card.adaptive");
  EXPECT_EQ(invoke_error_response(400, "bad")["type"], "application/vnd.microsoft.error");
}

Message ask_message() {
  Message m;
  m.to = Recipient::person("bob");
  m.key = "ask:ASK-1";
  m.title = "Evidence needed: ASK-1";
  m.text = "Please upload the access review";
  m.fields = {{"Control", "CC6.1"}, {"Due", "2026-12-10"}};
  m.context = "asked by alice";
  m.buttons = {
      Button{"ask.submit",
             "Submit evidence",
             "ASK-1",
             {Input{"link", "Link", Input::Kind::url},
              Input{"note", "Note", Input::Kind::multiline, true}},
             Button::Style::primary},
      Button{
          "ask.decline", "Not mine", "ASK-1", {Input{"reason", "Reason"}}, Button::Style::danger},
      Button{"ask.snooze", "Snooze", "ASK-1", {Input{"until", "Until", Input::Kind::date}}},
      Button{"ask.ack", "Got it", "ASK-1", {}},
  };
  return m;
}

TEST(TeamsCards, MessageRendersAsAdaptiveCard15WithFormsAndFallbacks) {
  const auto card = render_card(ask_message());
  EXPECT_EQ(card["type"], "AdaptiveCard");
  EXPECT_EQ(card["version"], "1.5");
  EXPECT_EQ(card["body"][0]["text"], "Evidence needed: ASK-1");
  EXPECT_EQ(card["body"][2]["type"], "FactSet");
  EXPECT_EQ(card["body"][2]["facts"][1]["value"], "2026-12-10");
  ASSERT_EQ(card["actions"].size(), 4u);

  const auto& submit = card["actions"][0];
  EXPECT_EQ(submit["type"], "Action.ShowCard");
  EXPECT_EQ(submit["title"], "Submit evidence");
  const auto& form = submit["card"];
  EXPECT_EQ(form["body"][0]["id"], "in.0.link");
  EXPECT_EQ(form["body"][0]["style"], "Url");
  EXPECT_EQ(form["body"][0]["isRequired"], true);
  EXPECT_EQ(form["body"][1]["isMultiline"], true);
  EXPECT_EQ(form["body"][1]["isRequired"], false);
  const auto& send = form["actions"][0];
  EXPECT_EQ(send["type"], "Action.Execute");
  EXPECT_EQ(send["verb"], "ask.submit");
  EXPECT_EQ(send["style"], "positive");
  EXPECT_EQ(send["fallback"]["type"], "Action.Submit");
  EXPECT_EQ(send["fallback"]["data"], send["data"]);

  EXPECT_EQ(card["actions"][1]["card"]["actions"][0]["style"], "destructive");
  EXPECT_EQ(card["actions"][2]["card"]["body"][0]["type"], "Input.Date");
  EXPECT_EQ(card["actions"][3]["type"], "Action.Execute");
}

TEST(TeamsCards, APressOnTheRenderedCardRoundTripsToTheSameButtonAndInputs) {
  const auto card = render_card(ask_message());
  // What Teams sends back for the second button: its data merged with the form's inputs.
  json data = card["actions"][1]["card"]["actions"][0]["data"];
  data["in.1.reason"] = "wrong team";
  data["in.0.link"] = "https://other-form";  // another form's stale input is not taken
  auto a = base("message");
  a["value"] = data;
  const auto p = parse_activity(a);
  ASSERT_EQ(p.kind, ParsedActivity::Kind::button);
  EXPECT_EQ(p.press.action_id, "ask.decline");
  EXPECT_EQ(p.press.value, "ASK-1");
  EXPECT_EQ(p.press.message_key, "ask:ASK-1");
  EXPECT_EQ(p.press.inputs, (std::map<std::string, std::string>{{"reason", "wrong team"}}));
}

TEST(TeamsCards, ReplyErrorsAreHighlightedAndActivitiesCarryTheAttachment) {
  const auto card = render_reply_card(Reply::fail("ASK-9 does not exist"));
  EXPECT_EQ(card["body"][0]["color"], "Attention");
  const auto act = card_activity(card, "ASK-9 does not exist");
  EXPECT_EQ(act["type"], "message");
  EXPECT_EQ(act["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
  EXPECT_EQ(act["attachments"][0]["content"]["version"], "1.5");
}

}  // namespace
}  // namespace auditbot::teams
