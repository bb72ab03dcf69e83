// The admin API and the evidence hook as a script on the network sees them: real HTTP on a
// loopback port, real Redis behind it; wrong tokens and bad bodies change nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "bot/app/admin_api.hpp"
#include "bot/http_server.hpp"
#include "handlers/csv.hpp"
#include "tests/support/harness.hpp"

namespace auditbot::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kToken = "admin-token-for-tests-0123456789";
const std::string kHookSecret = "hook-secret-0123456789";

struct Answer {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string www_authenticate;
};

// One request per connection, with a receive timeout so a silent server fails the test.
Answer call(unsigned short port, http::verb method, const std::string& target,
            const std::string& body = "", std::map<std::string, std::string> headers = {}) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
  timeval tv{};
  tv.tv_sec = 10;
  ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  HttpRequest req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers)
    req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  HttpResponse res;
  http::read(stream, buffer, res);
  return {static_cast<int>(res.result_int()), res.body(),
          std::string(res[http::field::content_type]),
          std::string(res[http::field::www_authenticate])};
}

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    static const char* digits = "0123456789abcdef";
    hex += digits[out[i] >> 4];
    hex += digits[out[i] & 15];
  }
  return hex;
}

class AdminApi : public ::testing::Test {
 protected:
  explicit AdminApi(std::string token = kToken)
      : h([token](Config& c) {
          c.admin_token = token;
          c.evidence_hooks = {{"ci", kHookSecret}};
          c.evidence_hook_status = "accepted";
          c.observation_start = "2026-01-01";
          c.observation_end = "2026-09-30";
        }) {
    server = std::make_unique<HttpServer>(HttpServerOptions{}, h.app().http_routes());
    port = server->start();
  }
  ~AdminApi() override { server->stop(); }

  Answer get(const std::string& target, const std::string& token = kToken) {
    return call(port, http::verb::get, target, "", auth(token));
  }
  Answer post(const std::string& target, const std::string& body, const std::string& token = kToken,
              const std::string& type = "") {
    auto headers = auth(token);
    if (!type.empty()) headers["Content-Type"] = type;
    return call(port, http::verb::post, target, body, headers);
  }
  static std::map<std::string, std::string> auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }
  Answer hook(const std::string& body, const std::string& secret = kHookSecret) {
    const std::string ts = std::to_string(unix_seconds(h.clock().now()));
    return call(port, http::verb::post, "/hooks/evidence", body,
                {{"Content-Type", "application/json"},
                 {"X-Auditbot-Hook", "ci"},
                 {"X-Auditbot-Timestamp", ts},
                 {"X-Auditbot-Signature", "v1=" + hmac_hex(secret, "v1:" + ts + ":" + body)}});
  }

  struct Snapshot {
    std::int64_t keys;
    std::size_t audit;
  };
  Snapshot snapshot() { return {h.redis_key_count(), h.audit_entries().size()}; }
  void expect_unchanged(const Snapshot& s) {
    EXPECT_EQ(h.redis_key_count(), s.keys);
    EXPECT_EQ(h.audit_entries().size(), s.audit);
  }

  Harness h;
  std::unique_ptr<HttpServer> server;
  unsigned short port = 0;
};

class AdminApiWithoutToken : public AdminApi {
 protected:
  AdminApiWithoutToken() : AdminApi("") {}
};

std::string auditor_list() {
  std::string text = "Request ID,Request Description,TSC Reference,Due Date\r\n";
  text += csv::line({"PBC-1", "Population of terminated users", "CC6.2", "2026-12-15"});
  text += csv::line({"PBC-2", "Change tickets sample", "CC8.1", "12/16/2026"});
  text += csv::line({"PBC-3", "Board minutes", "", ""});
  return text;
}

TEST(AdminTokenTest, MatchesOnlyTheExactBearerToken) {
  EXPECT_TRUE(admin_token_matches("Bearer secret-token", "secret-token"));
  EXPECT_TRUE(admin_token_matches("bearer secret-token", "secret-token"));
  EXPECT_FALSE(admin_token_matches("Bearer secret-tokem", "secret-token"));
  EXPECT_FALSE(admin_token_matches("Bearer secret", "secret-token"));
  EXPECT_FALSE(admin_token_matches("Bearer secret-token-and-more", "secret-token"));
  EXPECT_FALSE(admin_token_matches("Basic secret-token", "secret-token"));
  EXPECT_FALSE(admin_token_matches("secret-token", "secret-token"));
  EXPECT_FALSE(admin_token_matches("", "secret-token"));
  EXPECT_FALSE(admin_token_matches("Bearer ", ""));
}

TEST_F(AdminApiWithoutToken, EveryRouteIs503AndSaysWhy) {
  for (const char* path : {"/api/v1/controls", "/api/v1/requests", "/api/v1/audit-log"}) {
    const auto a = get(path, "anything");
    EXPECT_EQ(a.status, 503) << path;
    EXPECT_THAT(a.body, HasSubstr("AUDITBOT_ADMIN_TOKEN is not set"));
  }
  const auto before = snapshot();
  EXPECT_EQ(post("/api/v1/requests", auditor_list(), "").status, 503);
  expect_unchanged(before);
}

TEST_F(AdminApi, MissingOrWrongTokenIs401AndWritesNothing) {
  const auto before = snapshot();
  for (const std::string& token : {std::string(), std::string("wrong"),
                                   kToken.substr(0, kToken.size() - 1) + "x", kToken + "x"}) {
    auto a = get("/api/v1/controls", token);
    EXPECT_EQ(a.status, 401) << token;
    EXPECT_EQ(a.www_authenticate, "Bearer");
    EXPECT_THAT(a.body, Not(HasSubstr("AC-01")));
    a = post("/api/v1/requests", auditor_list(), token);
    EXPECT_EQ(a.status, 401);
  }
  const auto basic =
      call(port, http::verb::get, "/api/v1/audit-log", "", {{"Authorization", "Basic " + kToken}});
  EXPECT_EQ(basic.status, 401);
  expect_unchanged(before);
}

TEST_F(AdminApi, ControlsExportAsYamlAndCsvAndACsvImportRoundTrips) {
  const auto yaml = get("/api/v1/controls");
  ASSERT_EQ(yaml.status, 200) << yaml.body;
  EXPECT_THAT(yaml.body, HasSubstr("AC-01"));
  EXPECT_THAT(yaml.body, HasSubstr("Quarterly user access review"));
  const auto csv = get("/api/v1/controls?format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type, "text/csv");
  EXPECT_THAT(csv.body, HasSubstr("id,title,criteria,owner"));

  // Kenji takes over AC-01: edit the exported CSV and send it back.
  std::string edited = csv.body;
  const auto at = edited.find("CC6.1 CC6.2,bob");
  ASSERT_NE(at, std::string::npos) << edited;
  edited.replace(at, 15, "CC6.1 CC6.2,kenji");
  const auto imported = post("/api/v1/controls?format=csv", edited);
  ASSERT_EQ(imported.status, 200) << imported.body;
  EXPECT_THAT(imported.body, HasSubstr("\"imported\":2"));
  EXPECT_THAT(imported.body, HasSubstr("\"changed\":1"));
  EXPECT_THAT(get("/api/v1/controls").body, HasSubstr("owner: kenji"));
  EXPECT_EQ(h.audit_entries().back().actor, "admin-api");

  // YAML import works the same way (and exporting it again gives the same text).
  const std::string yaml_now = get("/api/v1/controls").body;
  const auto again = post("/api/v1/controls", yaml_now, kToken, "application/yaml");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_THAT(again.body, HasSubstr("\"changed\":0"));
  EXPECT_EQ(get("/api/v1/controls").body, yaml_now);
}

TEST_F(AdminApi, MalformedOrBadControlsAre400WithTheReasonAndWriteNothing) {
  const auto before = snapshot();
  auto a = post("/api/v1/controls", "controls: [ {id: AC-09, title: \"x\"");
  EXPECT_EQ(a.status, 400);
  EXPECT_THAT(a.body, HasSubstr("error"));

  std::string csv = get("/api/v1/controls?format=csv").body;
  csv += csv::line({"AC-09", "Badge access", "CC6.4", "zed", "quarterly: Badge log", "", ""});
  a = post("/api/v1/controls", csv, kToken, "text/csv");
  EXPECT_EQ(a.status, 400);
  EXPECT_THAT(a.body, HasSubstr("row 4"));
  EXPECT_THAT(a.body, HasSubstr("owner"));
  expect_unchanged(before);
  EXPECT_THAT(get("/api/v1/controls").body, Not(HasSubstr("AC-09")));
}

TEST_F(AdminApi, RequestsImportAllOrNothingAndExportWithHistory) {
  auto a = post("/api/v1/requests", auditor_list(), kToken, "text/csv");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_THAT(a.body, HasSubstr("\"imported\":3"));
  EXPECT_THAT(a.body, HasSubstr("\"REQ-1\""));
  EXPECT_EQ(h.item("REQ-1").at("external_id"), "PBC-1");
  EXPECT_EQ(h.item("REQ-2").at("due"), "2026-12-16");
  EXPECT_EQ(h.item("REQ-1").at("owner"), "bob");

  const auto before = snapshot();
  std::string bad = "Request ID,Request Description,Due Date\r\n";
  bad += csv::line({"PBC-7", "Firewall rules", "2026-12-20"});
  bad += csv::line({"PBC-8", "Pen test report", "next week"});
  a = post("/api/v1/requests", bad);
  EXPECT_EQ(a.status, 400);
  EXPECT_THAT(a.body, HasSubstr("row 3, field due date"));
  // Re-sending an id that is already logged is refused too.
  a = post("/api/v1/requests", auditor_list());
  EXPECT_EQ(a.status, 400);
  EXPECT_THAT(a.body, HasSubstr("already logged as REQ-1"));
  a = post("/api/v1/requests", "", kToken);
  EXPECT_EQ(a.status, 400);
  expect_unchanged(before);

  // A column mapping for an unusual header, passed in the query.
  a = post("/api/v1/requests?map=description%3DWhat%20we%20need",
           "Ref,What we need\r\nX-1,SOC report\r\n");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(h.item("REQ-4").at("text"), "SOC report");

  const auto exported = get("/api/v1/requests");
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.content_type, "text/csv");
  EXPECT_THAT(exported.body, HasSubstr("REQ-1,PBC-1,Population of terminated users"));
  EXPECT_THAT(exported.body, HasSubstr("REQ-4,X-1,SOC report"));
}

TEST_F(AdminApi, EvidenceImportValidatesEveryRecordFirst) {
  const auto before = snapshot();
  auto a = post("/api/v1/evidence",
                R"([{"control":"AC-01","link":"https://drive.example/q1.pdf","period":"2026-Q1"},
                    {"control":"AC-01","link":"https://drive.example/q2.pdf","period":"Q2"}])");
  EXPECT_EQ(a.status, 400);
  EXPECT_THAT(a.body, HasSubstr("record 2, field period"));
  a = post("/api/v1/evidence", R"({"control":"AC-01"})");
  EXPECT_EQ(a.status, 400);
  EXPECT_THAT(a.body, HasSubstr("JSON array"));
  a = post("/api/v1/evidence", "not json");
  EXPECT_EQ(a.status, 400);
  a = post("/api/v1/evidence",
           R"([{"control":"ZZ-01","link":"https://x.example/a","period":"2026"}])");
  EXPECT_EQ(a.status, 400);
  EXPECT_THAT(a.body, HasSubstr("record 1, field control"));
  expect_unchanged(before);

  a = post("/api/v1/evidence",
           R"([{"control":"AC-01","link":"https://drive.example/q1.pdf","period":"2026-Q1"},
               {"control":"AC-01","link":"https://drive.example/q2.pdf","period":"2026-Q2",
                "note":"signed"}])");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_THAT(a.body, HasSubstr("\"imported\":2"));
  EXPECT_EQ(h.audit_entries().back().action, "evidence.imported");
  const auto exported = get("/api/v1/evidence");
  ASSERT_EQ(exported.status, 200);
  EXPECT_THAT(exported.body, HasSubstr("https://drive.example/q2.pdf"));
  // The imported quarters count for coverage; Q3 is still missing.
  const Reply cov = h.command("lena", "coverage AC-01");
  EXPECT_THAT(cov.text, HasSubstr("2026-Q3"));
  EXPECT_THAT(cov.text, Not(HasSubstr("2026-Q1")));
}

TEST_F(AdminApi, AuditLogIsJsonInPagesThatChain) {
  ASSERT_FALSE(h.command("lena", "request add \"Board minutes\" control AC-01").error);
  ASSERT_FALSE(h.command("lena", "request add \"HR list\" control CM-01").error);
  const auto all = get("/api/v1/audit-log");
  ASSERT_EQ(all.status, 200) << all.body;
  const auto j = nlohmann::json::parse(all.body);
  ASSERT_EQ(j["entries"].size(), 3u);  // seeded controls + two requests
  EXPECT_EQ(j["entries"][1]["action"], "request.created");
  EXPECT_EQ(j["entries"][1]["item"], "REQ-1");
  EXPECT_EQ(j["entries"][1]["detail"]["owner"], "bob");
  EXPECT_EQ(j["entries"][2]["prev"], j["entries"][1]["hash"]);
  EXPECT_EQ(j["next"], "");

  const auto page = nlohmann::json::parse(get("/api/v1/audit-log?limit=2").body);
  ASSERT_EQ(page["entries"].size(), 2u);
  const std::string next = page["next"];
  const auto rest = nlohmann::json::parse(get("/api/v1/audit-log?limit=2&after=" + next).body);
  ASSERT_EQ(rest["entries"].size(), 1u);
  EXPECT_EQ(rest["entries"][0]["item"], "REQ-2");
  EXPECT_EQ(get("/api/v1/audit-log?limit=0").status, 400);
  EXPECT_EQ(get("/api/v1/audit-log?after=x;DROP").status, 400);
}

TEST_F(AdminApi, FindingsExportAsText) {
  ASSERT_FALSE(
      h.command("lena", "finding add \"MFA was not enforced for two admins\" control AC-01").error);
  const auto a = get("/api/v1/findings");
  ASSERT_EQ(a.status, 200);
  EXPECT_THAT(a.body, HasSubstr("Finding F-1"));
  EXPECT_THAT(a.body, HasSubstr("MFA was not enforced"));
}

TEST_F(AdminApi, SignedEvidenceHookOverHttpFillsTheQuarter) {
  EXPECT_THAT(h.command("lena", "coverage AC-01").text, HasSubstr("2026-Q3"));
  const std::string body =
      R"({"control":"AC-01","link":"https://ci.example/runs/981","period":"2026-Q3","note":"nightly export"})";
  const auto before = snapshot();
  auto a = hook(body, "not-the-secret-0000");
  EXPECT_EQ(a.status, 401);
  EXPECT_THAT(a.body, HasSubstr("bad signature"));
  a = hook(R"({"control":"ZZ-01","link":"https://ci.example/runs/1","period":"2026-Q3"})");
  EXPECT_EQ(a.status, 422);
  EXPECT_THAT(a.body, HasSubstr("unknown control"));
  expect_unchanged(before);

  a = hook(body);
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_THAT(a.body, HasSubstr("\"status\":\"accepted\""));
  EXPECT_EQ(h.audit_entries().back().action, "evidence.pushed");
  EXPECT_THAT(h.command("lena", "coverage AC-01").text, Not(HasSubstr("2026-Q3")));
}

}  // namespace
}  // namespace auditbot::test
