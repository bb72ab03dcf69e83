// Slack events beyond the evidence flow, against the fake Slack on loopback HTTPS and real
// Redis: tracking auditor messages (reaction, message shortcut), team_join, commands by
// mention and in a DM, ephemeral replies, and the body limit on /slack/events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <mutex>

#include "bot/http_server.hpp"
#include "integrations/redis/outbox_queue.hpp"
#include "integrations/slack/deliverer.hpp"
#include "integrations/slack/events.hpp"
#include "integrations/slack/signature.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace bhttp = boost::beast::http;

constexpr const char* kSecret = "test-signing-secret";

class SlackEventsTest : public ::testing::Test {
 protected:
  SlackEventsTest() {
    http::ClientOptions o;
    o.ca_file = TestCa::get().ca_file;
    o.io_timeout = 3000ms;
    client = std::make_unique<http::Client>(o);
    slack::WebApiOptions wo;
    wo.base_url = fake.api_url();
    wo.token = "xoxb-test-token";
    wo.channel_interval = 0ms;
    api = std::make_unique<slack::WebApi>(*client, wo);
    people = std::make_unique<slack::SlackPeople>(h.app().people(), h.app().store(), api.get());
    slack::EventsOptions eo;
    eo.signing_secret = kSecret;
    eo.track_emoji = "pushpin";
    eo.track_channel = "C-AUDIT";
    eo.body_limit = 64 << 10;
    events = std::make_unique<slack::SlackEvents>(h.app().router(), *people, *api, h.app().store(),
                                                  h.clock(), eo);
  }

  HttpRequest signed_request(const std::string& content_type, const std::string& body) {
    HttpRequest req{bhttp::verb::post, "/slack/events", 11};
    const std::string ts = std::to_string(unix_seconds(h.clock().now()));
    req.set("X-Slack-Request-Timestamp", ts);
    req.set("X-Slack-Signature", slack::compute_signature(kSecret, ts, body));
    req.set(bhttp::field::content_type, content_type);
    req.body() = body;
    return req;
  }

  static std::string enc(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
        out += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
  }

  slack::SlackEvents::Answer event(const json& ev, const std::string& id) {
    json env = {{"type", "event_callback"}, {"event_id", id}, {"event", ev}};
    auto a = events->on_http(signed_request("application/json", env.dump()));
    events->wait_idle();
    return a;
  }

  slack::SlackEvents::Answer interact(const json& payload) {
    auto a = events->on_http(
        signed_request("application/x-www-form-urlencoded", "payload=" + enc(payload.dump())));
    events->wait_idle();
    return a;
  }

  // The fake's next conversations.history answer holds this one message.
  void history_holds(const json& message) {
    fake.server().inject(
        FakeResponse::json(json{{"ok", true}, {"messages", json::array({message})}}.dump()),
        "/api/conversations.history");
  }

  // A "Track as audit request" message shortcut on `message`, pressed by Lena in `channel`.
  json track_shortcut(const std::string& trigger, const std::string& channel, const json& message) {
    return {{"type", "message_action"},  {"callback_id", "track_audit_request"},
            {"trigger_id", trigger},     {"response_url", fake.response_url(trigger)},
            {"user", {{"id", "ULENA"}}}, {"channel", {{"id", channel}}},
            {"message", message}};
  }

  json reaction(const std::string& who, const std::string& emoji, const std::string& channel,
                const std::string& ts) {
    return {{"type", "reaction_added"},
            {"user", FakeSlack::user_id(who)},
            {"reaction", emoji},
            {"item_user", "UAVA"},
            {"item", {{"type", "message"}, {"channel", channel}, {"ts", ts}}},
            {"event_ts", "1700000000.000300"}};
  }

  Harness h;
  FakeSlack fake;
  std::unique_ptr<http::Client> client;
  std::unique_ptr<slack::WebApi> api;
  std::unique_ptr<slack::SlackPeople> people;
  std::unique_ptr<slack::SlackEvents> events;
};

TEST_F(SlackEventsTest, ReactionWithTheEmojiInTheAuditorChannelTracksTheMessage) {
  history_holds({{"type", "message"},
                 {"user", "UAVA"},
                 {"ts", "1700000000.000100"},
                 {"text", "Please provide the CC6.1 access review for Q3"}});
  auto a = event(reaction("lena", "pushpin", "C-AUDIT", "1700000000.000100"), "EvR1");
  EXPECT_EQ(a.status, 200u);
  // The text was read with a form-encoded conversations.history (Slack reads no JSON there).
  auto reads = fake.server().requests_to("/api/conversations.history");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_THAT(reads[0].body, HasSubstr("channel=C-AUDIT"));
  EXPECT_THAT(reads[0].body, HasSubstr("latest=1700000000.000100"));
  EXPECT_THAT(reads[0].body, HasSubstr("inclusive=true"));

  const auto req = h.item("REQ-1");
  ASSERT_FALSE(req.empty());
  EXPECT_EQ(req.at("text"), "Please provide the CC6.1 access review for Q3");
  EXPECT_EQ(req.at("requested_by"), "ava");  // the author, resolved to a person
  EXPECT_EQ(req.at("source"), "tracked");
  EXPECT_THAT(req.at("thread"), HasSubstr("1700000000.000100"));
  // The reactor hears back privately in the channel.
  auto eph = fake.calls("chat.postEphemeral");
  ASSERT_EQ(eph.size(), 1u);
  EXPECT_EQ(eph[0]["user"], "ULENA");
  EXPECT_EQ(eph[0]["channel"], "C-AUDIT");
  EXPECT_THAT(eph[0].dump(), HasSubstr("REQ-1"));

  // Slack's retry of the same event changes nothing.
  history_holds({{"type", "message"},
                 {"user", "UAVA"},
                 {"ts", "1700000000.000100"},
                 {"text", "Please provide the CC6.1 access review for Q3"}});
  event(reaction("lena", "pushpin", "C-AUDIT", "1700000000.000100"), "EvR1");
  EXPECT_TRUE(h.item("REQ-2").empty());
}

TEST_F(SlackEventsTest, ThreadReplyIsFoundThroughConversationsReplies) {
  // Not in the channel history: a reply inside a thread.
  fake.server().inject(FakeResponse::json(R"({"ok":true,"messages":[]})"),
                       "/api/conversations.history");
  fake.server().inject(
      FakeResponse::json(json{{"ok", true},
                              {"messages",
                               {{{"ts", "1700000000.000001"}, {"text", "root"}, {"user", "UAVA"}},
                                {{"ts", "1700000000.000200"},
                                 {"thread_ts", "1700000000.000001"},
                                 {"user", "UAVA"},
                                 {"text", "Also the CC8.1 change sample"}}}}}
                             .dump()),
      "/api/conversations.replies");
  event(reaction("lena", "pushpin", "C-AUDIT", "1700000000.000200"), "EvR2");
  const auto req = h.item("REQ-1");
  ASSERT_FALSE(req.empty());
  EXPECT_EQ(req.at("text"), "Also the CC8.1 change sample");
}

TEST_F(SlackEventsTest, OtherEmojiOtherChannelsAndNonMessagesAreIgnored) {
  const auto keys = h.redis_key_count();
  event(reaction("lena", "thumbsup", "C-AUDIT", "1.1"), "EvX1");
  event(reaction("lena", "pushpin", "C-RANDOM", "1.2"), "EvX2");
  json file = reaction("lena", "pushpin", "C-AUDIT", "1.3");
  file["item"] = {{"type", "file"}, {"file", "F1"}};
  event(file, "EvX3");
  EXPECT_EQ(h.redis_key_count(), keys);
  EXPECT_TRUE(fake.server().requests_to("/api/conversations.history").empty());
  EXPECT_TRUE(fake.calls("chat.postEphemeral").empty());
}

TEST_F(SlackEventsTest, ReactionBySomeoneWithoutTheRoleChangesNothing) {
  history_holds({{"type", "message"}, {"user", "UAVA"}, {"ts", "5.1"}, {"text", "Send CC6.1"}});
  const auto audit = h.audit_entries().size();
  event(reaction("bob", "pushpin", "C-AUDIT", "5.1"), "EvB1");
  EXPECT_TRUE(h.item("REQ-1").empty());
  EXPECT_EQ(h.audit_entries().size(), audit);
  auto eph = fake.calls("chat.postEphemeral");
  ASSERT_EQ(eph.size(), 1u);
  EXPECT_EQ(eph[0]["user"], "UBOB");
}

TEST_F(SlackEventsTest, MessageShortcutTracksTheMessage) {
  json p = track_shortcut("s1", "C-AUDIT",
                          {{"type", "message"},
                           {"user", "UAVA"},
                           {"ts", "1700000000.000500"},
                           {"thread_ts", "1700000000.000400"},
                           {"text", "Need the <@UBOB> CC6.1 review"}});
  auto a = interact(p);
  EXPECT_EQ(a.status, 200u);
  const auto req = h.item("REQ-1");
  ASSERT_FALSE(req.empty());
  EXPECT_EQ(req.at("text"), "Need the @bob CC6.1 review");  // mention normalised
  EXPECT_EQ(req.at("requested_by"), "ava");
  EXPECT_TRUE(fake.server().requests_to("/api/conversations.history").empty());
  auto replies = fake.responses("s1");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0].dump(), HasSubstr("REQ-1"));
  // Another shortcut (unknown callback_id) on another message does nothing.
  json other = track_shortcut("s2", "C-AUDIT",
                              {{"type", "message"},
                               {"user", "UAVA"},
                               {"ts", "1700000000.000700"},
                               {"text", "And the CC6.2 terminations"}});
  other["callback_id"] = "something_else";
  const auto audit = h.audit_entries().size();
  EXPECT_EQ(interact(other).status, 200u);
  EXPECT_TRUE(h.item("REQ-2").empty());
  EXPECT_EQ(h.audit_entries().size(), audit);
  EXPECT_TRUE(fake.responses("s2").empty());
}

// Statuses of tracked messages reach Slack as replies in the auditor's thread: under the
// parent when the tracked message was itself a reply, under the message itself otherwise.
TEST_F(SlackEventsTest, StatusUpdatesOfATrackedMessageArePostedInItsThread) {
  interact(track_shortcut("t1", "C-AUDIT",
                          {{"type", "message"},
                           {"user", "UAVA"},
                           {"ts", "1700000000.000500"},
                           {"thread_ts", "1700000000.000400"},
                           {"text", "And the CC6.1 access review for Q3"}}));
  history_holds({{"type", "message"},
                 {"user", "UAVA"},
                 {"ts", "1700000000.000600"},
                 {"text", "Change tickets for CC8.1"}});
  event(reaction("lena", "pushpin", "C-AUDIT", "1700000000.000600"), "EvT2");
  ASSERT_EQ(h.item("REQ-1").at("owner"), "bob");
  ASSERT_FALSE(h.item("REQ-2").empty());
  auto dm = [&](const std::string& who, const std::string& text, const std::string& id) {
    event({{"type", "message"},
           {"channel_type", "im"},
           {"channel", "D" + FakeSlack::user_id(who).substr(1)},
           {"user", FakeSlack::user_id(who)},
           {"text", text}},
          id);
  };
  dm("bob", "/soc2 request REQ-1 start", "EvT3");
  dm("bob", "/soc2 request REQ-1 submit https://drive.example/ar.pdf \"Bob's INTERNAL-NOTE\"",
     "EvT4");
  dm("lena", "/soc2 request REQ-1 send", "EvT5");
  ASSERT_EQ(h.item("REQ-1").at("status"), "sent");

  // The outbox, delivered to the fake Slack as serve does.
  slack::SlackDeliverer deliverer(*api, *people, h.app().people(), h.app().store(),
                                  h.app().config());
  RedisOutboxQueue queue(h.app().store(), "slack-events-test", 1h);
  OutboxDispatcher(queue, deliverer).drain();

  std::vector<json> to_auditor;
  for (const json& p : fake.calls("chat.postMessage")) {
    if (p.value("channel", "") == "C-AUDIT") to_auditor.push_back(p);
  }
  ASSERT_EQ(to_auditor.size(), 4u);
  std::vector<std::string> req1;
  for (const json& p : to_auditor) {
    const std::string text = p.dump();
    if (text.find("REQ-2") != std::string::npos) {
      EXPECT_EQ(p.value("thread_ts", ""), "1700000000.000600");  // the message itself
      continue;
    }
    EXPECT_EQ(p.value("thread_ts", ""), "1700000000.000400");  // the reply's parent
    for (const char* secret : {"bob", "Bob", "UBOB", "INTERNAL-NOTE", "lena"}) {
      EXPECT_THAT(text, Not(HasSubstr(secret))) << secret;
    }
    req1.push_back(p.value("text", ""));
  }
  ASSERT_EQ(req1.size(), 3u);
  EXPECT_THAT(req1[0], HasSubstr("REQ-1: received"));
  EXPECT_THAT(req1[1], HasSubstr("REQ-1: in progress"));
  EXPECT_THAT(req1[2], HasSubstr("REQ-1: evidence sent"));
  for (const json& u : fake.calls("chat.update")) {
    EXPECT_NE(u.value("channel", ""), "C-AUDIT");  // replies, never edits of one another
  }
}

TEST_F(SlackEventsTest, MessageShortcutOutsideTheAuditorChannelIsRefused) {
  json p = track_shortcut("s3", "C-RANDOM", {{"user", "UAVA"}, {"ts", "9.9"}, {"text", "lunch?"}});
  const auto audit = h.audit_entries().size();
  interact(p);
  EXPECT_TRUE(h.item("REQ-1").empty());
  EXPECT_EQ(h.audit_entries().size(), audit);
  ASSERT_EQ(fake.responses("s3").size(), 1u);
  EXPECT_THAT(fake.responses("s3")[0].dump(), HasSubstr("auditor channel"));
}

TEST_F(SlackEventsTest, TeamJoinBecomesPersonJoined) {
  std::mutex mu;
  std::vector<std::string> joined;
  h.app().router().add(JoinSpec{"probe", [&](const InboundEvent& e, const Person& p) {
                                  std::lock_guard lock(mu);
                                  joined.push_back(p.id + "|" + e.event_id + "|" +
                                                   std::string(to_string(e.platform)));
                                }});
  event({{"type", "team_join"},
         {"user", {{"id", "UKENJI"}, {"profile", {{"email", "kenji@test.example"}}}}}},
        "EvJ1");
  std::lock_guard lock(mu);
  ASSERT_EQ(joined.size(), 1u);
  EXPECT_EQ(joined[0], "kenji|EvJ1|slack");
}

TEST_F(SlackEventsTest, MentionRunsTheCommandAndRepliesEphemerally) {
  auto a = event({{"type", "app_mention"},
                  {"user", "ULENA"},
                  {"channel", "C-COMPLIANCE"},
                  {"text", "<@UBOT> ask <@UBOB> AC-01 \"Q4 export\" due 2026-12-11"},
                  {"ts", "1.5"}},
                 "EvM1");
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(h.item("ASK-1")["owner"], "bob");
  auto eph = fake.calls("chat.postEphemeral");
  ASSERT_EQ(eph.size(), 1u);
  EXPECT_EQ(eph[0]["channel"], "C-COMPLIANCE");
  EXPECT_EQ(eph[0]["user"], "ULENA");
  EXPECT_THAT(eph[0].dump(), HasSubstr("ASK-1"));
}

TEST_F(SlackEventsTest, DirectMessageRunsTheCommandAndAnswersInTheDm) {
  event({{"type", "message"},
         {"channel_type", "im"},
         {"channel", "DLENA"},
         {"user", "ULENA"},
         {"text", "/soc2 ask <@UBOB> AC-01 \"Q4 export\" due 2026-12-11"}},
        "EvD1");
  EXPECT_EQ(h.item("ASK-1")["owner"], "bob");
  auto posts = fake.calls("chat.postMessage");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["channel"], "DLENA");
  EXPECT_THAT(posts[0].dump(), HasSubstr("ASK-1"));
  // The bot's own messages and edits in the DM are not commands.
  const auto keys = h.redis_key_count();
  event({{"type", "message"},
         {"channel_type", "im"},
         {"channel", "DLENA"},
         {"bot_id", "B1"},
         {"text", "ask <@UBOB> AC-01 \"again\" due 2026-12-11"}},
        "EvD2");
  event({{"type", "message"},
         {"subtype", "message_changed"},
         {"channel_type", "im"},
         {"channel", "DLENA"},
         {"user", "ULENA"},
         {"text", "ask <@UBOB> AC-01 \"again\" due 2026-12-11"}},
        "EvD3");
  EXPECT_EQ(h.redis_key_count(), keys);
}

TEST_F(SlackEventsTest, WithoutASigningSecretEveryHttpRequestIsRefused) {
  // Socket Mode only: nothing can verify a request, so even one "signed" with an empty key
  // is refused and changes nothing.
  slack::EventsOptions eo;
  slack::SlackEvents socket_only(h.app().router(), *people, *api, h.app().store(), h.clock(), eo);
  const std::string body = "command=%2Fsoc2&user_id=ULENA&channel_id=C1&text=help&trigger_id=N1";
  const std::string ts = std::to_string(unix_seconds(h.clock().now()));
  HttpRequest req{bhttp::verb::post, "/slack/events", 11};
  req.set("X-Slack-Request-Timestamp", ts);
  req.set("X-Slack-Signature", slack::compute_signature("", ts, body));
  req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
  req.body() = body;
  const auto keys = h.redis_key_count();
  EXPECT_EQ(socket_only.on_http(req).status, 401u);
  socket_only.wait_idle();
  EXPECT_EQ(h.redis_key_count(), keys);
  EXPECT_TRUE(fake.server().requests().empty());
}

// A request over a real socket to the HttpServer with the /slack/events route.
bhttp::response<bhttp::string_body> post_raw(unsigned short port, const HttpRequest& req) {
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), port));
  HttpRequest copy = req;
  copy.set(bhttp::field::host, "127.0.0.1");
  copy.prepare_payload();
  bhttp::write(stream, copy);
  boost::beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  boost::beast::error_code ec;
  bhttp::read(stream, buffer, res, ec);
  return res;
}

TEST_F(SlackEventsTest, OversizeBodyIs413AndNothingRuns) {
  HttpServerOptions so;
  HttpServer server(so, {events->route()});
  const auto port = server.start();
  const auto keys = h.redis_key_count();
  std::string text(80 << 10, 'x');  // over the 64 KiB route limit
  auto big = signed_request("application/x-www-form-urlencoded",
                            "command=%2Fsoc2&user_id=ULENA&channel_id=C1&text=" + text);
  EXPECT_EQ(post_raw(port, big).result_int(), 413u);
  events->wait_idle();
  EXPECT_EQ(h.redis_key_count(), keys);
  EXPECT_TRUE(fake.server().requests().empty());
  // A normal signed command on the same route still works.
  auto ok = signed_request("application/x-www-form-urlencoded",
                           "command=%2Fsoc2&user_id=ULENA&channel_id=C1&text=help&trigger_id=H1");
  EXPECT_EQ(post_raw(port, ok).result_int(), 200u);
  events->wait_idle();
  server.stop();
}

TEST_F(SlackEventsTest, EphemeralReplyWhenThereIsNoResponseUrl) {
  // A command from a mention has no response_url: the reply is chat.postEphemeral.
  event({{"type", "app_mention"},
         {"user", "UBOB"},
         {"channel", "C-COMPLIANCE"},
         {"text", "<@UBOT> frobnicate"}},
        "EvE1");
  auto eph = fake.calls("chat.postEphemeral");
  ASSERT_EQ(eph.size(), 1u);
  EXPECT_EQ(eph[0]["user"], "UBOB");
  EXPECT_FALSE(eph[0]["text"].get<std::string>().empty());
  EXPECT_TRUE(fake.calls("chat.postMessage").empty());  // nothing public
}

}  // namespace
}  // namespace auditbot::test
