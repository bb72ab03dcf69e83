// Teams end to end over real TLS on loopback: the Bot Framework fakes served with the test CA,
// auditbot's /api/messages listener (TeamsService::route) and its HTTPS client, as in `serve`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <thread>

#include "bot/app/teams_service.hpp"
#include "bot/http_server.hpp"
#include "integrations/redis/outbox_queue.hpp"
#include "integrations/teams/bot.hpp"
#include "tests/fakes/teams_https.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

const std::string kApp = "app-0000-1111";

TeamsSigningKey& signing_key() {
  static TeamsSigningKey key("kid-tls", {"msteams"});
  return key;
}

struct Answer {
  unsigned status = 0;
  std::string body;
};

// One plain-HTTP POST to auditbot's listener on loopback, as the Bot Connector makes it.
Answer post_http(unsigned short port, const std::string& auth, const std::string& body) {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket sock(ioc);
  sock.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/api/messages", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::content_type, "application/json");
  if (!auth.empty()) req.set(bhttp::field::authorization, auth);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(sock, req);
  boost::beast::flat_buffer buf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(sock, buf, res);
  boost::system::error_code ec;
  sock.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  return {res.result_int(), res.body()};
}

class TeamsOverTls : public ::testing::Test {
 protected:
  // Set by fixtures whose org names a Teams channel as its compliance channel.
  static inline bool with_teams_channel = false;
  FakeTeamsHttps ms{signing_key()};
  Harness h{[this](Config& c) {
    c.teams_app_id = kApp;
    c.teams_app_password = "s3cret-pw";
    c.teams_openid_metadata_url = ms.metadata_url();
    c.teams_token_url = ms.token_url();
    c.teams_service_url_allowlist = {ms.service_url()};
    c.ca_file = TestCa::get().ca_file;
    if (with_teams_channel) c.channels["compliance"] = "19:team-channel";
  }};
  std::mutex sleeps_mu;
  std::vector<std::chrono::milliseconds> sleeps;
  TeamsService service{h.app(), h.clock(), [this](std::chrono::milliseconds d) {
                         std::lock_guard lock(sleeps_mu);
                         sleeps.push_back(d);
                         h.clock().advance(d);
                       }};
  HttpServer listener{HttpServerOptions{}, {service.route()}};
  unsigned short port = listener.start();
  RedisOutboxQueue queue{h.app().store(), "teams-tls"};
  int next_activity = 1;

  TeamsOverTls() {
    ms.cloud().add_member("29:bob", "aad-bob", "bob@test.example");
    ms.cloud().add_member("29:lena", "aad-lena", "lena@test.example");
  }
  ~TeamsOverTls() override { listener.stop(); }

  std::string service_url() const { return ms.service_url(); }
  json claims() { return TeamsSigningKey::channel_claims(kApp, service_url(), h.clock().now()); }
  std::string token() { return "Bearer " + signing_key().sign(claims()); }
  static std::string conv_of(const std::string& who) { return "a:personal-" + who; }
  json activity(const std::string& type, const std::string& who, std::string id = "") {
    if (id.empty()) id = "act-" + std::to_string(next_activity++);
    return {{"type", type},
            {"id", id},
            {"channelId", "msteams"},
            {"serviceUrl", service_url()},
            {"from", {{"id", "29:" + who}, {"aadObjectId", "aad-" + who}}},
            {"recipient", {{"id", "28:" + kApp}, {"name", "auditbot"}}},
            {"conversation",
             {{"id", conv_of(who)}, {"conversationType", "personal"}, {"tenantId", "tenant-1"}}}};
  }
  // Posts and waits for the reply the bot sends after answering (replies do not block it).
  Answer post(const json& a, std::string auth = "") {
    const auto answer = post_http(port, auth.empty() ? token() : auth, a.dump());
    service.flush_replies();
    return answer;
  }
  Answer install_personal(const std::string& who) {
    auto a = activity("installationUpdate", who);
    a["action"] = "add";
    return post(a);
  }
  // The bot added to a team by `who`: no 1:1 conversation yet, so a DM must create one.
  Answer install_in_team(const std::string& who) {
    auto a = activity("conversationUpdate", who);
    a["conversation"] = {
        {"id", "19:team-channel"}, {"conversationType", "channel"}, {"tenantId", "tenant-1"}};
    a["membersAdded"] = json::array({{{"id", "28:" + kApp}}});
    return post(a);
  }
  Answer say(const std::string& who, const std::string& text) {
    auto a = activity("message", who);
    a["text"] = text;
    return post(a);
  }
  std::size_t drain() {
    OutboxDispatcher d(queue, service.bot());
    return d.drain();
  }
  std::vector<json> acts(const std::string& conv) { return ms.cloud().activities(conv); }
  static json find_action(const json& card, const std::string& verb) {
    for (const auto& a : card["actions"]) {
      const json& exec = a["type"] == "Action.ShowCard" ? a["card"]["actions"][0] : a;
      if (exec["verb"] == verb) return exec;
    }
    return nullptr;
  }
  // Requests that reached the Bot Connector over TLS.
  std::vector<RecordedRequest> connector_requests() {
    std::vector<RecordedRequest> out;
    for (const auto& r : ms.server().requests())
      if (r.path.rfind("/amer/", 0) == 0) out.push_back(r);
    return out;
  }
};

TEST_F(TeamsOverTls, EvidenceAskWithProactiveDmPressAndCardUpdatedInPlace) {
  ASSERT_EQ(install_in_team("bob").status, 200u);
  ASSERT_EQ(install_personal("lena").status, 200u);
  ASSERT_TRUE(service.bot().reference_for("bob").has_value());
  EXPECT_TRUE(service.bot().reference_for("bob")->conversation_id.empty());

  ASSERT_EQ(say("lena", "soc2 ask @bob AC-01 \"Q4 access review export\" due 2026-12-11").status,
            200u);
  ASSERT_FALSE(acts(conv_of("lena")).empty());
  EXPECT_THAT(acts(conv_of("lena")).back().dump(), HasSubstr("Created ASK-1"));
  EXPECT_EQ(h.item("ASK-1").at("owner"), "bob");

  // The proactive DM: a 1:1 conversation is created, then the card is sent into it.
  drain();
  const auto creates = ms.server().requests_to("/amer/v3/conversations");
  ASSERT_EQ(creates.size(), 1u);
  const auto create = json::parse(creates[0].body);
  EXPECT_EQ(create["members"][0]["id"], "29:bob");
  EXPECT_EQ(create["channelData"]["tenant"]["id"], "tenant-1");
  const std::string dm = "a:dm-29:bob";
  ASSERT_EQ(acts(dm).size(), 1u);
  const json card = acts(dm)[0]["attachments"][0]["content"];
  EXPECT_EQ(card["version"], "1.5");
  const json submit = find_action(card, "ask.submit");
  ASSERT_FALSE(submit.is_null());
  EXPECT_TRUE(acts("19:team-channel").empty());

  // Bob presses Submit (Action.Execute) in the DM; the invoke response is the HTTP answer.
  auto press = activity("invoke", "bob");
  press["conversation"]["id"] = dm;
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
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");

  // The card is updated in place (PUT on the same activity id).
  drain();
  const auto puts = ms.cloud().calls_to("PUT", "/activities/");
  ASSERT_EQ(puts.size(), 1u);
  ASSERT_EQ(acts(dm).size(), 2u);
  EXPECT_EQ(acts(dm)[1]["updated"], acts(dm)[1]["id"]);
  EXPECT_NE(acts(dm)[1].dump(), acts(dm)[0].dump());

  // The same invoke redelivered changes nothing.
  const auto audit_before = h.audit_entries().size();
  const auto keys_before = h.redis_key_count();
  EXPECT_EQ(post(press).status, 200u);
  drain();
  EXPECT_EQ(h.audit_entries().size(), audit_before);
  EXPECT_EQ(h.redis_key_count(), keys_before);
  EXPECT_EQ(h.item("ASK-1").at("status"), "in_review");

  // Every Connector call went over TLS with the one cached bearer token.
  const auto calls = connector_requests();
  ASSERT_GE(calls.size(), 4u);
  for (const auto& r : calls)
    EXPECT_EQ(r.header("authorization"), "Bearer bf-token-1") << r.method << " " << r.target;
  EXPECT_EQ(ms.cloud().token_requests(), 1u);
  const auto token_calls = ms.server().requests_to("/botframework.com/oauth2/v2.0/token");
  ASSERT_EQ(token_calls.size(), 1u);
  EXPECT_THAT(token_calls[0].body, HasSubstr("grant_type=client_credentials"));
  EXPECT_THAT(token_calls[0].body,
              HasSubstr("scope=https%3A%2F%2Fapi.botframework.com%2F.default"));
}

TEST_F(TeamsOverTls, ForgedRequestsAtTheEndpointGet401AndLeaveRedisUntouched) {
  ASSERT_EQ(install_personal("lena").status, 200u);
  auto ask = activity("message", "lena");
  ask["text"] = "soc2 ask @bob AC-01 \"x\" due 2026-12-11";
  TeamsSigningKey stranger("kid-unknown", {"msteams"});
  TeamsSigningKey skype("kid-skype", {"skype"});
  ms.cloud().add_key(skype);
  const auto c = claims();
  auto with = [&](const char* field, json value) {
    auto x = c;
    x[field] = std::move(value);
    return x;
  };
  const std::vector<std::pair<std::string, std::string>> forgeries = {
      {"alg none", "Bearer " + signing_key().sign_none(c)},
      {"HS256 with the public key", "Bearer " + signing_key().sign_hs256_with_public_key(c)},
      {"wrong audience", "Bearer " + signing_key().sign(with("aud", "another-bot"))},
      {"wrong issuer", "Bearer " + signing_key().sign(with("iss", "https://login.evil.example"))},
      {"expired", "Bearer " + signing_key().sign(TeamsSigningKey::channel_claims(
                                  kApp, service_url(), h.clock().now() - 2h))},
      {"serviceurl mismatch",
       "Bearer " + signing_key().sign(with("serviceurl", "https://smba.trafficmanager.net/emea/"))},
      {"unknown kid", "Bearer " + stranger.sign(c)},
      {"key without msteams endorsement", "Bearer " + skype.sign(c)},
      {"garbage", "Bearer not-a-jwt"},
      {"not bearer", "Basic " + signing_key().sign(c)},
  };
  const auto keys_before = h.redis_key_count();
  const auto audit_before = h.audit_entries().size();
  const auto connector_before = connector_requests().size();
  for (const auto& [name, auth] : forgeries) {
    EXPECT_EQ(post(ask, auth).status, 401u) << name;
  }
  // No Authorization header at all.
  EXPECT_EQ(post_http(port, "", ask.dump()).status, 401u);
  EXPECT_EQ(h.redis_key_count(), keys_before);
  EXPECT_EQ(h.audit_entries().size(), audit_before);
  EXPECT_EQ(connector_requests().size(), connector_before);
  EXPECT_FALSE(h.app().store().hgetall(h.app().store().keys().item("ASK-1")).has_value());
  // The genuine token is accepted, so the suite can fail.
  EXPECT_EQ(post(ask).status, 200u);
  EXPECT_TRUE(h.app().store().hgetall(h.app().store().keys().item("ASK-1")).has_value());
}

TEST_F(TeamsOverTls, TokenIsRefreshedOnceUnderConcurrentReplies) {
  ASSERT_EQ(install_personal("lena").status, 200u);
  ASSERT_EQ(say("lena", "soc2 help").status, 200u);
  ASSERT_EQ(ms.cloud().token_requests(), 1u);
  h.clock().advance(56min);  // 4 minutes of the hour left: the next send refreshes
  std::vector<std::thread> threads;
  std::vector<unsigned> statuses(8);
  std::vector<std::string> auths(8);
  for (int i = 0; i < 8; ++i) {
    auths[i] = token();
    threads.emplace_back([&, i] {
      auto a = activity("message", "lena", "conc-" + std::to_string(i));
      a["text"] = "soc2 help";
      statuses[i] = post_http(port, auths[i], a.dump()).status;
    });
  }
  for (auto& t : threads)
    t.join();
  service.flush_replies();
  for (auto s : statuses)
    EXPECT_EQ(s, 200u);
  EXPECT_EQ(ms.cloud().token_requests(), 2u);
  // Nine replies (the first with the old token, eight with the one refreshed token).
  std::vector<RecordedRequest> sends;
  for (const auto& r : connector_requests())
    if (r.method == "POST" && r.path.ends_with("/activities")) sends.push_back(r);
  ASSERT_EQ(sends.size(), 9u);
  EXPECT_EQ(sends[0].header("authorization"), "Bearer bf-token-1");
  for (std::size_t i = 1; i < sends.size(); ++i)
    EXPECT_EQ(sends[i].header("authorization"), "Bearer bf-token-2");
}

TEST_F(TeamsOverTls, BearerTokenIsNeverSentToAServiceUrlOffTheAllowList) {
  // A reachable TLS host the test CA vouches for, but not on the allow-list.
  FakeHttpsServer elsewhere([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  const std::string other = elsewhere.base_url() + "/amer/";
  ASSERT_EQ(install_personal("lena").status, 200u);
  auto a = activity("message", "lena");
  a["serviceUrl"] = other;
  a["text"] = "soc2 help";
  auto c = claims();
  c["serviceurl"] = other;
  const auto before = connector_requests().size();
  post(a, "Bearer " + signing_key().sign(c));
  auto inst = activity("installationUpdate", "bob");
  inst["serviceUrl"] = other;
  inst["action"] = "add";
  post(inst, "Bearer " + signing_key().sign(c));
  EXPECT_TRUE(elsewhere.requests().empty());
  EXPECT_EQ(connector_requests().size(), before);
  EXPECT_FALSE(service.bot().reference_for("bob").has_value());
}

TEST_F(TeamsOverTls, ThrottlingAndGatewayErrorsAreRetriedAndBlockedBotTellsTheLiaison) {
  ASSERT_EQ(install_personal("bob").status, 200u);
  ASSERT_EQ(install_personal("lena").status, 200u);
  ASSERT_EQ(say("lena", "soc2 ask @bob AC-01 \"export\" due 2026-12-11").status, 200u);
  ms.cloud().fail_next({429, 412, 502}, "3");
  {
    std::lock_guard lock(sleeps_mu);
    sleeps.clear();
  }
  drain();
  EXPECT_EQ(acts(conv_of("bob")).size(), 1u);
  {
    std::lock_guard lock(sleeps_mu);
    ASSERT_EQ(sleeps.size(), 3u);
    EXPECT_GE(sleeps[0], 3000ms);  // Retry-After honoured
  }
  // 504 is retried too.
  const auto lena_before = acts(conv_of("lena")).size();
  ms.cloud().fail_next({504});
  ASSERT_EQ(say("lena", "soc2 help").status, 200u);
  EXPECT_EQ(acts(conv_of("lena")).size(), lena_before + 1);

  // Bob blocks the bot: 403 MessageWritesBlocked marks him unreachable; the liaison is told.
  ms.cloud().block_conversation(conv_of("bob"), "29:bob");
  ASSERT_EQ(say("lena", "soc2 ask @bob AC-01 \"another\" due 2026-12-12").status, 200u);
  drain();
  drain();
  EXPECT_FALSE(service.bot().reachable("bob"));
  bool told = false;
  for (const auto& act : acts(conv_of("lena")))
    told |= act.dump().find("Cannot reach a person in Teams") != std::string::npos;
  EXPECT_TRUE(told);
}

class TeamsChannel : public TeamsOverTls {
 protected:
  static void SetUpTestSuite() { with_teams_channel = true; }
  static void TearDownTestSuite() { with_teams_channel = false; }
  void queue_to_compliance(const std::string& text) {
    Message m;
    m.to = Recipient::channel("compliance");
    m.key = "weekly-status";
    m.title = "Weekly status";
    m.text = text;
    Txn t;
    t.send(m);
    ASSERT_TRUE(h.app().store().commit(t).ok());
  }
};

TEST_F(TeamsChannel, ComplianceChannelConfiguredAsTeamsConversationGetsPostsUpdatedInPlace) {
  queue_to_compliance("3 open asks");
  drain();  // the bot is not in that team yet: nothing can be posted
  EXPECT_TRUE(acts("19:team-channel").empty());

  ASSERT_EQ(install_in_team("bob").status, 200u);
  queue_to_compliance("2 open asks");
  drain();
  ASSERT_EQ(acts("19:team-channel").size(), 1u);
  EXPECT_THAT(acts("19:team-channel")[0].dump(), HasSubstr("2 open asks"));
  queue_to_compliance("1 open ask");
  drain();
  ASSERT_EQ(acts("19:team-channel").size(), 2u);
  EXPECT_EQ(acts("19:team-channel")[1]["updated"], acts("19:team-channel")[1]["id"]);
  EXPECT_THAT(acts("19:team-channel")[1].dump(), HasSubstr("1 open ask"));
  for (const auto& r : connector_requests())
    EXPECT_EQ(r.header("authorization"), "Bearer bf-token-1");
}

// A reply in a channel thread goes to "<channel>;messageid=<root>", the thread's own
// conversation, and never to the channel's top level.
TEST_F(TeamsChannel, ThreadReplyIsSentIntoTheThreadConversation) {
  ASSERT_EQ(install_in_team("bob").status, 200u);
  Message m;
  m.to = Recipient::channel("compliance", "1700000000123");
  m.title = "REQ-1: in progress";
  Txn t;
  t.send(m);
  ASSERT_TRUE(h.app().store().commit(t).ok());
  EXPECT_EQ(drain(), 1u);
  const auto in_thread = acts("19:team-channel;messageid=1700000000123");
  ASSERT_EQ(in_thread.size(), 1u);
  EXPECT_THAT(in_thread[0].dump(), HasSubstr("REQ-1: in progress"));
  EXPECT_TRUE(acts("19:team-channel").empty());
  // On the wire: POST /v3/conversations/{id}/activities with the id percent-encoded.
  bool posted = false;
  for (const auto& r : connector_requests()) {
    posted |= r.path.find("19%3Ateam-channel%3Bmessageid%3D1700000000123/activities") !=
              std::string::npos;
  }
  EXPECT_TRUE(posted);
}

}  // namespace
}  // namespace auditbot::test
