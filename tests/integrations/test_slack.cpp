// Slack end to end against the fake Slack on loopback HTTPS: signed inbound requests,
// the evidence-ask flow through Block Kit, modals and chat.update, negatives, 429 storms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>

#include "integrations/redis/outbox_queue.hpp"
#include "integrations/slack/blocks.hpp"
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
namespace bhttp = boost::beast::http;

constexpr const char* kSecret = "8f742231b10e8888abcd99yyyzzz85a5";

TEST(SlackSignature, SlacksPublishedExampleVerifies) {
  const std::string body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
      "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
      "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
      "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
      "803a0bc887a14d10d2c447fce8b6703c";
  const std::string expected =
      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
  EXPECT_EQ(slack::compute_signature(kSecret, "1531420618", body), expected);
  const TimePoint at = TimePoint(std::chrono::seconds(1531420618 + 10));
  EXPECT_EQ(slack::verify_signature(kSecret, "1531420618", expected, body, at),
            slack::SignatureCheck::ok);
  EXPECT_EQ(slack::verify_signature(kSecret, "1531420618", expected, body + "x", at),
            slack::SignatureCheck::mismatch);
  EXPECT_EQ(slack::verify_signature("other", "1531420618", expected, body, at),
            slack::SignatureCheck::mismatch);
  EXPECT_EQ(slack::verify_signature(kSecret, "1531420618", expected, body, at + 301s),
            slack::SignatureCheck::stale);
  EXPECT_EQ(slack::verify_signature(kSecret, "1531420618", expected, body, at - 400s),
            slack::SignatureCheck::stale);
  EXPECT_EQ(slack::verify_signature(kSecret, "15314x0618", expected, body, at),
            slack::SignatureCheck::malformed);
  EXPECT_EQ(slack::verify_signature(kSecret, "1531420618", "v1=abc", body, at),
            slack::SignatureCheck::malformed);
  EXPECT_EQ(slack::verify_signature(kSecret, "", expected, body, at),
            slack::SignatureCheck::missing);
}

TEST(SlackBlocks, LongTextIsSplitNotCutAndPagedAtFiftyBlocks) {
  Message m;
  m.title = "Report";
  std::string text;
  for (int i = 0; i < 8000; ++i)
    text += "line " + std::to_string(i) + " of a long report\n";
  m.text = text;
  auto r = slack::render(m);
  ASSERT_GT(r.pages.size(), 1u) << r.pages.front().size() << " "
                                << r.pages.front().dump().substr(0, 300);
  std::string all;
  for (const auto& page : r.pages) {
    EXPECT_LE(page.size(), slack::kMaxBlocksPerMessage);
    for (const auto& b : page) {
      if (b["type"] == "section") {
        const std::string t = b["text"]["text"];
        EXPECT_LE(t.size(), slack::kMaxSectionText);
        all += t + "\n";
      }
    }
  }
  EXPECT_THAT(all, HasSubstr("line 0 of a long report"));
  EXPECT_THAT(all, HasSubstr("line 7999 of a long report"));
}

TEST(SlackBlocks, ButtonsCarryActionIdValueAndFormMarker) {
  Message m;
  m.key = "ask:ASK-1:owner";
  m.text = "hi <you> & me";
  m.buttons.push_back({"ask.submit", "Submit", "ASK-1", {{"link", "Link", Input::Kind::url}}});
  m.buttons.push_back({"ask.accept", "Accept", std::string(2500, 'x'), {}});
  auto r = slack::render(m);
  const auto& blocks = r.pages.front();
  EXPECT_EQ(blocks[0]["text"]["text"], "hi &lt;you&gt; &amp; me");
  const auto& actions = blocks[1];
  EXPECT_EQ(actions["type"], "actions");
  EXPECT_EQ(actions["block_id"], "k:ask:ASK-1:owner#0");
  EXPECT_EQ(actions["elements"][0]["action_id"], "form:ask.submit");
  EXPECT_EQ(actions["elements"][0]["value"], "ASK-1");
  EXPECT_EQ(actions["elements"][1]["action_id"], "ask.accept");
  EXPECT_EQ(actions["elements"][1]["value"], std::string(slack::kStoredValue));
}

// A Web API client for the fake Slack as serve builds one: trusting the test CA, real waits.
struct FakeSlackApi {
  explicit FakeSlackApi(FakeSlack& fake) : client(client_options()), api(client, options(fake)) {}
  static http::ClientOptions client_options() {
    http::ClientOptions o;
    o.ca_file = TestCa::get().ca_file;
    return o;
  }
  static slack::WebApiOptions options(FakeSlack& fake) {
    slack::WebApiOptions wo;
    wo.base_url = fake.api_url();
    wo.token = "xoxb-test-token";
    return wo;
  }
  http::Client client;
  slack::WebApi api;
};

// People without a zone in the config get the one Slack reports (users.info `tz`), kept in
// Redis for every replica; nobody with a configured zone is looked up.
TEST(SlackPeopleZones, SyncKeepsTheZoneSlackReportsForPeopleWithoutOne) {
  Harness h([](Config& c) {
    c.org_timezone = "UTC";
    for (auto& p : c.people)
      if (p.id == "bob") p.timezone.clear();
  });
  FakeSlack fake;
  FakeSlackApi slack_api(fake);
  slack::WebApi& api = slack_api.api;
  slack::SlackPeople people(h.app().people(), h.app().store(), &api);
  const Person& bob = *h.app().people().find("bob");
  EXPECT_EQ(h.app().people().timezone_of(bob), "UTC");  // nothing known yet

  std::atomic<bool> stop{false};
  EXPECT_EQ(people.sync_timezones(stop), 1u);
  const auto infos = fake.calls("users.info");
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0]["user"], "UBOB");
  auto& store = h.app().store();
  EXPECT_EQ(store.hgetall(store.keys().learned_timezones()),
            (std::map<std::string, std::string>{{"bob", "America/New_York"}}));
  h.app().refresh_learned_timezones();
  EXPECT_EQ(h.app().people().timezone_of(bob), "America/New_York");
  EXPECT_EQ(people.sync_timezones(stop), 0u);  // the same zone again changes nothing

  stop.store(true);
  store.client().command({"DEL", store.keys().learned_timezones()});
  EXPECT_EQ(people.sync_timezones(stop), 0u);  // stopping: no lookups
  EXPECT_EQ(fake.calls("users.info").size(), 2u);
}

// Shutdown does not wait out Slack's Retry-After: a call behind a 20 s rate limit ends in
// RetryLater as soon as serve stops waiting, without asking Slack again.
TEST(SlackWebApi, StopWaitingEndsARetryAfterWaitAtOnce) {
  FakeSlack fake;
  FakeSlackApi slack_api(fake);
  slack::WebApi& api = slack_api.api;
  fake.server().inject(FakeResponse::rate_limited(20), "/api/users.info");
  auto outcome = std::async(std::launch::async, [&] {
    try {
      api.user_info("UBOB");
      return std::string("answered");
    } catch (const slack::RetryLater&) {
      return std::string("retry later");
    }
  });
  ASSERT_TRUE(fake.server().wait_for("/api/users.info", 1, 5s));
  EXPECT_EQ(outcome.wait_for(300ms), std::future_status::timeout);  // waiting out the 20 s
  api.stop_waiting();
  ASSERT_EQ(outcome.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(outcome.get(), "retry later");
  EXPECT_EQ(fake.server().requests_to("/api/users.info").size(), 1u);
}

// The app from the Harness, with the Slack integration wired to the fake Slack.
class SlackFlow : public ::testing::Test {
 protected:
  SlackFlow() {
    http::ClientOptions o;
    o.ca_file = TestCa::get().ca_file;
    o.io_timeout = 3000ms;
    client = std::make_unique<http::Client>(o);
    slack::WebApiOptions wo;
    wo.base_url = fake.api_url();
    wo.token = "xoxb-test-token";
    wo.channel_interval = 0ms;
    wo.max_attempts = 20;
    wo.sleep = [this](std::chrono::milliseconds d) { slept += d; };
    api = std::make_unique<slack::WebApi>(*client, wo);
    people = std::make_unique<slack::SlackPeople>(h.app().people(), h.app().store(), api.get());
    slack::EventsOptions eo;
    eo.signing_secret = kSecret;
    events = std::make_unique<slack::SlackEvents>(h.app().router(), *people, *api, h.app().store(),
                                                  h.clock(), eo);
    deliverer = std::make_unique<slack::SlackDeliverer>(*api, *people, h.app().people(),
                                                        h.app().store(), h.app().config());
    queue = std::make_unique<RedisOutboxQueue>(h.app().store(), "slack-test");
    dispatcher = std::make_unique<OutboxDispatcher>(*queue, *deliverer);
  }

  HttpRequest signed_request(const std::string& content_type, const std::string& body,
                             std::int64_t ts_offset = 0) {
    HttpRequest req{bhttp::verb::post, "/slack/events", 11};
    const std::string ts = std::to_string(unix_seconds(h.clock().now()) + ts_offset);
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

  slack::SlackEvents::Answer slash(const std::string& person, const std::string& text,
                                   const std::string& trigger, const std::string& resp) {
    const std::string body = "command=%2Fsoc2&user_id=" + FakeSlack::user_id(person) +
                             "&channel_id=C1&text=" + enc(text) +
                             "&response_url=" + enc(fake.response_url(resp)) +
                             "&trigger_id=" + trigger;
    auto a = events->on_http(signed_request("application/x-www-form-urlencoded", body));
    events->wait_idle();
    return a;
  }

  slack::SlackEvents::Answer interact(const json& payload) {
    auto a = events->on_http(
        signed_request("application/x-www-form-urlencoded", "payload=" + enc(payload.dump())));
    events->wait_idle();
    return a;
  }

  // The latest chat.postMessage / chat.update to `channel`.
  json latest_to(const std::string& channel) {
    json found;
    for (const auto& m : {"chat.postMessage", "chat.update"})
      for (const auto& c : fake.calls(m))
        if (c.value("channel", "") == channel) found = c;
    return found;
  }

  static json find_button(const json& msg, const std::string& action_id, std::string* block_id) {
    for (const auto& b : msg["blocks"])
      if (b["type"] == "actions")
        for (const auto& e : b["elements"])
          if (e["action_id"] == action_id) {
            *block_id = b["block_id"];
            return e;
          }
    return nullptr;
  }

  json press(const std::string& person, const json& msg, const std::string& action_id,
             const std::string& trigger, const std::string& resp) {
    std::string block_id;
    json btn = find_button(msg, action_id, &block_id);
    EXPECT_FALSE(btn.is_null()) << action_id;
    return {{"type", "block_actions"},
            {"user", {{"id", FakeSlack::user_id(person)}}},
            {"trigger_id", trigger},
            {"response_url", fake.response_url(resp)},
            {"channel", {{"id", msg["channel"]}}},
            {"container", {{"message_ts", "1.0"}}},
            {"actions",
             json::array(
                 {{{"action_id", action_id}, {"block_id", block_id}, {"value", btn["value"]}}})}};
  }

  Harness h;
  FakeSlack fake;
  std::chrono::milliseconds slept{0};
  std::unique_ptr<http::Client> client;
  std::unique_ptr<slack::WebApi> api;
  std::unique_ptr<slack::SlackPeople> people;
  std::unique_ptr<slack::SlackEvents> events;
  std::unique_ptr<slack::SlackDeliverer> deliverer;
  std::unique_ptr<RedisOutboxQueue> queue;
  std::unique_ptr<OutboxDispatcher> dispatcher;
};

TEST_F(SlackFlow, EvidenceAskEndToEndOverHttp) {
  auto a =
      slash("lena", "ask <@UBOB|bob> AC-01 \"Q4 access review export\" due 2026-12-11", "T1", "r1");
  EXPECT_EQ(a.status, 200u);
  auto replies = fake.responses("r1");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0].dump(), HasSubstr("ASK-1"));
  EXPECT_EQ(h.item("ASK-1")["owner"], "bob");

  EXPECT_GE(dispatcher->drain(), 1u);
  const json dm = latest_to("DBOB");
  ASSERT_FALSE(dm.is_null());
  EXPECT_EQ(dm["metadata"]["event_type"], "auditbot_outbox");
  EXPECT_FALSE(dm["metadata"]["event_payload"]["outbox_id"].get<std::string>().empty());

  // Bob presses Submit: a modal opens with the form's inputs.
  interact(press("bob", dm, "form:ask.submit", "T2", "r2"));
  auto opens = fake.calls("views.open");
  ASSERT_EQ(opens.size(), 1u);
  const json view = opens[0]["view"];
  EXPECT_EQ(opens[0]["trigger_id"], "T2");
  EXPECT_EQ(view["blocks"][0]["block_id"], "link");

  // He submits the modal.
  json sub = {
      {"type", "view_submission"},
      {"user", {{"id", "UBOB"}}},
      {"trigger_id", "T3"},
      {"view",
       {{"id", "V1"},
        {"hash", "h1"},
        {"private_metadata", view["private_metadata"]},
        {"state",
         {{"values",
           {{"link",
             {{"v", {{"type", "url_text_input"}, {"value", "https://drive.example/e.pdf"}}}}},
            {"note", {{"v", {{"type", "plain_text_input"}, {"value", nullptr}}}}}}}}}}}};
  auto sa = interact(sub);
  EXPECT_EQ(sa.status, 200u);
  EXPECT_EQ(sa.body, "");  // closes the modal
  EXPECT_NE(h.item("ASK-1")["status"], "open");

  // The DM is updated in place: chat.update on the ts Slack gave the first post.
  std::string block_id;
  find_button(dm, "form:ask.submit", &block_id);
  const std::string key = block_id.substr(2, block_id.rfind('#') - 2);
  const auto ref = h.app().store().hgetall(h.app().store().keys().message_ref(key));
  ASSERT_TRUE(ref && ref->count("slack_ts"));
  const std::string ts = ref->at("slack_ts");
  ASSERT_FALSE(ts.empty());
  const auto updates_before = fake.calls("chat.update").size();
  dispatcher->drain();
  auto updates = fake.calls("chat.update");
  ASSERT_GT(updates.size(), updates_before);
  bool updated_bob = false;
  for (const auto& u : updates)
    if (u.value("channel", "") == "DBOB" && u.value("ts", "") == ts) updated_bob = true;
  EXPECT_TRUE(updated_bob);
}

TEST_F(SlackFlow, SubmissionErrorsGoUnderTheInputBlock) {
  slash("lena", "ask @bob AC-01 \"Q4 access review export\" due 2026-12-11", "T1", "r1");
  dispatcher->drain();
  const json dm = latest_to("DBOB");
  interact(press("bob", dm, "form:ask.more_time", "T2", "r2"));
  const json view = fake.calls("views.open").at(0)["view"];
  json sub = {{"type", "view_submission"},
              {"user", {{"id", "UBOB"}}},
              {"trigger_id", "T3"},
              {"view",
               {{"id", "V1"},
                {"hash", "h1"},
                {"private_metadata", view["private_metadata"]},
                {"state",
                 {{"values",
                   {{"date", {{"v", {{"type", "datepicker"}, {"selected_date", "2020-01-01"}}}}},
                    {"reason", {{"v", {{"type", "plain_text_input"}, {"value", "busy"}}}}}}}}}}}};
  const auto before = h.audit_entries().size();
  auto a = interact(sub);
  EXPECT_EQ(a.content_type, "application/json");
  json body = json::parse(a.body);
  EXPECT_EQ(body["response_action"], "errors");
  EXPECT_TRUE(body["errors"].contains("date")) << a.body;
  EXPECT_EQ(h.audit_entries().size(), before);
}

TEST_F(SlackFlow, BadSignatureAndStaleTimestampAre401AndChangeNothing) {
  const auto keys = h.redis_key_count();
  const std::string body = "command=%2Fsoc2&user_id=ULENA&channel_id=C1&text=help&trigger_id=X";
  auto req = signed_request("application/x-www-form-urlencoded", body);
  req.set("X-Slack-Signature", "v0=" + std::string(64, '0'));
  EXPECT_EQ(events->on_http(req).status, 401u);
  auto stale = signed_request("application/x-www-form-urlencoded", body, -301);
  EXPECT_EQ(events->on_http(stale).status, 401u);
  HttpRequest unsigned_req{bhttp::verb::post, "/slack/events", 11};
  unsigned_req.body() = body;
  EXPECT_EQ(events->on_http(unsigned_req).status, 401u);
  events->wait_idle();
  EXPECT_EQ(h.redis_key_count(), keys);
  EXPECT_TRUE(fake.server().requests().empty());
}

TEST_F(SlackFlow, MalformedBodiesAre400) {
  EXPECT_EQ(events->on_http(signed_request("application/json", "{not json")).status, 400u);
  EXPECT_EQ(events->on_http(signed_request("application/x-www-form-urlencoded", "a=%zz")).status,
            400u);
  EXPECT_EQ(
      events->on_http(signed_request("application/x-www-form-urlencoded", "payload=%7Bbad")).status,
      400u);
  EXPECT_EQ(events
                ->on_http(signed_request("application/x-www-form-urlencoded",
                                         "payload=" + enc("{\"type\":\"block_actions\"}")))
                .status,
            400u);
}

TEST_F(SlackFlow, UrlVerificationEchoesTheChallenge) {
  auto a = events->on_http(signed_request(
      "application/json", R"({"token":"x","challenge":"3eZbrw1a","type":"url_verification"})"));
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(json::parse(a.body)["challenge"], "3eZbrw1a");
}

TEST_F(SlackFlow, ReplayedCommandChangesStateOnce) {
  slash("lena", "ask @bob AC-01 \"Q4 access review export\" due 2026-12-11", "SAME", "r1");
  slash("lena", "ask @bob AC-01 \"Q4 access review export\" due 2026-12-11", "SAME", "r2");
  EXPECT_FALSE(h.item("ASK-1").empty());
  EXPECT_TRUE(h.item("ASK-2").empty());
}

TEST_F(SlackFlow, ReplayedEventIdChangesStateOnce) {
  json ev = {{"type", "event_callback"},
             {"event_id", "Ev1"},
             {"event",
              {{"type", "message"},
               {"channel_type", "im"},
               {"channel", "DLENA"},
               {"user", "ULENA"},
               {"text", "ask <@UBOB> AC-01 \"Q4 export\" due 2026-12-11"}}}};
  auto req = signed_request("application/json", ev.dump());
  EXPECT_EQ(events->on_http(req).status, 200u);
  events->wait_idle();
  auto retry = signed_request("application/json", ev.dump());
  retry.set("X-Slack-Retry-Num", "1");
  EXPECT_EQ(events->on_http(retry).status, 200u);
  events->wait_idle();
  EXPECT_EQ(h.item("ASK-1")["owner"], "bob");
  EXPECT_TRUE(h.item("ASK-2").empty());
}

TEST_F(SlackFlow, UnknownActionAndWrongPersonAreRefusedWithoutChange) {
  slash("lena", "ask @bob AC-01 \"Q4 access review export\" due 2026-12-11", "T1", "r1");
  dispatcher->drain();
  const json dm = latest_to("DBOB");
  const auto before = h.audit_entries().size();
  json p = press("bob", dm, "form:ask.submit", "T5", "r5");
  p["actions"][0]["action_id"] = "nope.unknown";
  interact(p);
  ASSERT_EQ(fake.responses("r5").size(), 1u);
  // Kenji presses Bob's Reassign: the form opens, the submission is refused.
  interact(press("kenji", dm, "form:ask.reassign", "T6", "r6"));
  const json view = fake.calls("views.open").back()["view"];
  json sub = {{"type", "view_submission"},
              {"user", {{"id", "UKENJI"}}},
              {"trigger_id", "T7"},
              {"view",
               {{"id", "V2"},
                {"hash", "h"},
                {"private_metadata", view["private_metadata"]},
                {"state", {{"values", {{"person", {{"v", {{"selected_user", "UKENJI"}}}}}}}}}}}};
  auto a = interact(sub);
  EXPECT_EQ(json::parse(a.body)["response_action"], "errors");
  EXPECT_EQ(h.audit_entries().size(), before);
  EXPECT_EQ(h.item("ASK-1")["owner"], "bob");
}

TEST_F(SlackFlow, RateLimitStormDelaysButLosesNothing) {
  for (int i = 0; i < 3; ++i) {
    slash("lena", "ask @bob AC-01 \"export " + std::to_string(i) + "\" due 2026-12-11",
          "S" + std::to_string(i), "r");
  }
  // Twelve 429s in a row: the client waits out each Retry-After instead of giving up.
  for (int i = 0; i < 12; ++i) {
    fake.server().inject(FakeResponse::rate_limited(2), "/api/chat.postMessage");
  }
  std::size_t delivered = 0;
  for (int round = 0; round < 20 && delivered < 3; ++round)
    delivered += dispatcher->drain();
  EXPECT_EQ(delivered, 3u);
  // Each of the three asks reached Bob exactly once after the storm.
  std::set<std::string> texts;
  for (const auto& c : fake.posted()) {
    if (c.value("channel", "") == "DBOB") texts.insert(c["blocks"].dump());
  }
  EXPECT_EQ(fake.posted().size(), 3u);
  EXPECT_EQ(texts.size(), 3u);
  EXPECT_GE(slept, 2000ms);  // Retry-After honoured
}

TEST_F(SlackFlow, AppHomeShowsTheirOpenItems) {
  slash("lena", "ask @bob AC-01 \"Q4 access review export\" due 2026-12-11", "T1", "r1");
  json ev = {{"type", "event_callback"},
             {"event_id", "Ev9"},
             {"event", {{"type", "app_home_opened"}, {"user", "UBOB"}, {"tab", "home"}}}};
  events->on_http(signed_request("application/json", ev.dump()));
  events->wait_idle();
  auto pubs = fake.calls("views.publish");
  ASSERT_EQ(pubs.size(), 1u);
  EXPECT_EQ(pubs[0]["user_id"], "UBOB");
  EXPECT_THAT(pubs[0]["view"].dump(), HasSubstr("ASK-1"));
}

}  // namespace
}  // namespace auditbot::test
