// The program's done-when scenario through the real binary: import the sample matrix and the
// auditor's 20-row list, track a message from the auditor channel, route it by control id,
// the owner submits, the liaison reviews and sends, and the auditor channel hears statuses
// only; coverage names the missing quarter and a signed evidence hook fills it. Bad rows in
// either import write nothing and name the row and field.
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
#include <sstream>

#include "bot/app/app.hpp"
#include "bot/http_server.hpp"
#include "handlers/csv.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSource = AUDITBOT_SOURCE_DIR;
const std::string kMatrix = kSource + "/config/sample-matrix.yaml";
const std::string kRequests = kSource + "/tests/data/auditor_requests.csv";
const std::string kHookSecret = "program-hook-secret-0123";

// The sample matrix's owners, a liaison, an approver and the external auditor.
std::string config_yaml() {
  return R"(org:
  id: program
  name: "Program Test Co"
  timezone: America/New_York
channels:
  compliance: compliance
  auditor: audit-fieldwork
  leadership: leadership
observation_window: {start: 2026-01-01, end: 2026-09-30}
evidence:
  hook_status: accepted
  hooks:
    - {id: ci, secret: ")" +
         kHookSecret + R"("}
requests:
  sla_business_days: 5
people:
  - {id: alice, name: "Alice Moreno", email: alice@program.example, roles: [admin]}
  - {id: lena, name: "Lena Fischer", email: lena@program.example, roles: [liaison]}
  - {id: bob, name: "Bob Li", email: bob@program.example}
  - {id: kenji, name: "Kenji Sato", email: kenji@program.example}
  - {id: dana, name: "Dana Okafor", email: dana@program.example, roles: [approver]}
  - {id: ava, name: "Ava Brooks", email: ava@ledger.example, roles: [auditor]}
)";
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

// Everything the console printed for the auditor channel: each ">> #auditor" block.
std::string auditor_channel(const std::string& out) {
  std::istringstream lines(out);
  std::string line, seen;
  bool in = false;
  while (std::getline(lines, line)) {
    if (line.rfind(">> ", 0) == 0) {
      in = line.rfind(">> #auditor", 0) == 0;
      if (in) seen += line + "\n";
      continue;
    }
    if (in && line.rfind("   ", 0) == 0) {
      seen += line + "\n";
    } else {
      in = false;
    }
  }
  return seen;
}

class ProgramScript : public ::testing::Test {
 protected:
  ProgramScript() : config_path(redis.dir() + "/program.yaml") {
    write_file(config_path, config_yaml());
  }
  std::map<std::string, std::string> env() const { return {{"REDIS_URL", redis.url()}}; }
  ProcessResult run(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), AUDITBOT_BINARY);
    args.push_back("--config");
    args.push_back(config_path);
    return run_process(args, env(), input);
  }
  ProcessResult console(const std::string& script) { return run({"console"}, script); }
  // Rows of a CSV export, header included (history cells hold line breaks inside quotes).
  static std::size_t rows_of(const std::string& text) { return csv::parse(text).size(); }

  // POST /hooks/evidence over real HTTP to the routes `serve` mounts, against the same Redis.
  int push_evidence(const std::string& body) {
    Config cfg = load_config(config_path, [this](const std::string& name) {
      return name == "REDIS_URL" ? std::optional<std::string>(redis.url()) : std::nullopt;
    });
    SystemClock clock;
    App app(cfg, clock);
    HttpServer server(HttpServerOptions{}, app.http_routes());
    const auto port = server.start();
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
    timeval tv{};
    tv.tv_sec = 10;
    ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const std::string ts = std::to_string(unix_seconds(clock.now()));
    HttpRequest req{http::verb::post, "/hooks/evidence", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set("X-Auditbot-Hook", "ci");
    req.set("X-Auditbot-Timestamp", ts);
    req.set("X-Auditbot-Signature", "v1=" + hmac_hex(kHookSecret, "v1:" + ts + ":" + body));
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    HttpResponse res;
    http::read(stream, buffer, res);
    server.stop();
    return static_cast<int>(res.result_int());
  }

  RedisServer redis;
  std::string config_path;
};

TEST_F(ProgramScript, TrackedAuditorMessageIsRoutedSubmittedSentAndCoverageIsFilledByAHook) {
  auto r = run({"import", "controls", kMatrix});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported 36 controls"));
  r = run({"import", "requests", kRequests});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("imported 20 requests (REQ-1 to REQ-20)"));

  r = console(
      "# the auditor posts in the shared channel and tracks the message\n"
      "/as ava\n"
      "/track For AC-01, please send the Q3 2026 user access review with evidence of "
      "removals.\n"
      "# the control owner submits, with a note meant for the liaison only\n"
      "/as bob\n"
      "/soc2 request REQ-21 submit https://drive.example/ar-2026-q3.pdf \"pulled from Okta by "
      "Bob; two removals were late\"\n"
      "# the liaison adds an internal note, reviews and sends\n"
      "/as lena\n"
      "/soc2 request REQ-21 note \"Kenji to double-check the late removals\"\n"
      "/soc2 request REQ-21 send\n"
      "/soc2 request REQ-21\n"
      "/soc2 coverage AC-01\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& out = r.out;
  EXPECT_THAT(out, HasSubstr("#auditor <ava> For AC-01, please send"));
  EXPECT_THAT(out, HasSubstr("↳ Tracking this message as REQ-21."));
  // Routed by the control id in the text to AC-01's owner.
  EXPECT_THAT(out, HasSubstr(">> DM to bob (Bob Li)\n   *Auditor request REQ-21*"));
  EXPECT_THAT(out, HasSubstr("↳ Submitted evidence for REQ-21"));
  EXPECT_THAT(out,
              HasSubstr(">> DM to lena (Lena Fischer)\n   *Request evidence to review: REQ-21*"));
  EXPECT_THAT(out, HasSubstr("↳ Sent the evidence for REQ-21 to the auditor."));
  EXPECT_THAT(out, HasSubstr("REQ-21 · sent"));
  EXPECT_THAT(out, HasSubstr("Owner: Bob Li (@bob)"));
  EXPECT_THAT(out, Not(HasSubstr(" ! ")));

  // The auditor channel heard the statuses and the evidence link, nothing internal.
  const std::string auditor = auditor_channel(out);
  EXPECT_THAT(auditor, HasSubstr("*Received 20 requests*"));
  EXPECT_THAT(auditor, HasSubstr("*REQ-21: received*"));
  EXPECT_THAT(auditor, HasSubstr("*REQ-21: in progress*"));
  EXPECT_THAT(auditor, HasSubstr("*REQ-21: evidence sent*"));
  EXPECT_THAT(auditor, HasSubstr("Evidence: https://drive.example/ar-2026-q3.pdf"));
  // Each status of the tracked message is a reply in its thread; the import summary is not.
  for (const char* status : {"received", "in progress", "evidence sent"}) {
    EXPECT_THAT(auditor, ContainsRegex(">> #auditor \\(reply in thread console-[0-9a-f]+\\)\n"
                                       "   \\*REQ-21: " +
                                       std::string(status) + "\\*"))
        << status;
  }
  EXPECT_THAT(auditor, HasSubstr(">> #auditor\n   *Received 20 requests*"));
  for (const char* internal : {"Bob", "bob", "Kenji", "kenji", "Lena", "lena", "Okta",
                               "late removals", "two removals were late", "Owner", "Note"}) {
    EXPECT_THAT(auditor, Not(HasSubstr(internal))) << auditor;
  }

  // Coverage: AC-01's quarterly review has no evidence for any quarter of the window yet.
  EXPECT_THAT(out, HasSubstr("no evidence for 2026-Q3"));
  EXPECT_THAT(out, HasSubstr("no evidence for 2026-Q1"));

  // Automation pushes the Q3 export through the signed hook; Q3 is covered, Q1 and Q2 not.
  EXPECT_EQ(push_evidence(R"({"control":"AC-01","link":"https://ci.example/runs/4711",)"
                          R"("period":"2026-Q3","note":"nightly IdP export"})"),
            201);
  r = console("/as lena\n/soc2 coverage AC-01\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("no evidence for 2026-Q3")));
  EXPECT_THAT(r.out, HasSubstr("no evidence for 2026-Q2"));

  const auto exported = run({"export", "requests"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(rows_of(exported.out), 22u);  // the header and 21 requests
  EXPECT_THAT(exported.out, HasSubstr("REQ-21,,\"For AC-01"));
  const auto verify = run({"audit-log", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

TEST_F(ProgramScript, BadRowsInEitherImportWriteNothingAndNameRowAndField) {
  // Row 8 of the auditor's list has a due date nobody can read.
  std::string list = read_file(kRequests);
  const auto at = list.find("2027-01-12,As of 2026-09-30,Medium,Screenshot");
  ASSERT_NE(at, std::string::npos);
  list.replace(at, 10, "end of Jan");
  const std::string bad_list = redis.dir() + "/bad_requests.csv";
  write_file(bad_list, list);
  auto r = run({"import", "requests", bad_list});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("row 8, field due date: 'end of Jan' is not a date"));

  // The matrix with one control owned by somebody who does not exist.
  std::string matrix = read_file(kMatrix);
  const auto owner = matrix.find("owner: kenji");
  ASSERT_NE(owner, std::string::npos);
  matrix.replace(owner, 12, "owner: zoe");
  const std::string bad_matrix = redis.dir() + "/bad_matrix.yaml";
  write_file(bad_matrix, matrix);
  r = run({"import", "controls", bad_matrix});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("field owner"));
  EXPECT_THAT(r.err, HasSubstr("zoe"));

  // Nothing was written: no controls, no requests, no audit entries.
  EXPECT_EQ(rows_of(run({"export", "requests"}).out), 1u);
  EXPECT_THAT(run({"export", "controls", "--format", "csv"}).out, Not(HasSubstr("AC-01")));
  redis::Client c(redis.client_options());
  EXPECT_EQ(c.command({"XLEN", "auditbot:{program}:audit"}).as_integer(), 0);

  // The same files, fixed, import fine.
  EXPECT_EQ(run({"import", "controls", kMatrix}).exit_code, 0);
  EXPECT_EQ(run({"import", "requests", kRequests}).exit_code, 0);
}

}  // namespace
}  // namespace auditbot::test
