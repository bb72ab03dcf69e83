// Slack Socket Mode against the fake Slack's TLS WebSocket on loopback: app-token connection
// open, hello, acks by envelope_id with response payloads, disconnect/refresh, drops, idle
// links, host-name verification, and the evidence-ask flow end to end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "integrations/redis/outbox_queue.hpp"
#include "integrations/slack/deliverer.hpp"
#include "integrations/slack/events.hpp"
#include "integrations/slack/socket_mode.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/fakes/fake_slack_socket.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

TEST(SlackReconnectDelay, IsJitteredAndCapped) {
  std::mt19937 rng(7);
  std::set<std::int64_t> seen;
  for (int failures = 0; failures < 30; ++failures) {
    for (int i = 0; i < 50; ++i) {
      const auto d = slack::reconnect_delay(failures, 1000ms, 30000ms, rng);
      EXPECT_GE(d, 500ms);
      EXPECT_LE(d, 30000ms);
      if (failures <= 1) {
        EXPECT_LE(d, 2000ms);
      }
      seen.insert(d.count());
    }
  }
  EXPECT_GT(seen.size(), 100u);  // jittered, not a fixed ladder
  // Late failures reach far past the first delays.
  std::int64_t late_max = 0;
  for (int i = 0; i < 100; ++i)
    late_max = std::max(late_max, slack::reconnect_delay(12, 1000ms, 30000ms, rng).count());
  EXPECT_GT(late_max, 15000);
}

// A Socket Mode client on the fake Slack with a recording handler.
class SocketModeTest : public ::testing::Test {
 protected:
  SocketModeTest() {
    http::ClientOptions o;
    o.ca_file = TestCa::get().ca_file;
    o.io_timeout = 3000ms;
    client = std::make_unique<http::Client>(o);
    slack::WebApiOptions wo;
    wo.base_url = fake.api_url();
    wo.token = "xoxb-bot-token";
    wo.channel_interval = 0ms;
    wo.backoff_min = 1ms;
    wo.backoff_max = 5ms;
    api = std::make_unique<slack::WebApi>(*client, wo);
  }
  ~SocketModeTest() override {
    if (socket) socket->stop();
  }

  slack::SocketModeOptions options() {
    slack::SocketModeOptions so;
    so.app_token = "xapp-1-app-token";
    so.ca_file = TestCa::get().ca_file;
    so.connect_timeout = 5000ms;
    so.hello_timeout = 5000ms;
    so.idle_timeout = 10000ms;
    so.backoff_min = 10ms;
    so.backoff_max = 50ms;
    so.drain_timeout = 20000ms;
    return so;
  }

  void start(slack::SocketModeOptions so) {
    socket = std::make_unique<slack::SocketMode>(
        *api,
        [this](const std::string& type, const json& payload) -> json {
          std::lock_guard lock(mu);
          handled.push_back({type, payload});
          if (type == "slash_commands") return json{{"text", "got " + payload.value("text", "")}};
          if (payload.value("type", "") == "boom") throw std::runtime_error("handler bug");
          return nullptr;
        },
        std::move(so));
    socket->start();
  }

  std::vector<std::pair<std::string, json>> handled_copy() {
    std::lock_guard lock(mu);
    return handled;
  }

  FakeSlack fake;
  std::unique_ptr<http::Client> client;
  std::unique_ptr<slack::WebApi> api;
  std::unique_ptr<slack::SocketMode> socket;
  std::mutex mu;
  std::vector<std::pair<std::string, json>> handled;
};

TEST_F(SocketModeTest, OpensWithTheAppTokenAndAcksEnvelopesById) {
  start(options());
  auto s = FakeSocket::accept(fake.server());
  ASSERT_TRUE(s);
  // apps.connections.open was called with the app-level token, not the bot token.
  auto opens = fake.server().requests_to("/api/apps.connections.open");
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0].header("authorization"), "Bearer xapp-1-app-token");
  EXPECT_THAT(s->target(), HasSubstr("ticket="));
  ASSERT_TRUE(socket->wait_for_connects(1, 10s));

  const std::string id = s->push(
      "events_api", {{"type", "event_callback"}, {"event_id", "Ev1"}, {"event", {{"type", "x"}}}});
  auto ack = s->ack(id);
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["envelope_id"], id);
  EXPECT_FALSE(ack->contains("payload"));
  auto h = handled_copy();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].first, "events_api");
  EXPECT_EQ(h[0].second["event_id"], "Ev1");
}

TEST_F(SocketModeTest, SlashCommandAckCarriesTheResponsePayload) {
  start(options());
  auto s = FakeSocket::accept(fake.server());
  ASSERT_TRUE(s);
  const std::string id = s->push("slash_commands", {{"command", "/soc2"}, {"text", "help"}}, true);
  auto ack = s->ack(id);
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["payload"]["text"], "got help");
  // Without accepts_response_payload the payload is left out.
  const std::string id2 = s->push("slash_commands", {{"command", "/soc2"}, {"text", "x"}}, false);
  auto ack2 = s->ack(id2);
  ASSERT_TRUE(ack2);
  EXPECT_FALSE(ack2->contains("payload"));
}

TEST_F(SocketModeTest, BadFramesAndFailingHandlersDoNotBreakTheLink) {
  start(options());
  auto s = FakeSocket::accept(fake.server());
  ASSERT_TRUE(s);
  s->send_raw("{not json");
  s->send_raw("[1,2,3]");
  s->send_raw(R"({"type":"something_new"})");
  const std::string boom = s->push("interactive", {{"type", "boom"}}, true);
  auto ack = s->ack(boom);
  ASSERT_TRUE(ack);  // acked anyway (no payload), so Slack does not redeliver a poison pill
  EXPECT_FALSE(ack->contains("payload"));
  const std::string id = s->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(s->ack(id));
  EXPECT_EQ(socket->stats().connects, 1u);
  EXPECT_EQ(fake.server().ws_accepted(), 1u);
}

class SocketModeDisconnect : public SocketModeTest,
                             public ::testing::WithParamInterface<const char*> {};

TEST_P(SocketModeDisconnect, OpensAFreshConnectionBeforeTheOldOneCloses) {
  start(options());
  auto first = FakeSocket::accept(fake.server());
  ASSERT_TRUE(first);
  ASSERT_TRUE(socket->wait_for_connects(1, 10s));
  first->disconnect(GetParam());
  auto second = FakeSocket::accept(fake.server());
  ASSERT_TRUE(second);
  EXPECT_FALSE(first->closed());  // the successor came while the old link was still up
  EXPECT_EQ(fake.server().requests_to("/api/apps.connections.open").size(), 2u);
  ASSERT_TRUE(socket->wait_for_connects(2, 10s));

  // Both links serve until Slack closes the old one.
  const std::string on_old = first->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(first->ack(on_old));
  const std::string on_new = second->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(second->ack(on_new));

  first->close();
  const std::string after = second->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(second->ack(after));
  EXPECT_EQ(socket->stats().disconnects, 1u);
  EXPECT_EQ(handled_copy().size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Reasons, SocketModeDisconnect,
                         ::testing::Values("warning", "refresh_requested", "link_disabled"));

TEST_F(SocketModeTest, ReplacedLinkIsClosedByUsWhenSlackDoesNotCloseIt) {
  auto so = options();
  so.drain_timeout = 200ms;
  start(so);
  auto first = FakeSocket::accept(fake.server());
  ASSERT_TRUE(first);
  first->disconnect("refresh_requested");
  auto second = FakeSocket::accept(fake.server());
  ASSERT_TRUE(second);
  EXPECT_FALSE(first->ack("never", 10s));  // returns when the client closes the old link
  EXPECT_TRUE(first->closed());
  const std::string id = second->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(second->ack(id));
  EXPECT_EQ(fake.server().ws_accepted(), 2u);
}

TEST_F(SocketModeTest, DroppedLinkReconnectsThroughFailingOpens) {
  start(options());
  auto first = FakeSocket::accept(fake.server());
  ASSERT_TRUE(first);
  ASSERT_TRUE(socket->wait_for_connects(1, 10s));
  // The next connection opens fail: ok:false, then a 500 storm, then a dropped call.
  fake.server().inject(FakeResponse::json(R"({"ok":false,"error":"internal_error"})"),
                       "/api/apps.connections.open");
  for (int i = 0; i < 6; ++i)
    fake.server().inject(FakeResponse::status_only(500), "/api/apps.connections.open");
  fake.server().inject(FakeResponse::dropped(), "/api/apps.connections.open");
  first->drop();
  auto second = FakeSocket::accept(fake.server(), 20s);
  ASSERT_TRUE(second);
  ASSERT_TRUE(socket->wait_for_connects(2, 10s));
  const std::string id = second->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(second->ack(id));
  EXPECT_GE(socket->stats().failures, 1u);
  EXPECT_GE(fake.server().requests_to("/api/apps.connections.open").size(), 3u);
}

TEST_F(SocketModeTest, NoHelloMeansAnotherTry) {
  auto so = options();
  so.hello_timeout = 300ms;
  start(so);
  auto silent = FakeSocket::accept(fake.server(), 10s, /*say_hello=*/false);
  ASSERT_TRUE(silent);
  auto next = FakeSocket::accept(fake.server(), 20s);
  ASSERT_TRUE(next);
  ASSERT_TRUE(socket->wait_for_connects(1, 10s));
  const std::string id = next->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(next->ack(id));
  EXPECT_EQ(socket->stats().failures, 1u);
}

TEST_F(SocketModeTest, SilentPeerIsDetectedByPingAndIdleTimeout) {
  auto so = options();
  so.idle_timeout = 400ms;  // ping at 200 ms of silence, give up at 400 ms
  fake.server().mute_next_ws();
  start(so);
  auto mute = FakeSocket::accept(fake.server());
  ASSERT_TRUE(mute);  // says hello, then never answers a ping
  auto next = FakeSocket::accept(fake.server(), 20s);
  ASSERT_TRUE(next);
  ASSERT_TRUE(socket->wait_for_connects(2, 10s));
  const std::string id = next->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(next->ack(id));
}

TEST_F(SocketModeTest, HealthyLinkSurvivesManyIdleTimeoutsThanksToPongs) {
  auto so = options();
  so.idle_timeout = 200ms;
  start(so);
  auto s = FakeSocket::accept(fake.server());
  ASSERT_TRUE(s);
  // Quiet for many idle periods: pings are answered, so the link stays.
  std::this_thread::sleep_for(1500ms);
  const std::string id = s->push("events_api", {{"type", "event_callback"}});
  EXPECT_TRUE(s->ack(id));
  EXPECT_EQ(fake.server().ws_accepted(), 1u);
}

TEST_F(SocketModeTest, OversizeFrameDropsTheLinkAndReconnects) {
  auto so = options();
  so.max_message = 64 << 10;
  start(so);
  auto s = FakeSocket::accept(fake.server());
  ASSERT_TRUE(s);
  s->push("events_api", {{"type", "event_callback"}, {"pad", std::string(100 << 10, 'x')}});
  auto next = FakeSocket::accept(fake.server(), 20s);
  ASSERT_TRUE(next);
  EXPECT_TRUE(handled_copy().empty());
}

TEST_F(SocketModeTest, RefusesAWebSocketWhoseCertificateNamesAnotherHost) {
  // "127.1" reaches the fake (it is 127.0.0.1), but the certificate names only 127.0.0.1
  // and localhost, so the TLS handshake must fail on the name.
  fake.server().inject(
      FakeResponse::json(
          json{{"ok", true},
               {"url", "wss://127.1:" + std::to_string(fake.server().port()) + "/link/?ticket=bad"}}
              .dump()),
      "/api/apps.connections.open");
  start(options());
  auto s = FakeSocket::accept(fake.server(), 20s);
  ASSERT_TRUE(s);
  EXPECT_THAT(s->target(), ::testing::Not(HasSubstr("ticket=bad")));
  EXPECT_EQ(fake.server().ws_accepted(), 1u);
  EXPECT_GE(socket->stats().failures, 1u);
  ASSERT_TRUE(socket->wait_for_connects(1, 10s));
}

TEST_F(SocketModeTest, RefusesAServerItsCaDoesNotVouchFor) {
  auto so = options();
  so.ca_file = TestCa::get().other_ca_file;
  so.backoff_min = 5000ms;  // one try is enough here
  so.backoff_max = 5000ms;
  start(so);
  ASSERT_TRUE(fake.server().wait_for("/api/apps.connections.open", 1, 10s));
  EXPECT_FALSE(socket->wait_for_connects(1, 1500ms));
  socket->stop();
  EXPECT_EQ(fake.server().ws_accepted(), 0u);
  EXPECT_EQ(socket->stats().connects, 0u);
}

TEST_F(SocketModeTest, StopClosesTheLinkCleanly) {
  start(options());
  auto s = FakeSocket::accept(fake.server());
  ASSERT_TRUE(s);
  ASSERT_TRUE(socket->wait_for_connects(1, 10s));
  socket->stop();
  EXPECT_FALSE(s->ack("never", 5s));  // returns once the link is closed
  EXPECT_TRUE(s->closed());
  EXPECT_EQ(fake.server().ws_accepted(), 1u);
}

// The evidence-ask flow over Socket Mode: the real app, Redis, router and SlackEvents.
class SocketModeFlow : public ::testing::Test {
 protected:
  SocketModeFlow() {
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
    eo.signing_secret = "unused-in-socket-mode";
    events = std::make_unique<slack::SlackEvents>(h.app().router(), *people, *api, h.app().store(),
                                                  h.clock(), eo);
    deliverer = std::make_unique<slack::SlackDeliverer>(*api, *people, h.app().people(),
                                                        h.app().store(), h.app().config());
    queue = std::make_unique<RedisOutboxQueue>(h.app().store(), "slack-socket-test");
    dispatcher = std::make_unique<OutboxDispatcher>(*queue, *deliverer);
    slack::SocketModeOptions so;
    so.app_token = "xapp-1-app-token";
    so.ca_file = TestCa::get().ca_file;
    so.backoff_min = 10ms;
    so.backoff_max = 50ms;
    socket = std::make_unique<slack::SocketMode>(
        *api, [this](const std::string& t, const json& p) { return events->on_envelope(t, p); },
        so);
    socket->start();
    auto s = FakeSocket::accept(fake.server());
    EXPECT_TRUE(s);
    if (s) link = std::make_unique<FakeSocket>(*s);
  }
  ~SocketModeFlow() override { socket->stop(); }

  // Pushes an envelope and returns its ack (after the work it started has finished).
  json push(const std::string& type, const json& payload, bool accepts = true) {
    const std::string id = link->push(type, payload, accepts);
    auto ack = link->ack(id);
    EXPECT_TRUE(ack) << type;
    events->wait_idle();
    return ack ? *ack : json();
  }

  json latest_to(const std::string& channel) {
    json found;
    for (const auto& m : {"chat.postMessage", "chat.update"})
      for (const auto& c : fake.calls(m))
        if (c.value("channel", "") == channel) found = c;
    return found;
  }

  // The ts Slack gave the message, as the deliverer remembered it for its key.
  std::string posted_ts(const json& msg) {
    for (const auto& b : msg.value("blocks", json::array())) {
      const std::string id = b.value("block_id", "");
      if (b.value("type", "") != "actions" || id.rfind("k:", 0) != 0) continue;
      const std::string key = id.substr(2, id.rfind('#') - 2);
      auto ref = h.app().store().hgetall(h.app().store().keys().message_ref(key));
      if (ref && ref->count("slack_ts")) return ref->at("slack_ts");
    }
    return "";
  }

  json press(const std::string& person, const json& msg, const std::string& action_id,
             const std::string& trigger) {
    std::string block_id;
    json btn;
    for (const auto& b : msg["blocks"])
      if (b["type"] == "actions")
        for (const auto& e : b["elements"])
          if (e["action_id"] == action_id) {
            block_id = b["block_id"];
            btn = e;
          }
    EXPECT_FALSE(btn.is_null()) << action_id;
    return {{"type", "block_actions"},
            {"user", {{"id", FakeSlack::user_id(person)}}},
            {"trigger_id", trigger},
            {"response_url", fake.response_url(trigger)},
            {"channel", {{"id", msg["channel"]}}},
            {"container", {{"message_ts", posted_ts(msg)}}},
            {"actions",
             json::array(
                 {{{"action_id", action_id}, {"block_id", block_id}, {"value", btn["value"]}}})}};
  }

  Harness h;
  FakeSlack fake;
  std::unique_ptr<http::Client> client;
  std::unique_ptr<slack::WebApi> api;
  std::unique_ptr<slack::SlackPeople> people;
  std::unique_ptr<slack::SlackEvents> events;
  std::unique_ptr<slack::SlackDeliverer> deliverer;
  std::unique_ptr<RedisOutboxQueue> queue;
  std::unique_ptr<OutboxDispatcher> dispatcher;
  std::unique_ptr<slack::SocketMode> socket;
  std::unique_ptr<FakeSocket> link;
};

TEST_F(SocketModeFlow, EvidenceAskEndToEnd) {
  ASSERT_TRUE(link);
  // 1. The slash command arrives as an envelope; the ack closes it, the answer follows.
  json cmd = {{"command", "/soc2"},
              {"user_id", "ULENA"},
              {"channel_id", "C1"},
              {"text", "ask <@UBOB|bob> AC-01 \"Q4 access review export\" due 2026-12-11"},
              {"response_url", fake.response_url("r1")},
              {"trigger_id", "T1"}};
  json ack = push("slash_commands", cmd);
  EXPECT_FALSE(ack.contains("payload"));
  ASSERT_TRUE(fake.server().wait_for("/respond/r1", 1, 10s));
  EXPECT_THAT(fake.responses("r1").at(0).dump(), HasSubstr("ASK-1"));
  EXPECT_EQ(h.item("ASK-1")["owner"], "bob");

  // 2. The owner's DM goes out through chat.postMessage with buttons.
  EXPECT_GE(dispatcher->drain(), 1u);
  const json dm = latest_to("DBOB");
  ASSERT_FALSE(dm.is_null());
  ASSERT_THAT(dm["blocks"].dump(), HasSubstr("form:ask.submit"));

  // 3. Bob presses Submit: block_actions envelope -> views.open with the form.
  push("interactive", press("bob", dm, "form:ask.submit", "T2"));
  auto opens = fake.calls("views.open");
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0]["trigger_id"], "T2");
  const json view = opens[0]["view"];

  // 4. A bad submission is answered in the ack with the error under the input.
  json bad = {{"type", "view_submission"},
              {"user", {{"id", "UBOB"}}},
              {"trigger_id", "T3"},
              {"view",
               {{"id", "V1"},
                {"hash", "h0"},
                {"private_metadata", view["private_metadata"]},
                {"state",
                 {{"values",
                   {{"link", {{"v", {{"type", "url_text_input"}, {"value", "not a link"}}}}},
                    {"note", {{"v", {{"type", "plain_text_input"}, {"value", nullptr}}}}}}}}}}}};
  const auto audit_before = h.audit_entries().size();
  json bad_ack = push("interactive", bad);
  ASSERT_TRUE(bad_ack.contains("payload")) << bad_ack.dump();
  EXPECT_EQ(bad_ack["payload"]["response_action"], "errors");
  EXPECT_TRUE(bad_ack["payload"]["errors"].contains("link")) << bad_ack.dump();
  EXPECT_EQ(h.audit_entries().size(), audit_before);
  EXPECT_EQ(h.item("ASK-1")["status"], "open");

  // 5. The good submission: empty ack (closes the modal), state changes in Redis.
  json good = bad;
  good["trigger_id"] = "T4";
  good["view"]["hash"] = "h1";
  good["view"]["state"]["values"]["link"]["v"]["value"] = "https://drive.example/e.pdf";
  json good_ack = push("interactive", good);
  EXPECT_FALSE(good_ack.contains("payload")) << good_ack.dump();
  EXPECT_NE(h.item("ASK-1")["status"], "open");
  EXPECT_GT(h.audit_entries().size(), audit_before);

  // 6. The DM is updated in place with chat.update (same ts as the first post).
  const std::string ts = posted_ts(dm);
  ASSERT_FALSE(ts.empty());
  dispatcher->drain();
  bool updated = false;
  for (const auto& u : fake.calls("chat.update"))
    if (u.value("channel", "") == "DBOB" && u.value("ts", "") == ts) updated = true;
  EXPECT_TRUE(updated);
}

TEST_F(SocketModeFlow, RedeliveredEnvelopeChangesStateOnce) {
  ASSERT_TRUE(link);
  json ev = {{"type", "event_callback"},
             {"event_id", "EvSame"},
             {"event",
              {{"type", "message"},
               {"channel_type", "im"},
               {"channel", "DLENA"},
               {"user", "ULENA"},
               {"text", "ask <@UBOB> AC-01 \"Q4 export\" due 2026-12-11"}}}};
  push("events_api", ev, false);
  push("events_api", ev, false);  // Slack retries an envelope it thinks was lost
  EXPECT_EQ(h.item("ASK-1")["owner"], "bob");
  EXPECT_TRUE(h.item("ASK-2").empty());
}

}  // namespace
}  // namespace auditbot::test
