// The evidence-ask flow through Teams against a fake Bot Framework: installs, commands,
// proactive DMs, card presses updating cards in place, forgeries refused with nothing changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "integrations/redis/durable_outbox.hpp"
#include "integrations/redis/outbox_queue.hpp"
#include "integrations/teams/bot.hpp"
#include "tests/fakes/teams_cloud.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

const std::string kApp = "app-0000-1111";
const std::string kService = FakeTeamsCloud::kServiceUrl;
const std::string kAuditorConv = "19:auditor@thread.tacv2";

TeamsSigningKey& shared_key() {
  static TeamsSigningKey key("kid-1", {"msteams"});
  return key;
}

Config teams_config(Config c) {
  c.teams_app_id = kApp;
  c.teams_app_password = "s3cret-pw";
  c.teams_openid_metadata_url = FakeTeamsCloud::kMetadataUrl;
  c.teams_token_url = FakeTeamsCloud::kTokenUrl;
  return c;
}

class TeamsFlow : public ::testing::Test {
 protected:
  // The auditor channel is a Teams channel here, so messages in it can be tracked.
  Harness h{[](Config& c) { c.channels["auditor"] = kAuditorConv; }};
  FakeTeamsCloud cloud{shared_key()};
  Config config = teams_config(h.app().config());
  std::vector<std::chrono::milliseconds> sleeps;
  teams::KeyCache keys{cloud.transport(), config.teams_openid_metadata_url, h.clock()};
  teams::TokenCache tokens{cloud.transport(), config.teams_token_url, kApp,
                           config.teams_app_password, h.clock()};
  teams::Connector connector{cloud.transport(),
                             tokens,
                             {config.teams_service_url_allowlist},
                             h.clock(),
                             [this](std::chrono::milliseconds d) {
                               sleeps.push_back(d);
                               h.clock().advance(d);
                             },
                             [] { return 1.0; }};
  teams::TeamsBot bot{config, h.app().people(), h.app().router(), h.app().store(), keys, connector};
  RedisOutboxQueue queue{h.app().store(), "teams-test"};
  int next_activity = 1;

  TeamsFlow() {
    cloud.add_member("29:bob", "aad-bob", "Bob@test.example");
    cloud.add_member("29:lena", "aad-lena", "lena@test.example");
  }

  std::string token(json claims = nullptr) {
    if (claims.is_null()) claims = TeamsSigningKey::channel_claims(kApp, kService, h.clock().now());
    return "Bearer " + shared_key().sign(claims);
  }
  static std::string conv_of(const std::string& who) { return "a:personal-" + who; }
  json activity(const std::string& type, const std::string& who, std::string id = "") {
    if (id.empty()) id = "act-" + std::to_string(next_activity++);
    return {{"type", type},
            {"id", id},
            {"channelId", "msteams"},
            {"serviceUrl", kService},
            {"from", {{"id", "29:" + who}, {"aadObjectId", "aad-" + who}}},
            {"recipient", {{"id", "28:" + kApp}, {"name", "auditbot"}}},
            {"conversation",
             {{"id", conv_of(who)}, {"conversationType", "personal"}, {"tenantId", "tenant-1"}}}};
  }
  teams::EndpointAnswer post(const json& a, const std::string& auth = "") {
    return bot.handle(auth.empty() ? token() : auth, a.dump());
  }
  teams::EndpointAnswer install(const std::string& who) {
    auto a = activity("installationUpdate", who);
    a["action"] = "add";
    return post(a);
  }
  teams::EndpointAnswer say(const std::string& who, const std::string& text) {
    auto a = activity("message", who);
    a["text"] = text;
    return post(a);
  }
  // "Track as audit request" run by `who` on message `msg_id` in a channel conversation.
  json track_action(const std::string& who, const std::string& conversation,
                    const std::string& msg_id, const std::string& text, std::string id = "") {
    auto a = activity("invoke", who, std::move(id));
    a["name"] = "composeExtension/submitAction";
    a["conversation"] = {{"id", conversation + ";messageid=" + msg_id},
                         {"conversationType", "channel"},
                         {"tenantId", "tenant-1"}};
    a["value"] = {
        {"commandId", "trackAuditRequest"},
        {"commandContext", "message"},
        {"data", {{"confirm", "true"}}},
        {"messagePayload",
         {{"id", msg_id},
          {"body", {{"contentType", "html"}, {"content", "<p>" + text + "</p>"}}},
          {"from",
           {{"user", {{"id", "29:ava"}, {"aadObjectId", "aad-ava"}, {"displayName", "Ava B"}}}}}}}};
    return a;
  }
  // Lets the bot post in a channel (the app installed in its team).
  void install_in_channel(const std::string& who, const std::string& conversation) {
    auto a = activity("conversationUpdate", who);
    a["conversation"] = {
        {"id", conversation}, {"conversationType", "channel"}, {"tenantId", "tenant-1"}};
    a["membersAdded"] = json::array({{{"id", "28:" + kApp}}});
    ASSERT_EQ(post(a).status, 200u);
  }
  static std::string answer_text(const teams::EndpointAnswer& a) {
    const auto body = json::parse(a.body, nullptr, false);
    return body.is_object() ? body["task"].value("value", "") : "";
  }
  std::size_t drain() {
    OutboxDispatcher d(queue, bot);
    return d.drain();
  }
  // The card in the n-th activity sent to a conversation.
  json card(const std::string& conv, std::size_t n) {
    return cloud.activities(conv).at(n)["attachments"][0]["content"];
  }
  static json find_action(const json& card, const std::string& action_id) {
    for (const auto& a : card["actions"]) {
      const json& exec = a["type"] == "Action.ShowCard" ? a["card"]["actions"][0] : a;
      if (exec["verb"] == action_id) return exec;
    }
    return nullptr;
  }
  std::string text_of_last_reply(const std::string& conv) {
    const auto acts = cloud.activities(conv);
    return acts.empty() ? "" : acts.back()["attachments"][0]["content"]["body"][0]["text"];
  }
};

TEST_F(TeamsFlow, EvidenceAskRunsEndToEndWithProactiveDmAndCardUpdatedAfterPress) {
  ASSERT_EQ(install("bob").status, 200u);
  ASSERT_EQ(install("lena").status, 200u);
  EXPECT_TRUE(bot.reference_for("bob").has_value());
  EXPECT_EQ(bot.reference_for("bob")->conversation_id, conv_of("bob"));
  drain();

  // Lena asks in her chat, mentioning the bot and Bob.
  auto ask = activity("message", "lena");
  ask["text"] =
      "<at>auditbot</at> soc2 ask <at>Bob Li</at> AC-01 \"Q4 access review export\" due 2026-12-11";
  ask["entities"] = json::array(
      {{{"type", "mention"}, {"text", "<at>auditbot</at>"}, {"mentioned", {{"id", "28:" + kApp}}}},
       {{"type", "mention"},
        {"text", "<at>Bob Li</at>"},
        {"mentioned", {{"id", "29:bob"}, {"aadObjectId", "aad-bob"}}}}});
  ASSERT_EQ(post(ask).status, 200u);
  EXPECT_THAT(text_of_last_reply(conv_of("lena")), HasSubstr("Created ASK-1 for Bob Li"));
  EXPECT_EQ(h.item("ASK-1").at("owner"), "bob");

  // Bob gets a proactive DM with the card.
  drain();
  ASSERT_EQ(cloud.activities(conv_of("bob")).size(), 1u);
  const json bob_card = card(conv_of("bob"), 0);
  EXPECT_EQ(bob_card["version"], "1.5");
  EXPECT_EQ(bob_card["body"][0]["text"], "Evidence needed: ASK-1");
  const json submit = find_action(bob_card, "ask.submit");
  ASSERT_FALSE(submit.is_null());
  EXPECT_EQ(submit["fallback"]["type"], "Action.Submit");
  for (const auto& c : cloud.calls()) {
    if (c.call.url.rfind(kService, 0) == 0) {
      EXPECT_EQ(c.call.bearer, "bf-token-1");
    }
  }

  // Bob presses Submit (Action.Execute) with a link.
  auto press = activity("invoke", "bob");
  press["name"] = "adaptiveCard/action";
  press["replyToId"] = "msg-card";
  json data = submit["data"];
  data["in.0.link"] = "https://drive.example/ar-q4.pdf";
  press["value"] = {
      {"action", {{"type", "Action.Execute"}, {"verb", "ask.submit"}, {"data", data}}},
      {"trigger", "manual"}};
  const auto answer = post(press);
  ASSERT_EQ(answer.status, 200u);
  const auto body = json::parse(answer.body);
  EXPECT_EQ(body["statusCode"], 200);
  EXPECT_EQ(body["type"], "application/vnd.microsoft.activity.message");
  EXPECT_THAT(body["value"].get<std::string>(), HasSubstr("Lena Fischer"));
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");

  // Bob's card is updated in place; Lena gets the review card.
  drain();
  const auto puts = cloud.calls_to("PUT", "/activities/");
  ASSERT_EQ(puts.size(), 1u);
  const auto bob_acts = cloud.activities(conv_of("bob"));
  ASSERT_EQ(bob_acts.size(), 2u);
  EXPECT_EQ(bob_acts[1]["updated"], bob_acts[1]["id"]);
  EXPECT_NE(bob_acts[1].dump().find("Evidence needed: ASK-1"), std::string::npos);
  EXPECT_NE(bob_acts[1].dump(), bob_acts[0].dump());
  bool review = false;
  for (const auto& a : cloud.activities(conv_of("lena"))) {
    review |= a.dump().find("Evidence to review: ASK-1") != std::string::npos;
  }
  EXPECT_TRUE(review);

  // The same invoke redelivered changes nothing.
  const auto audit_before = h.audit_entries().size();
  const auto keys_before = h.redis_key_count();
  EXPECT_EQ(post(press).status, 200u);
  EXPECT_EQ(h.audit_entries().size(), audit_before);
  EXPECT_EQ(h.redis_key_count(), keys_before);
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");
  EXPECT_EQ(tokens.fetches(), 1u);
  EXPECT_TRUE(verify_audit_log(h.app().store()).ok);
}

TEST_F(TeamsFlow, ActionSubmitFallbackPressWorksLikeExecute) {
  install("bob");
  install("lena");
  say("lena", "ask @bob AC-01 \"export\" due 2026-12-11");
  drain();
  const json submit = find_action(card(conv_of("bob"), 0), "ask.submit");
  auto msg = activity("message", "bob");
  json value = submit["fallback"]["data"];
  value["in.0.link"] = "https://drive.example/x.pdf";
  msg["value"] = value;
  ASSERT_EQ(post(msg).status, 200u);
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");
  EXPECT_THAT(text_of_last_reply(conv_of("bob")), HasSubstr("Lena Fischer"));
}

TEST_F(TeamsFlow, TeamInstallOpensAOneToOneConversationForTheDm) {
  auto a = activity("conversationUpdate", "bob");
  a["conversation"] = {
      {"id", "19:team-channel"}, {"conversationType", "channel"}, {"tenantId", "tenant-1"}};
  a["membersAdded"] = json::array({{{"id", "28:" + kApp}}});
  ASSERT_EQ(post(a).status, 200u);
  install("lena");
  say("lena", "ask @bob AC-01 \"export\" due 2026-12-11");
  drain();
  const auto creates = cloud.calls_to("POST", "v3/conversations");
  const auto create = std::find_if(creates.begin(), creates.end(), [](const auto& r) {
    return r.call.url == std::string(kService) + "v3/conversations";
  });
  ASSERT_NE(create, creates.end());
  const auto req = json::parse(create->call.body);
  EXPECT_EQ(req["members"][0]["id"], "29:bob");
  EXPECT_EQ(req["channelData"]["tenant"]["id"], "tenant-1");
  EXPECT_EQ(req["bot"]["id"], "28:" + kApp);
  EXPECT_EQ(cloud.activities("a:dm-29:bob").size(), 1u);
  EXPECT_TRUE(cloud.activities("19:team-channel").empty());
}

TEST_F(TeamsFlow, UninstallRemovesTheReferenceAndRedeliveredInstallWritesOnce) {
  auto a = activity("installationUpdate", "bob", "inst-1");
  a["action"] = "add";
  post(a);
  const auto audit = h.audit_entries().size();
  post(a);
  EXPECT_EQ(h.audit_entries().size(), audit) << h.audit_entries().back().action;
  auto rm = activity("installationUpdate", "bob");
  rm["action"] = "remove";
  post(rm);
  EXPECT_FALSE(bot.reference_for("bob").has_value());
  EXPECT_EQ(h.audit_entries().back().action, "teams.uninstalled");
}

TEST_F(TeamsFlow, ReinstallAfterBlockingMakesThePersonReachableAgain) {
  install("bob");
  install("lena");
  say("lena", "ask @bob AC-01 \"export\" due 2026-12-11");
  cloud.block_conversation(conv_of("bob"), "29:bob");
  drain();
  ASSERT_FALSE(bot.reachable("bob"));
  install("bob");
  EXPECT_TRUE(bot.reachable("bob"));
}

TEST_F(TeamsFlow, TheZoneTeamsReportsForASenderIsKeptForReminders) {
  ASSERT_EQ(install("bob").status, 200u);
  auto a = activity("message", "bob");
  a["text"] = "soc2 mine";
  a["localTimezone"] = "Asia/Tokyo";
  ASSERT_EQ(post(a).status, 200u);
  auto& store = h.app().store();
  EXPECT_EQ(store.hgetall(store.keys().learned_timezones())->at("bob"), "Asia/Tokyo");
  // A zone that is not an IANA name is not kept.
  auto b = activity("message", "bob");
  b["text"] = "soc2 mine";
  b["localTimezone"] = "Pacific Standard Time";
  ASSERT_EQ(post(b).status, 200u);
  EXPECT_EQ(store.hgetall(store.keys().learned_timezones())->at("bob"), "Asia/Tokyo");
}

TEST_F(TeamsFlow, UnknownPersonIsToldHowToGetAddedAndNothingRuns) {
  cloud.add_member("29:zed", "aad-zed", "zed@elsewhere.example");
  const auto keys_before = h.redis_key_count();
  say("zed", "ask @bob AC-01 \"x\" due 2026-12-11");
  EXPECT_THAT(text_of_last_reply(conv_of("zed")), HasSubstr("I don't know you yet"));
  EXPECT_EQ(h.redis_key_count(), keys_before);
}

class Forgery : public TeamsFlow {
 protected:
  void expect_refused(const std::string& auth, const json& act) {
    const auto keys_before = h.redis_key_count();
    const auto audit_before = h.audit_entries().size();
    const auto calls_before = cloud.calls_to("POST", "v3/").size();
    EXPECT_EQ(bot.handle(auth, act.dump()).status, 401u);
    EXPECT_EQ(h.redis_key_count(), keys_before);
    EXPECT_EQ(h.audit_entries().size(), audit_before);
    EXPECT_EQ(cloud.calls_to("POST", "v3/").size(), calls_before);
    EXPECT_FALSE(h.app().store().hgetall(h.app().store().keys().item("ASK-1")).has_value());
  }
  json ask() {
    auto a = activity("message", "lena");
    a["text"] = "soc2 ask @bob AC-01 \"x\" due 2026-12-11";
    return a;
  }
  json claims() { return TeamsSigningKey::channel_claims(kApp, kService, h.clock().now()); }
};

TEST_F(Forgery, EachForgedRequestGets401AndChangesNothing) {
  install("lena");
  auto c = claims();
  expect_refused("Bearer " + shared_key().sign_none(c), ask());
  expect_refused("Bearer " + shared_key().sign_hs256_with_public_key(c), ask());
  auto wrong_aud = c;
  wrong_aud["aud"] = "another-bot";
  expect_refused("Bearer " + shared_key().sign(wrong_aud), ask());
  auto wrong_iss = c;
  wrong_iss["iss"] = "https://login.evil.example";
  expect_refused("Bearer " + shared_key().sign(wrong_iss), ask());
  auto expired = TeamsSigningKey::channel_claims(kApp, kService, h.clock().now() - 2h);
  expect_refused("Bearer " + shared_key().sign(expired), ask());
  auto other_url = c;
  other_url["serviceurl"] = "https://smba.trafficmanager.net/emea/";
  expect_refused("Bearer " + shared_key().sign(other_url), ask());
  TeamsSigningKey stranger("kid-unknown", {"msteams"});
  expect_refused("Bearer " + stranger.sign(c), ask());
  TeamsSigningKey skype("kid-skype", {"skype"});
  cloud.add_key(skype);
  h.clock().advance(61s);  // past the once-a-minute refetch limit, so the key is known
  c = claims();
  ASSERT_TRUE(keys.refresh_for_unknown_kid());
  ASSERT_NE(keys.keys().find("kid-skype"), nullptr);
  expect_refused("Bearer " + skype.sign(c), ask());
  expect_refused("", ask());
  expect_refused("Bearer not-a-jwt", ask());
  expect_refused("Bearer " + std::string(200, 'A') + "." + std::string(50, 'B') + ".", ask());
  // And the genuine token is accepted (the suite can fail).
  EXPECT_EQ(post(ask()).status, 200u);
  EXPECT_TRUE(h.app().store().hgetall(h.app().store().keys().item("ASK-1")).has_value());
}

TEST_F(Forgery, UnknownKidRefetchesKeysAtMostOnceAMinute) {
  keys.keys();
  const auto fetched = cloud.key_requests();
  TeamsSigningKey stranger("kid-new", {"msteams"});
  const auto a = activity("message", "lena");
  EXPECT_EQ(bot.handle("Bearer " + stranger.sign(claims()), a.dump()).status, 401u);
  EXPECT_EQ(bot.handle("Bearer " + stranger.sign(claims()), a.dump()).status, 401u);
  EXPECT_EQ(cloud.key_requests(), fetched + 1);
  // A real key rotation: the new key is published, and after a minute it is picked up.
  cloud.add_key(stranger);
  h.clock().advance(61s);
  auto say_hi = activity("message", "lena");
  say_hi["text"] = "soc2 help";
  EXPECT_EQ(bot.handle("Bearer " + stranger.sign(claims()), say_hi.dump()).status, 200u);
  EXPECT_EQ(cloud.key_requests(), fetched + 2);
}

TEST_F(Forgery, ActivityNamingAnotherHostGetsNoTokenAndNoMessage) {
  install("lena");
  auto a = ask();
  a["serviceUrl"] = "https://collector.evil.example/";
  auto c = claims();
  c["serviceurl"] = "https://collector.evil.example/";
  bot.handle("Bearer " + shared_key().sign(c), a.dump());
  for (const auto& r : cloud.calls()) {
    EXPECT_EQ(r.call.url.find("evil"), std::string::npos) << r.call.url;
  }
}

TEST_F(TeamsFlow, ThrottledSendsAreRetriedWithBackoffThenDelivered) {
  install("bob");
  install("lena");
  say("lena", "ask @bob AC-01 \"export\" due 2026-12-11");
  cloud.fail_next({429, 502, 504}, "3");
  sleeps.clear();
  drain();
  EXPECT_EQ(cloud.activities(conv_of("bob")).size(), 1u);
  ASSERT_EQ(sleeps.size(), 3u);
  EXPECT_EQ(sleeps[0], 3000ms);  // Retry-After wins over the shorter backoff
  EXPECT_EQ(sleeps[1], 1000ms);
  EXPECT_EQ(sleeps[2], 2000ms);
}

// The connection breaks under the answer to a command that already ran: the answer is sent
// again, so the person still sees it.
TEST_F(TeamsFlow, TheAnswerToACommandSurvivesABrokenConnection) {
  install("lena");
  const auto before = cloud.activities(conv_of("lena")).size();
  cloud.fail_next({FakeTeamsCloud::kDropped});
  say("lena", "ask @bob AC-01 \"export\" due 2026-12-11");
  EXPECT_FALSE(h.item("ASK-1").empty());
  ASSERT_EQ(cloud.activities(conv_of("lena")).size(), before + 1);
  EXPECT_THAT(text_of_last_reply(conv_of("lena")), HasSubstr("ASK-1"));
}

TEST_F(TeamsFlow, BlockedBotMarksThePersonUnreachableAndTellsTheLiaison) {
  install("bob");
  install("lena");
  say("lena", "ask @bob AC-01 \"export\" due 2026-12-11");
  cloud.block_conversation(conv_of("bob"), "29:bob");
  drain();
  drain();
  EXPECT_FALSE(bot.reachable("bob"));
  bool audited = false;
  for (const auto& e : h.audit_entries())
    audited |= e.action == "teams.unreachable";
  EXPECT_TRUE(audited);
  bool told = false;
  for (const auto& act : cloud.activities(conv_of("lena"))) {
    told |= act.dump().find("Cannot reach a person in Teams") != std::string::npos;
  }
  EXPECT_TRUE(told);
}

// Serve with Slack beside Teams: a replica died after handing two DMs over, one to a person
// on Teams, one to a person reached through Slack. On recovery both are looked up on Slack
// (an earlier try may have gone there): the one Slack has is not sent again; Teams cannot be
// asked, so the other DM goes out on Teams.
TEST_F(TeamsFlow, RecoveredEntriesAreLookedUpOnSlackBeforeTheyAreSentAgain) {
  struct SlackSide final : Deliverer {
    std::vector<std::string> looked_up;
    int sent = 0;
    DeliveryResult deliver(const OutboxEntry&) override {
      ++sent;
      return {};
    }
    std::optional<std::string> find_delivered(const OutboxEntry& e) override {
      looked_up.push_back(e.message.to.id);
      if (e.message.to.id != "kenji") return std::nullopt;  // Slack has Kenji's DM only
      return "1700000000.000100";
    }
  } slack;
  install("bob");
  Store& store = h.app().store();
  auto queue_dm = [&](const std::string& person) {
    Txn t;
    Message m;
    m.to = Recipient::person(person);
    m.key = "campaign:SEC-01:" + person;
    m.text = "Please acknowledge SEC-01";
    const std::string id = t.send(m);
    EXPECT_TRUE(store.commit(t).ok());
    return id;
  };
  const std::string to_bob = queue_dm("bob");
  const std::string to_kenji = queue_dm("kenji");
  RedisDurableOutbox dead(store, "dead", 0ms);
  ASSERT_EQ(dead.claim(10, 0ms).size(), 2u);  // and then it died

  RedisDurableOutbox live(store, "live", 0ms);
  teams::PreferTeamsDeliverer both(bot, &slack);
  DispatcherOptions opts;
  opts.ledger = &live;
  EXPECT_EQ(OutboxDispatcher(live, both, opts).drain(), 2u);  // both settled
  std::sort(slack.looked_up.begin(), slack.looked_up.end());
  EXPECT_EQ(slack.looked_up, (std::vector<std::string>{"bob", "kenji"}));
  EXPECT_EQ(slack.sent, 0);  // found on Slack: not posted again
  EXPECT_EQ(live.find(to_kenji), std::optional<std::string>("1700000000.000100"));
  EXPECT_EQ(cloud.activities(conv_of("bob")).size(), 1u);
  EXPECT_TRUE(live.find(to_bob).has_value());
  EXPECT_EQ(live.pending(), 0u);
}

TEST_F(TeamsFlow, TokenIsCachedAndRefreshedOnceShortlyBeforeExpiry) {
  EXPECT_EQ(tokens.token(), "bf-token-1");
  EXPECT_EQ(tokens.token(), "bf-token-1");
  h.clock().advance(54min);
  EXPECT_EQ(tokens.token(), "bf-token-1");
  h.clock().advance(2min);  // 4 minutes left: refresh
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] { got[i] = tokens.token(); });
  for (auto& t : threads)
    t.join();
  for (const auto& g : got)
    EXPECT_EQ(g, "bf-token-2");
  EXPECT_EQ(cloud.token_requests(), 2u);
}

TEST_F(TeamsFlow, SendsArePacedPerConversation) {
  install("bob");
  teams::ConversationRef ref = *bot.reference_for("bob");
  sleeps.clear();
  for (int i = 0; i < 10; ++i)
    connector.send(ref, json{{"type", "message"}, {"text", "x"}});
  EXPECT_EQ(cloud.activities(conv_of("bob")).size(), 10u);
  ASSERT_FALSE(sleeps.empty());  // the 8th send in one second waited
}

TEST_F(TeamsFlow, TrackingAnAuditorChannelMessageCreatesARequestAnsweredInItsThread) {
  install_in_channel("lena", kAuditorConv);
  install("bob");
  drain();

  const auto track =
      track_action("lena", kAuditorConv, "1700000000111",
                   "Please share the AC-01 access review &amp; sign-off for Q4", "track-1");
  const auto answer = post(track);
  ASSERT_EQ(answer.status, 200u);
  EXPECT_THAT(answer_text(answer), HasSubstr("REQ-1"));
  const auto req = h.item("REQ-1");
  EXPECT_EQ(req.at("owner"), "bob");
  EXPECT_EQ(req.at("text"), "Please share the AC-01 access review & sign-off for Q4");
  EXPECT_EQ(req.at("requested_by"), "Ava B");
  EXPECT_EQ(req.at("thread"), kAuditorConv + "/1700000000111");
  EXPECT_EQ(req.at("reply_thread"), "1700000000111");

  // The auditor sees each status as a reply under their own message.
  const std::string thread = kAuditorConv + ";messageid=1700000000111";
  drain();
  ASSERT_EQ(cloud.activities(thread).size(), 1u);
  EXPECT_TRUE(cloud.activities(kAuditorConv).empty());
  say("bob", "request REQ-1 start");
  EXPECT_EQ(h.item("REQ-1").at("status"), "in_progress");
  drain();
  const auto replies = cloud.activities(thread);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_THAT(replies[1].dump(), HasSubstr("REQ-1"));

  // The same invoke redelivered still leaves one request and changes nothing.
  const auto audit_before = h.audit_entries().size();
  const auto keys_before = h.redis_key_count();
  const auto again = post(track);
  EXPECT_EQ(again.status, 200u);
  EXPECT_THAT(answer_text(again), HasSubstr("REQ-1"));
  EXPECT_TRUE(h.item("REQ-2").empty());
  EXPECT_EQ(h.audit_entries().size(), audit_before);
  EXPECT_EQ(h.redis_key_count(), keys_before);
  EXPECT_TRUE(verify_audit_log(h.app().store()).ok);
}

TEST_F(TeamsFlow, TrackingAMessageInAnotherChannelIsRefusedAndWritesNothing) {
  install("lena");
  drain();
  const auto keys_before = h.redis_key_count();
  const auto answer =
      post(track_action("lena", "19:random@thread.tacv2", "1700000000999", "AC-01 lunch?"));
  ASSERT_EQ(answer.status, 200u);
  EXPECT_EQ(answer_text(answer), "Only messages in the auditor channel can be tracked.");
  EXPECT_EQ(h.redis_key_count(), keys_before);
  EXPECT_TRUE(h.item("REQ-1").empty());
}

TEST_F(TeamsFlow, TrackingWithTheSwitchOffTracksNothing) {
  install_in_channel("lena", kAuditorConv);
  drain();
  const auto keys_before = h.redis_key_count();
  const auto audit_before = h.audit_entries().size();
  auto a = track_action("lena", kAuditorConv, "1700000000222", "AC-01 please");
  a["value"]["data"]["confirm"] = "false";
  const auto answer = post(a);
  ASSERT_EQ(answer.status, 200u);
  EXPECT_THAT(answer_text(answer), HasSubstr("Not tracked"));
  EXPECT_TRUE(h.item("REQ-1").empty());
  EXPECT_EQ(h.redis_key_count(), keys_before);
  EXPECT_EQ(h.audit_entries().size(), audit_before);
  drain();
  EXPECT_TRUE(cloud.activities(kAuditorConv + ";messageid=1700000000222").empty());
}

// A message action run in a chat between people (which Teams may also call "personal") is
// not the person's 1:1 with the bot: their DMs keep going to that 1:1.
TEST_F(TeamsFlow, AMessageActionInAPeoplesChatDoesNotMoveThePersonsDms) {
  install("lena");
  auto a = track_action("lena", "a:chat-lena-ava", "1700000000333", "AC-01 lunch?");
  a["conversation"]["conversationType"] = "personal";
  ASSERT_EQ(post(a).status, 200u);
  EXPECT_TRUE(h.item("REQ-1").empty());
  ASSERT_TRUE(bot.reference_for("lena").has_value());
  EXPECT_EQ(bot.reference_for("lena")->conversation_id, conv_of("lena"));
  Txn t;
  Message m;
  m.to = Recipient::person("lena");
  m.key = "notice:lena";
  m.text = "Your weekly digest";
  t.send(m);
  ASSERT_TRUE(h.app().store().commit(t).ok());
  const auto before = cloud.activities(conv_of("lena")).size();
  drain();
  EXPECT_EQ(cloud.activities(conv_of("lena")).size(), before + 1);
  EXPECT_TRUE(cloud.activities("a:chat-lena-ava").empty());
}

TEST_F(TeamsFlow, AMessageActionWithoutAMessageIsAnsweredNotCrashed) {
  install("lena");
  auto a = track_action("lena", kAuditorConv, "1700000000111", "AC-01");
  a["value"]["messagePayload"] = json::array();
  const auto answer = post(a);
  EXPECT_EQ(answer.status, 200u);
  EXPECT_TRUE(h.item("REQ-1").empty());
}

}  // namespace
}  // namespace auditbot::test
