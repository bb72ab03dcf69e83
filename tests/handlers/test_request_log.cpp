// The auditor request log as liaison, owners and auditor live it: import the auditor's list
// (all or nothing), route by control ids, triage, the checked status machine, and an
// auditor channel that only ever hears statuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "handlers/csv.hpp"
#include "handlers/requests.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The auditor's spreadsheet: their headers, their ids, several criteria in a cell.
std::string auditor_list(std::size_t rows) {
  std::string text =
      "PBC #,Request Description,TSC / Control Reference,Due Date,Sample Period,"
      "Priority,Auditor Comments\r\n";
  for (std::size_t i = 1; i <= rows; ++i) {
    const std::string ref = i % 3 == 0 ? "CC8.1" : i % 3 == 1 ? "CC6.1, CC6.2" : "";
    text +=
        csv::line({"PBC-" + std::to_string(i), "Provide population for item " + std::to_string(i),
                   ref, "2026-12-1" + std::to_string(i % 10), "2026-01-01..2026-09-30", "High",
                   "see \"walkthrough\", part " + std::to_string(i)});
  }
  return text;
}

class RequestLogTest : public ::testing::Test {
 protected:
  Harness h;
  RequestLog& log() { return h.app().requests(); }

  // Everything the auditor channel received, as one text.
  std::string auditor_channel() {
    std::string all;
    for (const auto& m : h.sent_to("auditor")) {
      all += m.title + "\n" + m.text + "\n" + m.context + "\n";
      for (const auto& f : m.fields)
        all += f.label + ": " + f.value + "\n";
      for (const auto& b : m.buttons)
        all += b.label + "\n";
    }
    return all;
  }
};

TEST_F(RequestLogTest, TwentyRowImportKeepsAuditorIdsAndRoutesByCriteria) {
  const auto ids = log().import_csv(auditor_list(20), "lena");
  h.deliver();
  ASSERT_EQ(ids.size(), 20u);
  EXPECT_EQ(ids.front(), "REQ-1");
  const auto r1 = h.item("REQ-1");
  EXPECT_EQ(r1.at("external_id"), "PBC-1");
  EXPECT_EQ(r1.at("references"), "CC6.1 CC6.2");
  EXPECT_EQ(r1.at("controls"), "AC-01");
  EXPECT_EQ(r1.at("owner"), "bob");
  EXPECT_EQ(r1.at("status"), "assigned");
  EXPECT_EQ(r1.at("due"), "2026-12-11");
  EXPECT_EQ(r1.at("comments"), "see \"walkthrough\", part 1");
  EXPECT_EQ(h.item("REQ-3").at("owner"), "kenji");  // CC8.1 -> CM-01
  EXPECT_EQ(h.item("REQ-2").at("owner"), "");       // nothing to route by: triage
  EXPECT_EQ(h.item("REQ-2").at("status"), "new");
  const Reply triage = h.command("lena", "request triage");
  EXPECT_THAT(triage.text, HasSubstr("7 request(s) waiting for an owner"));
  EXPECT_EQ(h.audit_entries().back().action, "requests.imported");
  EXPECT_THAT(auditor_channel(), HasSubstr("Received 20 requests"));
}

TEST_F(RequestLogTest, BadRowWritesNothingAndNamesRowAndField) {
  std::string text = auditor_list(5);
  text += "PBC-6,Something,CC6.1 XX9.9,2026-12-14,,,\r\n";
  const auto keys = h.redis_key_count();
  const auto audit = h.audit_entries().size();
  try {
    log().import_csv(text, "lena");
    FAIL();
  } catch (const ImportError& e) {
    EXPECT_STREQ(e.what(),
                 "row 7, field reference: 'XX9.9' is not a TSC criterion or a control id");
  }
  EXPECT_EQ(h.redis_key_count(), keys);
  EXPECT_EQ(h.audit_entries().size(), audit);
  auto err = [&](const std::string& t, RequestColumnMap m = {}) {
    try {
      log().import_csv(t, "lena", m);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("Ref,Detail\nA-1,x\n"),
            "row 1, field description: no description column (map one with description=<header>)");
  EXPECT_EQ(err("Ref,Detail\nA-1,x\nA-1,y\n", parse_column_map("description=Detail")),
            "row 3, field request id: 'A-1' repeats row 2");
  EXPECT_EQ(err("Description,Due Date\nx,31/12/2026\n"),
            "row 2, field due date: '31/12/2026' is not a date (YYYY-MM-DD or MM/DD/YYYY)");
  EXPECT_EQ(err("Description,Owner\nx,@zed\n"), "row 2, field owner: unknown person 'zed'");
  EXPECT_EQ(h.redis_key_count(), keys);
  // The mapping option: their odd header names.
  const auto ids = log().import_csv("Ref,Detail,Crit\nA-1,x,CC8.1\n", "lena",
                                    parse_column_map("description=Detail,reference=Crit"));
  EXPECT_EQ(h.item(ids[0]).at("owner"), "kenji");
  EXPECT_EQ(h.item(ids[0]).at("external_id"), "A-1");
}

TEST_F(RequestLogTest, AddRoutesByControlIdInTextAndDefaultsDueFromSla) {
  Reply r = h.command("lena", "request add \"Evidence of the Q3 review for AC-01\"");
  ASSERT_FALSE(r.error) << r.text;
  EXPECT_THAT(r.text, HasSubstr("Logged REQ-1, due 2026-12-08; routed to Bob Li (@bob)"));
  r = h.command("lena", "request add \"Org chart\" due 2026-12-10");
  EXPECT_THAT(r.text, HasSubstr("triage queue"));
  r = h.command("lena", "request add \"Pentest\" control CM-01 owner @dana");
  EXPECT_EQ(h.item("REQ-3").at("owner"), "dana");
  EXPECT_EQ(h.item("REQ-3").at("controls"), "CM-01");
  EXPECT_TRUE(h.command("bob", "request add \"x\"").error);  // owners do not log requests
  // The liaison routes the triaged one.
  r = h.command("lena", "request REQ-2 assign @kenji");
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("REQ-2").at("status"), "assigned");
  EXPECT_TRUE(h.command("bob", "request REQ-2 assign @bob").error);
}

TEST_F(RequestLogTest, FullFlowAuditorSeesOnlyStatuses) {
  InboundEvent e;
  e.person = "ava";
  e.place = {Place::Kind::channel, "C-AUDIT", ""};
  Reply t = log().track(e, *h.app().people().find("ava"),
                        "Please provide the CM-01 change sample for Q3", "ava", "C-AUDIT/1700.01");
  h.deliver();
  ASSERT_FALSE(t.error) << t.text;
  EXPECT_EQ(t.text, "Tracking this message as REQ-1.");
  EXPECT_EQ(h.item("REQ-1").at("thread"), "C-AUDIT/1700.01");
  EXPECT_EQ(h.item("REQ-1").at("owner"), "kenji");
  EXPECT_EQ(log().track(e, *h.app().people().find("ava"), "again", "ava", "C-AUDIT/1700.01").text,
            "Already tracked as REQ-1.");
  // The neutral event through the router: only the auditor channel's messages are tracked.
  InboundEvent ev;
  ev.person = "lena";
  ev.body = TrackMessage{"Provide the AC-01 review", "ava", "C-AUDIT", "1700.02", ""};
  EXPECT_EQ(h.app().router().handle(ev).text, "Tracking this message as REQ-2.");
  ev.body = TrackMessage{"lunch?", "bob", "C-RANDOM", "1700.03", ""};
  EXPECT_TRUE(h.app().router().handle(ev).error);
  EXPECT_EQ(h.item("REQ-2").at("owner"), "bob");
  EXPECT_EQ(h.item("REQ-2").at("requested_by"), "ava");
  h.deliver();

  // Transitions are checked: nobody can send before review, others cannot submit.
  EXPECT_TRUE(h.command("lena", "request REQ-1 send").error);
  EXPECT_TRUE(h.command("bob", "request REQ-1 submit https://x.example/a.csv").error);
  EXPECT_TRUE(h.command("kenji", "request REQ-1 accept").error);
  Reply r = h.command("kenji", "request REQ-1 start");
  ASSERT_FALSE(r.error) << r.text;
  h.command("kenji", "request REQ-1 note \"Kenji Sato thinks sample is thin\"");
  r = h.press_latest("kenji", "request.submit",
                     {{"link", "https://drive.example/cm-sample.csv"}, {"note", "INTERNAL-NOTE"}});
  ASSERT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("REQ-1").at("status"), "in_review");
  r = h.press_latest("lena", "request.send");
  ASSERT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("REQ-1").at("status"), "sent");
  r = h.command("ava", "request REQ-1 follow-up \"Need the approvals too\"");
  ASSERT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("REQ-1").at("status"), "follow_up");
  h.press_latest("kenji", "request.submit", {{"link", "https://drive.example/approvals.csv"}});
  h.press_latest("lena", "request.send");
  r = h.command("ava", "request REQ-1 accept");
  ASSERT_FALSE(r.error) << r.text;
  EXPECT_EQ(h.item("REQ-1").at("status"), "accepted");
  EXPECT_TRUE(h.command("ava", "request REQ-1 accept").error);

  const std::string seen = auditor_channel();
  EXPECT_THAT(seen, HasSubstr("REQ-1: received"));
  EXPECT_THAT(seen, HasSubstr("REQ-1: in progress"));
  EXPECT_THAT(seen, HasSubstr("REQ-1: evidence sent"));
  EXPECT_THAT(seen, HasSubstr("https://drive.example/approvals.csv"));
  EXPECT_THAT(seen, HasSubstr("REQ-1: accepted"));
  for (const char* secret : {"kenji", "Kenji", "INTERNAL-NOTE", "thinks sample", "Sato"}) {
    EXPECT_THAT(seen, Not(HasSubstr(secret))) << secret;
  }
  // The auditor's own view has no owner and no notes either.
  const Reply view = h.command("ava", "request REQ-1");
  std::string all = view.text;
  for (const auto& f : view.fields)
    all += f.label + f.value;
  EXPECT_THAT(all, Not(HasSubstr("Kenji")));
  EXPECT_THAT(all, Not(HasSubstr("thin")));
  EXPECT_THAT(h.command("lena", "request REQ-1").fields.back().value, HasSubstr("thin"));

  const std::string exported = log().export_csv();
  EXPECT_THAT(exported, HasSubstr("submitted by kenji https://drive.example/cm-sample.csv"));
  EXPECT_THAT(exported, HasSubstr("follow_up by ava"));
}

// A tracked reply in the auditor's thread: every status goes back into that thread (under
// its parent, as Slack threads are one level deep), one reply per status, nothing else.
TEST_F(RequestLogTest, TrackedMessageGetsItsStatusesAsRepliesInItsThread) {
  InboundEvent ev;
  ev.person = "lena";
  ev.platform = Platform::slack;
  ev.body = TrackMessage{"Also the AC-01 quarterly review, please", "ava", "C-AUDIT",
                         "1700000000.000200", "1700000000.000100"};
  ASSERT_EQ(h.app().router().handle(ev).text, "Tracking this message as REQ-1.");
  h.deliver();
  // The request remembers both the tracked message (dedup) and the thread root.
  EXPECT_EQ(h.item("REQ-1").at("thread"), "C-AUDIT/1700000000.000200");
  EXPECT_EQ(h.item("REQ-1").at("reply_thread"), "1700000000.000100");
  EXPECT_EQ(h.item("REQ-1").at("owner"), "bob");

  ASSERT_FALSE(h.command("bob", "request REQ-1 start").error);
  h.command("bob", "request REQ-1 note \"Bob Li pulled it from Okta, INTERNAL-NOTE\"");
  Reply r = h.press_latest("bob", "request.submit",
                           {{"link", "https://drive.example/ac-q3.pdf"}, {"note", "NOTE-2"}});
  ASSERT_FALSE(r.error) << r.text;
  r = h.press_latest("lena", "request.send");
  ASSERT_FALSE(r.error) << r.text;

  const auto sent = h.sent_to("auditor");
  ASSERT_EQ(sent.size(), 3u);
  const std::vector<std::string> titles{"REQ-1: received", "REQ-1: in progress",
                                        "REQ-1: evidence sent"};
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const Message& m = sent[i];
    EXPECT_EQ(m.to, Recipient::channel("auditor", "1700000000.000100")) << i;
    EXPECT_TRUE(m.key.empty()) << "a fresh reply, not an edit: " << i;
    EXPECT_EQ(m.title, titles[i]);
    EXPECT_TRUE(m.text.empty()) << m.text;
    EXPECT_TRUE(m.context.empty()) << m.context;
    EXPECT_TRUE(m.buttons.empty());
  }
  ASSERT_EQ(sent[2].fields.size(), 1u);
  EXPECT_EQ(sent[2].fields[0].value, "https://drive.example/ac-q3.pdf");
  const std::string seen = auditor_channel();
  for (const char* secret : {"bob", "Bob", "INTERNAL-NOTE", "NOTE-2", "Okta", "lena"}) {
    EXPECT_THAT(seen, Not(HasSubstr(secret))) << secret;
  }

  // A message that is itself a thread root: its statuses go under it.
  ev.body = TrackMessage{"Change tickets for CM-01", "ava", "C-AUDIT", "1700000000.000300", ""};
  ASSERT_EQ(h.app().router().handle(ev).text, "Tracking this message as REQ-2.");
  h.deliver();
  EXPECT_EQ(h.sent_to("auditor").back().to, Recipient::channel("auditor", "1700000000.000300"));
  // Requests that were not tracked keep one card at the channel's top level.
  h.command("lena", "request add \"CM-01 sample\" due 2026-12-20");
  EXPECT_EQ(h.sent_to("auditor").back().to, Recipient::channel("auditor"));
  EXPECT_EQ(h.sent_to("auditor").back().key, "req:REQ-3:auditor");
}

TEST_F(RequestLogTest, ListFilters) {
  h.command("lena", "request add \"AC-01 review\" due 2026-12-02");
  h.command("lena", "request add \"CM-01 sample\" due 2026-12-20");
  EXPECT_THAT(h.command("lena", "request list").text, HasSubstr("2 request(s) (open)"));
  h.clock().advance(std::chrono::hours(24 * 3));
  const Reply overdue = h.command("lena", "request list overdue");
  EXPECT_THAT(overdue.text, HasSubstr("REQ-1"));
  EXPECT_THAT(overdue.text, Not(HasSubstr("REQ-2")));
  EXPECT_THAT(h.command("bob", "request list mine").text, HasSubstr("1 request(s) (mine)"));
  EXPECT_THAT(h.command("lena", "request list control CM-01").text, HasSubstr("REQ-2"));
  EXPECT_THAT(h.command("ava", "request list").text, Not(HasSubstr("@bob")));
}

TEST_F(RequestLogTest, AddWithoutArgumentsOpensAFormThatLogsOneRequest) {
  const Reply form = h.command("lena", "request add");
  ASSERT_FALSE(form.error) << form.text;
  ASSERT_EQ(form.buttons.size(), 1u);
  const Button& b = form.buttons[0];
  EXPECT_EQ(b.action_id, "request.create");
  ASSERT_EQ(b.inputs.size(), 4u);
  EXPECT_EQ(b.inputs[0].name, "text");
  EXPECT_FALSE(b.inputs[0].optional);
  EXPECT_TRUE(b.inputs[1].optional);

  const auto keys = h.redis_key_count();
  const auto audit = h.audit_entries().size();
  Reply r =
      h.press("lena", "request.create", b.value, {{"text", "Firewall rules"}, {"control", "ZZ"}});
  EXPECT_TRUE(r.error);
  r = h.press("lena", "request.create", b.value, {{"text", "Firewall rules"}, {"due", "someday"}});
  EXPECT_TRUE(r.error);
  r = h.press("lena", "request.create", b.value, {{"control", "AC-01"}});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(h.redis_key_count(), keys);
  EXPECT_EQ(h.audit_entries().size(), audit);

  r = h.press("lena", "request.create", b.value,
              {{"text", "Quarterly access review for Q3"}, {"control", "AC-01"}, {"due", "+3bd"}});
  ASSERT_FALSE(r.error) << r.text;
  EXPECT_THAT(r.text, HasSubstr("Logged REQ-1, due 2026-12-04; routed to Bob Li (@bob)"));
  EXPECT_EQ(h.item("REQ-1").at("references"), "AC-01");
  // The same form pressed again logs nothing new.
  r = h.press("lena", "request.create", b.value, {{"text", "Quarterly access review for Q3"}});
  EXPECT_THAT(r.text, HasSubstr("already recorded"));
  EXPECT_TRUE(h.item("REQ-2").empty());
  EXPECT_TRUE(h.command("bob", "request add").error);
}

}  // namespace
}  // namespace auditbot::test
