// The control matrix and evidence freshness as a compliance team uses them: import the
// matrix (all or nothing), look controls up, see scope, find coverage holes, let the bot
// ask for fresh evidence once, and let automation fill a hole through the signed hook.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <fstream>

#include "handlers/controls.hpp"
#include "handlers/csv.hpp"
#include "handlers/evidence.hpp"
#include "handlers/tsc.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string source(const std::string& rel) {
  std::ifstream in(std::string(AUDITBOT_SOURCE_DIR) + "/" + rel, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void program_config(Config& c) {
  c.observation_start = "2026-01-01";
  c.observation_end = "2026-12-31";
  c.scope_categories = {"security", "availability", "confidentiality"};
  c.scope_systems = {{"Northwind platform", "customer-facing analytics SaaS"}};
  c.scope_subservice_orgs = {
      {"AWS", "hosting", "carve-out", {"Physical access to data centres is restricted"}}};
  c.evidence_hooks = {{"ci", "0123456789abcdef0123"}};
  c.evidence_hook_status = "accepted";
}

std::string sign(const std::string& secret, const std::string& ts, const std::string& body) {
  unsigned char out[64];
  unsigned int len = 0;
  const std::string data = "v1:" + ts + ":" + body;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    static const char* d = "0123456789abcdef";
    hex += d[out[i] >> 4];
    hex += d[out[i] & 15];
  }
  return "v1=" + hex;
}

class ControlMatrixTest : public ::testing::Test {
 protected:
  Harness h{program_config};
  std::int64_t keys() { return h.redis_key_count(); }
  ControlCatalog catalog() { return ControlCatalog(h.app().services()); }
  std::string now_ts() { return std::to_string(unix_seconds(h.clock().now())); }
  std::pair<int, std::string> hook(const std::string& body,
                                   const std::string& secret = "0123456789abcdef0123") {
    const auto ts = now_ts();
    return h.app().control_matrix().handle_hook("ci", ts, sign(secret, ts, body), body);
  }
};

TEST(TscCatalog, HasTheSixtyOneCriteriaAndTheShippedYamlAgrees) {
  EXPECT_EQ(tsc::catalog().size(), 61u);
  ASSERT_NE(tsc::find("CC6.1"), nullptr);
  EXPECT_EQ(tsc::find("CC6.1")->category, "security");
  EXPECT_EQ(tsc::find("PI1.5")->category, "processing_integrity");
  EXPECT_EQ(tsc::find("CC10.1"), nullptr);
  const std::string yaml = source("config/tsc_catalog.yaml");
  for (const auto& c : tsc::catalog()) {
    EXPECT_THAT(yaml, HasSubstr("{id: " + std::string(c.id) + ", title: \"" + std::string(c.title) +
                                "\"}"));
  }
}

TEST_F(ControlMatrixTest, SampleMatrixImportsAndRoundTripsThroughCsvAndYaml) {
  const auto controls = parse_controls_yaml(source("config/sample-matrix.yaml"), h.app().people());
  ASSERT_GE(controls.size(), 30u);
  EXPECT_EQ(catalog().import(controls, "alice"), controls.size());
  const auto stored = catalog().all();
  ASSERT_EQ(stored.size(), controls.size());

  const auto via_csv = parse_controls_csv(controls_to_csv(stored), h.app().people());
  const auto via_yaml = parse_controls_yaml(controls_to_yaml(stored), h.app().people());
  EXPECT_EQ(via_csv, stored);
  EXPECT_EQ(via_yaml, stored);
  // Importing the same matrix again changes nothing and writes no audit entry.
  const auto audit = h.audit_entries().size();
  EXPECT_EQ(catalog().import(via_csv, "alice"), 0u);
  EXPECT_EQ(h.audit_entries().size(), audit);
  EXPECT_EQ(h.audit_entries().back().action, "controls.imported");
}

TEST_F(ControlMatrixTest, CsvWithAQuoteCommaAndNewlineSurvivesTheRoundTrip) {
  Control c{"X-1",
            "Odd \"title\", with comma",
            {"CC6.1", "A1.2"},
            "bob",
            {{"Export, signed", "monthly"}, {"Second; artifact", "annual"}},
            "Line one\nline two",
            "implemented"};
  const auto back = parse_controls_csv(controls_to_csv({c}), h.app().people());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0], c);
}

TEST_F(ControlMatrixTest, OneBadRowWritesNothingAndNamesRowAndField) {
  const std::string csv =
      "Control ID,Title,TSC Criteria,Owner,Evidence,Status\r\n"
      "NEW-1,Fine control,CC6.1,bob,quarterly: export,operating\r\n"
      "NEW-2,Bad criterion,CC6.1 CC99.9,bob,quarterly: export,operating\r\n";
  const auto before = keys();
  const auto audit = h.audit_entries().size();
  try {
    catalog().import(parse_controls_csv(csv, h.app().people()), "alice");
    FAIL() << "expected an ImportError";
  } catch (const ImportError& e) {
    EXPECT_STREQ(e.what(), "row 3 (NEW-2), field criteria: 'CC99.9' is not a TSC criterion");
  }
  EXPECT_EQ(keys(), before);
  EXPECT_EQ(h.audit_entries().size(), audit);

  auto err = [&](const std::string& text) {
    try {
      parse_controls_csv(text, h.app().people());
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("id,title,owner\nA,B,zed\n"), "row 2 (A), field owner: unknown person 'zed'");
  EXPECT_EQ(err("id,title,evidence\nA,B,weekly: x\n"),
            "row 2 (A), field evidence: unknown cadence 'weekly' (expected continuous, monthly, "
            "quarterly, annual or one-time)");
  EXPECT_EQ(err("id,title\nA,B\nA,C\n"), "row 3 (A), field id: duplicate of row 2");
  EXPECT_EQ(err("id,title,colour\nA,B,red\n"), "row 1, field colour: unknown column");
  EXPECT_EQ(err("id,title,status\nA,B,great\n"),
            "row 2 (A), field status: unknown status 'great' (expected planned, implemented, "
            "operating or retired)");
  EXPECT_THAT(err("id,title\n\"A,B\n"), HasSubstr("never closed"));
}

TEST_F(ControlMatrixTest, DemoControlsStillLoad) {
  const auto demo = load_controls_file(
      std::string(AUDITBOT_SOURCE_DIR) + "/config/demo/controls.yaml", h.app().people());
  EXPECT_GE(demo.size(), 5u);
}

TEST_F(ControlMatrixTest, ControlsListFiltersByCategoryOwnerAndStale) {
  catalog().import(parse_controls_yaml(source("config/sample-matrix.yaml"), h.app().people()),
                   "alice");
  const Reply all = h.command("lena", "controls");
  EXPECT_THAT(all.text, HasSubstr("36 controls:"));
  const Reply kenji = h.command("lena", "controls @kenji");
  EXPECT_THAT(kenji.text, HasSubstr("owned by @kenji"));
  EXPECT_THAT(kenji.text, HasSubstr("CM-01 · Changes are peer reviewed before deployment"));
  EXPECT_THAT(kenji.text, Not(HasSubstr("AC-01 ·")));
  const Reply avail = h.command("lena", "controls availability");
  EXPECT_THAT(avail.text, HasSubstr("BC-01"));
  EXPECT_THAT(avail.text, Not(HasSubstr("CM-01")));
  EXPECT_TRUE(h.command("lena", "controls bogus").error);
  const Reply stale = h.command("lena", "controls stale");
  EXPECT_THAT(stale.text, HasSubstr("36 controls with missing or stale evidence"));
}

TEST_F(ControlMatrixTest, ControlShowsOwnerCriteriaRequirementsAndLatestEvidence) {
  Reply r = h.command("ava", "control AC-01");
  ASSERT_FALSE(r.error) << r.text;
  EXPECT_THAT(r.text, HasSubstr("AC-01 · Quarterly user access review"));
  ASSERT_GE(r.fields.size(), 3u);
  EXPECT_EQ(r.fields[0].value, "Bob Li (@bob)");
  EXPECT_THAT(r.fields[1].value, HasSubstr("CC6.1 Logical access is restricted"));
  EXPECT_THAT(r.fields[2].value, HasSubstr("no accepted evidence yet"));

  const auto [code, body] =
      hook(R"({"control":"AC-01","link":"https://drive.example/ar-q3.pdf","period":"2026-Q3"})");
  ASSERT_EQ(code, 201) << body;
  r = h.command("ava", "control CC6.2");  // the criterion resolves to the one control
  EXPECT_THAT(r.fields[2].value, HasSubstr("latest EV-1 for 2026-Q3, uploaded 2026-12-01"));
  EXPECT_THAT(r.fields[2].value, HasSubstr("fresh until 2026-12-31"));
  EXPECT_TRUE(h.command("ava", "control ZZ-9").error);
}

TEST_F(ControlMatrixTest, ScopeShowsCategoriesSystemsAndCarveOuts) {
  const Reply r = h.command("bob", "scope");
  ASSERT_FALSE(r.error) << r.text;
  std::string all = r.text;
  for (const auto& f : r.fields)
    all += "\n" + f.label + ": " + f.value;
  EXPECT_THAT(all, HasSubstr("Categories in scope: Security, Availability, Confidentiality"));
  EXPECT_THAT(all, HasSubstr("Not in scope: Processing integrity, Privacy"));
  EXPECT_THAT(all, HasSubstr("System: Northwind platform"));
  EXPECT_THAT(all, HasSubstr("AWS (hosting), carve-out method; complementary controls relied on: "
                             "Physical access to data centres is restricted"));
}

TEST_F(ControlMatrixTest, CoverageListsMissingQuartersAndAHookFillsOne) {
  Reply r = h.command("lena", "coverage AC-01");
  EXPECT_THAT(r.text, HasSubstr("AC-01 quarterly Access review export: no evidence for 2026-Q1"));
  EXPECT_THAT(r.text, HasSubstr("no evidence for 2026-Q3"));
  EXPECT_THAT(r.text, Not(HasSubstr("2026-Q4")));  // still running on 2026-12-01

  const auto [code, body] = hook(
      R"({"control":"AC-01","link":"https://drive.example/ar-q3.pdf","period":"2026-Q3","note":"from CI"})");
  ASSERT_EQ(code, 201) << body;
  EXPECT_THAT(body, HasSubstr("\"status\":\"accepted\""));
  r = h.command("lena", "coverage AC-01");
  EXPECT_THAT(r.text, HasSubstr("no evidence for 2026-Q1"));
  EXPECT_THAT(r.text, Not(HasSubstr("2026-Q3")));
  const auto audit = h.audit_entries();
  EXPECT_EQ(audit.back().action, "evidence.pushed");
  EXPECT_EQ(audit.back().actor, "hook:ci");
}

TEST_F(ControlMatrixTest, HookRejectsBadSignatureOldTimestampUnknownControlAndBadBody) {
  const auto before = keys();
  const std::string body =
      R"({"control":"AC-01","link":"https://drive.example/x.pdf","period":"2026-Q3"})";
  EXPECT_EQ(hook(body, "wrong-secret-wrong-secret").first, 401);
  const auto old = std::to_string(unix_seconds(h.clock().now()) - 301);
  EXPECT_EQ(h.app()
                .control_matrix()
                .handle_hook("ci", old, sign("0123456789abcdef0123", old, body), body)
                .first,
            401);
  const auto ts = now_ts();
  EXPECT_EQ(h.app().control_matrix().handle_hook("nope", ts, sign("x", ts, body), body).first, 401);
  EXPECT_EQ(
      hook(R"({"control":"ZZ-9","link":"https://drive.example/x.pdf","period":"2026-Q3"})").first,
      422);
  EXPECT_EQ(hook("{not json").first, 400);
  EXPECT_EQ(hook(R"({"control":"AC-01","link":"ftp://x","period":"2026-Q3"})").first, 400);
  EXPECT_EQ(hook(R"({"control":"AC-01","link":"https://drive.example/x","period":"Q3"})").first,
            400);
  EXPECT_EQ(keys(), before);
  // The same signed request twice records once.
  EXPECT_EQ(hook(body).first, 201);
  const auto after = keys();
  EXPECT_EQ(hook(body).first, 200);
  EXPECT_EQ(keys(), after);
}

TEST(EvidenceHookReview, InReviewEvidenceWaitsForALiaison) {
  Harness h([](Config& c) {
    program_config(c);
    c.evidence_hook_status = "in_review";
  });
  const std::string body =
      R"({"control":"AC-01","link":"https://drive.example/x.pdf","period":"2026-Q3"})";
  const auto ts = std::to_string(unix_seconds(h.clock().now()));
  const auto [code, resp] =
      h.app().control_matrix().handle_hook("ci", ts, sign("0123456789abcdef0123", ts, body), body);
  ASSERT_EQ(code, 201) << resp;
  h.deliver();
  EXPECT_THAT(h.command("lena", "coverage AC-01").text, HasSubstr("no evidence for 2026-Q3"));
  const Reply r = h.press_latest("lena", "evidence.accept");
  EXPECT_FALSE(r.error) << r.text;
  EXPECT_THAT(h.command("lena", "coverage AC-01").text, Not(HasSubstr("2026-Q3")));
  EXPECT_TRUE(h.press("bob", "evidence.accept", "EV-1").error);
}

TEST_F(ControlMatrixTest, AcceptedAskRecordsEvidenceForItsPeriod) {
  h.command("lena", "ask @bob AC-01 \"Q2 access review\" due 2026-12-11 period 2026-Q2");
  h.press_latest("bob", "ask.submit", {{"link", "https://drive.example/q2.pdf"}});
  h.press_latest("lena", "ask.accept");
  const auto ev = h.item("EV-1");
  EXPECT_EQ(ev.at("control"), "AC-01");
  EXPECT_EQ(ev.at("period"), "2026-Q2");
  EXPECT_EQ(ev.at("period_start"), "2026-04-01");
  EXPECT_EQ(ev.at("status"), "accepted");
  EXPECT_EQ(ev.at("source"), "ASK-1");
  EXPECT_THAT(h.command("lena", "coverage AC-01").text, Not(HasSubstr("2026-Q2")));
}

TEST_F(ControlMatrixTest, FreshnessPassAsksOnceBeforeEvidenceExpires) {
  ASSERT_EQ(
      hook(R"({"control":"AC-01","link":"https://drive.example/q3.pdf","period":"2026-Q3"})").first,
      201);
  auto& fresh = h.app().freshness();
  // Q3 evidence goes stale on 2026-12-31; the lead time is 14 days.
  EXPECT_TRUE(fresh.run_pass(*parse_iso8601("2026-12-16T12:00:00Z")).empty());
  const auto created = fresh.run_pass(*parse_iso8601("2026-12-17T12:00:00Z"));
  ASSERT_EQ(created.size(), 1u);
  h.deliver();
  const auto ask = h.item(created[0]);
  EXPECT_EQ(ask.at("owner"), "bob");
  EXPECT_EQ(ask.at("control"), "AC-01");
  EXPECT_EQ(ask.at("due"), "2026-12-31");
  EXPECT_EQ(ask.at("period"), "2026-Q4");
  EXPECT_EQ(ask.at("created_by"), "system");
  EXPECT_EQ(h.sent_to("bob").back().title, "Evidence needed: " + created[0]);
  // Once: later passes and a restart do not ask again.
  EXPECT_TRUE(fresh.run_pass(*parse_iso8601("2026-12-18T12:00:00Z")).empty());
  h.restart_app();
  EXPECT_TRUE(h.app().freshness().run_pass(*parse_iso8601("2026-12-20T12:00:00Z")).empty());
}

TEST(EvidencePeriods, ParseAndCadence) {
  auto q = parse_period("2026-Q3");
  ASSERT_TRUE(q);
  EXPECT_EQ(format_date(q->start), "2026-07-01");
  EXPECT_EQ(format_date(q->end), "2026-09-30");
  EXPECT_EQ(format_date(parse_period("2026-02")->end), "2026-02-28");
  EXPECT_EQ(format_date(parse_period("2026")->end), "2026-12-31");
  EXPECT_FALSE(parse_period("2026-Q5"));
  EXPECT_FALSE(parse_period("2026-09-30..2026-07-01"));
  const auto months =
      cadence_periods("monthly", *parse_date("2026-01-15"), *parse_date("2026-03-02"));
  ASSERT_EQ(months.size(), 3u);
  EXPECT_EQ(months[2].label, "2026-03");
  EXPECT_EQ(format_date(*expiry_for("annual", *parse_date("2025-12-31"))), "2026-12-31");
  EXPECT_EQ(format_date(*expiry_for("monthly", *parse_date("2026-01-31"))), "2026-02-28");
  EXPECT_FALSE(expiry_for("one-time", *parse_date("2026-01-31")));
}

}  // namespace
}  // namespace auditbot::test
