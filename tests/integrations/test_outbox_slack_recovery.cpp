// Exactly-once on Slack across a crash: an entry a dead replica already posted is found on
// the fake Slack (HTTPS) by the outbox id in its message metadata and not posted again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integrations/redis/durable_outbox.hpp"
#include "integrations/slack/deliverer.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/fakes/test_ca.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

class SlackRecovery : public ::testing::Test {
 protected:
  SlackRecovery() {
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
    deliverer = std::make_unique<slack::SlackDeliverer>(*api, *people, h.app().people(),
                                                        h.app().store(), h.app().config());
  }

  std::string queue(const std::string& person, const std::string& key) {
    Txn t;
    Message m;
    m.to = Recipient::person(person);
    m.key = key;
    m.text = "Please acknowledge SEC-01";
    const std::string id = t.send(m);
    EXPECT_TRUE(h.app().store().commit(t).ok());
    return id;
  }

  // How many accepted chat.postMessage calls carried `outbox_id` in their metadata.
  int posts_of(const std::string& outbox_id) const {
    int n = 0;
    for (const json& p : fake.posted()) {
      if (p.contains("metadata") &&
          p["metadata"]["event_payload"].value("outbox_id", "") == outbox_id) {
        ++n;
      }
    }
    return n;
  }

  // Runs one dispatcher drain over `outbox`, which is also its ledger, as serve does.
  std::size_t drain(RedisDurableOutbox& outbox) {
    DispatcherOptions opts;
    opts.ledger = &outbox;
    return OutboxDispatcher(outbox, *deliverer, opts).drain();
  }

  std::size_t history_calls() {
    return fake.server().requests_to("/api/conversations.history").size();
  }

  Harness h;
  FakeSlack fake;
  std::unique_ptr<http::Client> client;
  std::unique_ptr<slack::WebApi> api;
  std::unique_ptr<slack::SlackPeople> people;
  std::unique_ptr<slack::SlackDeliverer> deliverer;
};

// The dead replica posted, then died before writing anything (no ledger, no message ref):
// the live replica reclaims the entry, finds it in the channel's history, and acks it.
TEST_F(SlackRecovery, PostedBeforeTheCrashIsFoundByMetadataAndNotPostedAgain) {
  Store& store = h.app().store();
  RedisDurableOutbox dead(store, "dead", 0ms);
  const std::string id = queue("bob", "campaign:SEC-01:bob");
  const auto claimed = dead.claim(10, 0ms);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_EQ(deliverer->deliver(claimed[0]).status, DeliveryResult::Status::delivered);
  ASSERT_EQ(posts_of(id), 1);
  // Crash between the platform accepting and any record of it on our side.
  store.client().command({"DEL", store.keys().message_ref("campaign:SEC-01:bob")});

  RedisDurableOutbox live(store, "live", 0ms);
  drain(live);

  EXPECT_EQ(posts_of(id), 1);  // not sent twice
  EXPECT_EQ(live.pending(), 0u);
  EXPECT_GE(history_calls(), 1u);
  const auto ledger = live.find(id);
  ASSERT_TRUE(ledger.has_value());
  EXPECT_EQ(*ledger, fake.posted().front().value("ts", ""));
  // The lookup asked Slack for metadata, bounded to recent messages.
  const std::string body = fake.server().requests_to("/api/conversations.history").back().body;
  EXPECT_NE(body.find("include_all_metadata=true"), std::string::npos);
  EXPECT_NE(body.find("limit=200"), std::string::npos);
  EXPECT_NE(body.find("channel=DBOB"), std::string::npos);
}

// Died after the message ref was written: found without asking Slack.
TEST_F(SlackRecovery, PostedAndReferencedIsFoundFromTheMessageRef) {
  Store& store = h.app().store();
  RedisDurableOutbox dead(store, "dead", 0ms);
  const std::string id = queue("kenji", "campaign:SEC-01:kenji");
  const auto claimed = dead.claim(10, 0ms);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_EQ(deliverer->deliver(claimed[0]).status, DeliveryResult::Status::delivered);

  RedisDurableOutbox live(store, "live", 0ms);
  drain(live);
  EXPECT_EQ(posts_of(id), 1);
  EXPECT_EQ(live.pending(), 0u);
  EXPECT_EQ(history_calls(), 0u);
}

// Died after claiming but before posting: recovery finds nothing and delivers it once.
// Another message to the same person with a different outbox id does not count as it.
TEST_F(SlackRecovery, NeverPostedIsDeliveredOnceAfterRecovery) {
  Store& store = h.app().store();
  const std::string other = queue("bob", "campaign:SEC-02:bob");
  {
    RedisDurableOutbox first(store, "first", 0ms);
    ASSERT_EQ(drain(first), 1u);
  }
  RedisDurableOutbox dead(store, "dead", 0ms);
  const std::string id = queue("bob", "campaign:SEC-01:bob");
  ASSERT_EQ(dead.claim(10, 0ms).size(), 1u);  // and then it died

  RedisDurableOutbox live(store, "live", 0ms);
  EXPECT_EQ(drain(live), 1u);
  EXPECT_EQ(posts_of(id), 1);
  EXPECT_EQ(posts_of(other), 1);
  EXPECT_GE(history_calls(), 1u);  // it did look before sending
  EXPECT_EQ(live.pending(), 0u);
}

// Slack accepted the post but the answer never arrived (timeout): the Web API does not post
// it again on its own; the outbox looks it up in the history and settles it, one message.
TEST_F(SlackRecovery, ConnectionLostAfterSlackAcceptedThePostIsNotPostedAgain) {
  http::ClientOptions o;
  o.ca_file = TestCa::get().ca_file;
  o.io_timeout = 300ms;
  http::Client impatient(o);
  slack::WebApiOptions wo;
  wo.base_url = fake.api_url();
  wo.token = "xoxb-test-token";
  wo.channel_interval = 0ms;
  wo.sleep = [](std::chrono::milliseconds) {};
  slack::WebApi quick_api(impatient, wo);
  slack::SlackDeliverer quick(quick_api, *people, h.app().people(), h.app().store(),
                              h.app().config());

  Store& store = h.app().store();
  const std::string id = queue("bob", "campaign:SEC-01:bob");
  fake.delay_accepted_post(1, 1000ms);  // kept by Slack, answered after our timeout
  RedisDurableOutbox outbox(store, "only", 0ms);
  DispatcherOptions opts;
  opts.ledger = &outbox;
  EXPECT_EQ(OutboxDispatcher(outbox, quick, opts).drain(), 0u);  // timed out: retry later
  EXPECT_EQ(posts_of(id), 1);
  EXPECT_EQ(fake.server().requests_to("/api/chat.postMessage").size(), 1u);

  OutboxDispatcher(outbox, quick, opts).drain();  // the retry finds it on Slack
  EXPECT_EQ(posts_of(id), 1);
  EXPECT_EQ(fake.server().requests_to("/api/chat.postMessage").size(), 1u);
  EXPECT_GE(history_calls(), 1u);
  EXPECT_EQ(outbox.pending(), 0u);
  ASSERT_TRUE(outbox.find(id).has_value());
  EXPECT_EQ(*outbox.find(id), fake.posted().front().value("ts", ""));
}

// A status reply in the auditor's thread, posted before the crash: Slack leaves thread
// replies out of the channel history, so recovery reads the thread and still finds it.
TEST_F(SlackRecovery, ThreadReplyPostedBeforeTheCrashIsFoundInItsThread) {
  Store& store = h.app().store();
  Txn t;
  Message m;
  m.to = Recipient::channel("auditor", "1700000000.000100");
  m.title = "REQ-1: in progress";
  const std::string id = t.send(m);
  ASSERT_TRUE(store.commit(t).ok());

  RedisDurableOutbox dead(store, "dead", 0ms);
  const auto claimed = dead.claim(10, 0ms);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_EQ(deliverer->deliver(claimed[0]).status, DeliveryResult::Status::delivered);
  ASSERT_EQ(posts_of(id), 1);
  EXPECT_EQ(fake.posted().back().value("thread_ts", ""), "1700000000.000100");
  store.client().command({"DEL", store.keys().message_ref("outbox:" + id)});
  // Not in the channel's history, as on Slack.
  for (const json& msg : api->conversations_history("C-AUDIT", 200)) {
    EXPECT_FALSE(msg.contains("metadata") &&
                 msg["metadata"]["event_payload"].value("outbox_id", "") == id);
  }

  RedisDurableOutbox live(store, "live", 0ms);
  drain(live);

  EXPECT_EQ(posts_of(id), 1);  // not sent twice
  EXPECT_EQ(live.pending(), 0u);
  const auto ledger = live.find(id);
  ASSERT_TRUE(ledger.has_value());
  EXPECT_EQ(*ledger, fake.posted().back().value("ts", ""));
  const auto reads = fake.server().requests_to("/api/conversations.replies");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_NE(reads[0].body.find("channel=C-AUDIT"), std::string::npos);
  EXPECT_NE(reads[0].body.find("ts=1700000000.000100"), std::string::npos);
  EXPECT_NE(reads[0].body.find("include_all_metadata=true"), std::string::npos);
}

// A message too long for one Slack message goes out as pages (the later ones in its thread).
// Serve stopped while page 2 waited its turn: the retry posts page 2 only, once, and the
// first page is not repeated nor taken for the whole message.
TEST_F(SlackRecovery, APageLeftUnpostedIsPostedOnRetryWithoutRepeatingTheFirst) {
  slack::WebApiOptions wo;
  wo.base_url = fake.api_url();
  wo.token = "xoxb-test-token";
  wo.channel_interval = 1000ms;  // page 2 waits its turn in the channel
  slack::WebApi stopping_api(*client, wo);
  stopping_api.stop_waiting();  // serve is shutting down
  slack::SlackDeliverer stopping(stopping_api, *people, h.app().people(), h.app().store(),
                                 h.app().config());

  Store& store = h.app().store();
  Txn t;
  Message m;
  m.to = Recipient::person("bob");
  m.key = "digest:bob";
  for (int i = 0; i < 60; ++i)
    m.text += "Control " + std::to_string(i) + ": " + std::string(2500, 'x') + "\n\n";
  const std::string id = t.send(m);
  ASSERT_TRUE(store.commit(t).ok());

  RedisDurableOutbox first(store, "first", 0ms);
  DispatcherOptions opts;
  opts.ledger = &first;
  EXPECT_EQ(OutboxDispatcher(first, stopping, opts).drain(), 0u);  // page 2 not posted
  ASSERT_EQ(fake.posted().size(), 1u);
  const std::string root_ts = fake.posted()[0].value("ts", "");
  EXPECT_EQ(posts_of(id), 1);

  RedisDurableOutbox live(store, "live", 0ms);
  EXPECT_EQ(drain(live), 1u);
  const auto posted = fake.posted();
  ASSERT_EQ(posted.size(), 2u);  // page 1 once, page 2 once
  EXPECT_EQ(posts_of(id), 1);
  EXPECT_EQ(posted[1].value("thread_ts", ""), root_ts);
  EXPECT_THAT(posted[1]["blocks"].dump(), HasSubstr("Control 59"));
  EXPECT_EQ(live.pending(), 0u);
  EXPECT_EQ(live.find(id), std::optional<std::string>(root_ts));
  const auto ref = store.hgetall(store.keys().message_ref("digest:bob"));
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->at("slack_pages_left"), "0");
}

}  // namespace
}  // namespace auditbot::test
