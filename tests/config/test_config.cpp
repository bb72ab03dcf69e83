// Configuration loading: defaults, the shipped example, strict keys, environment overrides
// (SPEC names, generic names, NAME_FILE secrets) and errors that name the offending key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "bot/errors.hpp"
#include "config/config.hpp"

namespace auditbot {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "auditbot-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    auto path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }

  EnvLookup env() const {
    return [vars = env_](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) {
        return std::nullopt;
      }
      return it->second;
    };
  }

  // The message of the ConfigError that loading `yaml` throws ("" when it loads).
  std::string error_for(const std::string& yaml) {
    auto path = write("auditbot.yaml", yaml);
    try {
      load_config(path, env());
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(ConfigTest, EmptyPathGivesDefaults) {
  auto cfg = load_config("", env());
  EXPECT_EQ(cfg.source_path, "");
  EXPECT_EQ(cfg.org_id, "default");
  EXPECT_EQ(cfg.org_timezone, "UTC");
  EXPECT_EQ(cfg.listen, "0.0.0.0:8080");
  EXPECT_EQ(cfg.log_level, "info");
  EXPECT_EQ(cfg.log_format, "text");
  EXPECT_EQ(cfg.redis_url, "redis://127.0.0.1:6379/0");
  EXPECT_EQ(cfg.slack_api_url, "https://slack.com/api/");
  EXPECT_EQ(cfg.teams_service_url_allowlist.size(), 4u);
  EXPECT_EQ(cfg.working_hours.start_minute, 9 * 60);
  EXPECT_EQ(cfg.working_hours.end_minute, 17 * 60);
  EXPECT_EQ(cfg.working_hours.days, (std::set<int>{1, 2, 3, 4, 5}));
  EXPECT_EQ(cfg.evidence_default_sla_business_days, 5);
  EXPECT_TRUE(cfg.people.empty());
  EXPECT_FALSE(cfg.slack_configured());
  EXPECT_FALSE(cfg.teams_configured());
  EXPECT_TRUE(cfg.secrets().empty());
}

TEST_F(ConfigTest, ShippedExampleLoadsWithEveryKey) {
  auto path = std::string(AUDITBOT_SOURCE_DIR) + "/config/auditbot.example.yaml";
  auto cfg = load_config(path, env());
  EXPECT_EQ(cfg.source_path, path);
  EXPECT_EQ(cfg.org_id, "acme");
  EXPECT_EQ(cfg.org_name, "Acme Corp");
  EXPECT_EQ(cfg.org_timezone, "Europe/London");
  EXPECT_EQ(cfg.channels.at("auditor"), "C0AUDITOR");
  EXPECT_EQ(cfg.holidays, (std::vector<std::string>{"2026-12-25", "2026-12-28", "2027-01-01"}));
  EXPECT_EQ(cfg.controls_file, std::string(AUDITBOT_SOURCE_DIR) + "/config/demo/controls.yaml");
  EXPECT_TRUE(fs::exists(cfg.controls_file));
  ASSERT_EQ(cfg.people.size(), 4u);
  const auto& alice = cfg.people[0];
  EXPECT_EQ(alice.id, "alice");
  EXPECT_EQ(alice.name, "Alice Ng");
  EXPECT_EQ(alice.email, "alice@example.com");
  EXPECT_EQ(alice.roles, (std::set<Role>{Role::admin, Role::liaison}));
  EXPECT_EQ(alice.timezone, "Europe/London");
  EXPECT_EQ(alice.manager, "dana");
  EXPECT_EQ(alice.groups, std::vector<std::string>{"engineering"});
  EXPECT_EQ(alice.slack_id, "U0ALICE");
  EXPECT_EQ(cfg.people[2].teams_id, "00000000-0000-0000-0000-0000000000da");
  EXPECT_TRUE(cfg.people[1].roles.empty());
}

TEST_F(ConfigTest, DemoConfigLoads) {
  auto cfg = load_config(std::string(AUDITBOT_SOURCE_DIR) + "/config/auditbot.yaml", env());
  EXPECT_FALSE(cfg.people.empty());
  EXPECT_TRUE(fs::exists(cfg.controls_file)) << cfg.controls_file;
}

TEST_F(ConfigTest, FullFileValuesAreRead) {
  auto path = write("auditbot.yaml", R"(
org: {id: acme-eu, name: "Acme EU", timezone: Asia/Tokyo}
listen: "127.0.0.1:9090"
log: {level: DEBUG, format: json, file: logs/bot.log}
redis: {url: "redis://:hunter22@10.0.0.5:6380/2", sentinels: ["s1:26379", "s2:26379"], master_name: main}
admin_token: admintoken123
ca_file: /etc/ssl/test-ca.pem
http: {body_limit: 2048, header_limit: 1024, read_timeout_seconds: 3}
slack: {bot_token: xoxb-1, signing_secret: sign-secret, app_token: xapp-1, api_url: "http://127.0.0.1:1/api"}
teams: {app_id: app, app_password: teams-pass, tenant_id: t, openid_metadata_url: "https://a/", token_url: "https://b/", service_url_allowlist: ["https://c/"]}
channels: {compliance: C1, security: C9}
working_hours: {start: "08:30", end: "24:00", days: [sun, Monday]}
evidence: {default_sla_business_days: 7}
)");
  auto cfg = load_config(path, env());
  EXPECT_EQ(cfg.org_id, "acme-eu");
  EXPECT_EQ(cfg.listen, "127.0.0.1:9090");
  EXPECT_EQ(cfg.log_level, "debug");
  EXPECT_EQ(cfg.log_format, "json");
  EXPECT_EQ(cfg.log_file, (dir_ / "logs/bot.log").string());
  EXPECT_EQ(cfg.redis_sentinels, (std::vector<std::string>{"s1:26379", "s2:26379"}));
  EXPECT_EQ(cfg.redis_master_name, "main");
  EXPECT_EQ(cfg.ca_file, "/etc/ssl/test-ca.pem");
  EXPECT_EQ(cfg.http_body_limit, 2048u);
  EXPECT_EQ(cfg.http_header_limit, 1024u);
  EXPECT_EQ(cfg.http_read_timeout, std::chrono::seconds(3));
  EXPECT_EQ(cfg.slack_api_url, "http://127.0.0.1:1/api/");  // slash added for method names
  EXPECT_EQ(cfg.teams_service_url_allowlist, std::vector<std::string>{"https://c/"});
  EXPECT_EQ(cfg.channels.at("security"), "C9");
  EXPECT_EQ(cfg.working_hours.start_minute, 8 * 60 + 30);
  EXPECT_EQ(cfg.working_hours.end_minute, 24 * 60);
  EXPECT_EQ(cfg.working_hours.days, (std::set<int>{1, 7}));
  EXPECT_EQ(cfg.evidence_default_sla_business_days, 7);
  EXPECT_TRUE(cfg.slack_configured());
  EXPECT_TRUE(cfg.teams_configured());
  auto secrets = cfg.secrets();
  for (const char* s :
       {"admintoken123", "xoxb-1", "sign-secret", "xapp-1", "teams-pass", "hunter22"}) {
    EXPECT_THAT(secrets, ::testing::Contains(std::string(s)));
  }
}

TEST_F(ConfigTest, UnknownKeysAreNamedWithTheirPathAndFile) {
  auto path = (dir_ / "auditbot.yaml").string();
  EXPECT_EQ(error_for("listen: \"0.0.0.0:1\"\nlisten_port: 8080\n"),
            path + ": unknown key 'listen_port' (line 2)");
  EXPECT_THAT(error_for("slack:\n  bot_tokn: x\n"),
              HasSubstr(path + ": unknown key 'slack.bot_tokn'"));
  EXPECT_THAT(error_for("teams:\n  app_id: a\n  service_urls: []\n"),
              HasSubstr("unknown key 'teams.service_urls'"));
  EXPECT_THAT(error_for("people:\n  - id: bob\n    timezon: UTC\n"),
              HasSubstr("unknown key 'people[0] (bob).timezon'"));
  EXPECT_THAT(error_for("evidence: {default_sla: 3, sla: 4}\n"),
              HasSubstr("unknown keys 'evidence.default_sla', 'evidence.sla'"));
}

TEST_F(ConfigTest, WrongShapesAndValuesNameTheKey) {
  EXPECT_THAT(error_for("slack: xoxb\n"), HasSubstr("slack: expected a map"));
  EXPECT_THAT(error_for("holidays: 2026-12-25\n"), HasSubstr("holidays: expected a list"));
  EXPECT_THAT(error_for("holidays: [2026-02-30]\n"),
              HasSubstr("holidays[0]: '2026-02-30' is not a date"));
  EXPECT_THAT(error_for("http: {body_limit: lots}\n"),
              HasSubstr("http.body_limit: expected a whole number, got 'lots'"));
  EXPECT_THAT(error_for("evidence: {default_sla_business_days: 0}\n"),
              HasSubstr("evidence.default_sla_business_days: must be between 1 and 365"));
  EXPECT_THAT(error_for("working_hours: {start: \"17:00\", end: \"09:00\"}\n"),
              HasSubstr("working_hours.end: must be later than working_hours.start"));
  EXPECT_THAT(error_for("working_hours: {start: \"9am\"}\n"),
              HasSubstr("working_hours.start: '9am' is not a time of day"));
  EXPECT_THAT(error_for("working_hours: {days: [mon, funday]}\n"),
              HasSubstr("working_hours.days: unknown day 'funday'"));
  EXPECT_THAT(error_for("org: {timezone: Mars/Base}\n"),
              HasSubstr("org.timezone: unknown time zone 'Mars/Base'"));
  EXPECT_THAT(error_for("log: {level: loud}\n"), HasSubstr("log.level: unknown level 'loud'"));
  EXPECT_THAT(error_for("redis: {sentinels: [\"s1:26379\"]}\n"),
              HasSubstr("redis.master_name: required when redis.sentinels is set"));
  EXPECT_THAT(error_for("slack: {api_url: \"ftp://x\"}\n"),
              HasSubstr("slack.api_url: 'ftp://x' is not an http(s) URL"));
  EXPECT_THAT(error_for("- a\n- b\n"), HasSubstr("top level must be a map"));
  EXPECT_THAT(error_for("org: {id: a, id: b}\n"), HasSubstr("org.id: key appears twice"));
  EXPECT_THAT(error_for("org: [\n"), HasSubstr("not valid YAML"));
}

TEST_F(ConfigTest, ListenMustBeHostAndPort) {
  EXPECT_EQ(error_for("listen: \"[::1]:8080\"\n"), "");
  EXPECT_EQ(error_for("listen: \"127.0.0.1:0\"\n"), "");
  for (const char* bad : {"8080", "localhost", ":8080", "host:", "host:70000", "host:80x"}) {
    EXPECT_THAT(error_for(std::string("listen: \"") + bad + "\"\n"),
                HasSubstr(std::string("listen: '") + bad + "' is not host:port"))
        << bad;
  }
}

TEST_F(ConfigTest, PersonProblemsNameIndexAndId) {
  const std::string head = "people:\n  - {id: alice}\n  - {id: carol}\n";
  EXPECT_THAT(error_for(head + "  - {id: bob, timezone: Mars/Base}\n"),
              HasSubstr("people[2] (bob).timezone: unknown time zone 'Mars/Base'"));
  EXPECT_THAT(error_for(head + "  - {id: bob, roles: [admin, boss]}\n"),
              HasSubstr("people[2] (bob).roles: unknown role 'boss'"));
  EXPECT_THAT(error_for(head + "  - {id: bob, manager: zed}\n"),
              HasSubstr("people[2] (bob).manager: unknown manager 'zed'"));
  EXPECT_THAT(error_for(head + "  - {id: Alice}\n"),
              HasSubstr("people[2] (Alice).id: duplicate person id 'Alice' (also people[0] "
                        "(alice))"));
  EXPECT_THAT(error_for(head + "  - {name: Nobody}\n"),
              HasSubstr("people[2].id: every person needs an id"));
  EXPECT_THAT(error_for(head + "  - {id: bob, email: not-an-email}\n"),
              HasSubstr("people[2] (bob).email: 'not-an-email' is not an email address"));
  EXPECT_THAT(error_for(head + "  - {id: bob, roles: admin}\n"),
              HasSubstr("people[2] (bob).roles: expected a list"));
  EXPECT_THAT(error_for("people:\n  - {id: a, slack_id: U1}\n  - {id: b, slack_id: U1}\n"),
              HasSubstr("people[1] (b).slack_id: duplicate slack_id 'U1'"));
  // A manager may be listed after the person.
  EXPECT_EQ(error_for("people:\n  - {id: bob, manager: dana}\n  - {id: dana}\n"), "");
}

TEST_F(ConfigTest, RoleNamesRoundTrip) {
  for (auto r : {Role::admin, Role::liaison, Role::approver, Role::auditor}) {
    EXPECT_EQ(parse_role(to_string(r)), r);
  }
  EXPECT_EQ(parse_role("Approver"), Role::approver);
  EXPECT_EQ(parse_role("boss"), std::nullopt);
}

TEST_F(ConfigTest, SpecEnvironmentNamesOverrideTheFile) {
  auto path = write("auditbot.yaml", R"(
listen: "0.0.0.0:8080"
redis: {url: "redis://file:6379/0"}
slack: {bot_token: from-file}
log: {level: info}
)");
  env_ = {{"AUDITBOT_LISTEN", "127.0.0.1:9999"},
          {"REDIS_URL", "redis://:envpass@envhost:6379/1"},
          {"REDIS_SENTINELS", "a:26379, b:26379"},
          {"REDIS_MASTER_NAME", "mymaster"},
          {"SLACK_BOT_TOKEN", "xoxb-env"},
          {"SLACK_SIGNING_SECRET", "env-signing"},
          {"SLACK_API_URL", "http://127.0.0.1:4000/api/"},
          {"TEAMS_APP_ID", "teams-app"},
          {"TEAMS_SERVICE_URL_ALLOWLIST", "https://one/,https://two/"},
          {"AUDITBOT_ADMIN_TOKEN", "adm-token"},
          {"AUDITBOT_CA_FILE", "ca/test.pem"},
          {"AUDITBOT_LOG_LEVEL", "warn"},
          {"AUDITBOT_LOG_FORMAT", "json"}};
  auto cfg = load_config(path, env());
  EXPECT_EQ(cfg.listen, "127.0.0.1:9999");
  EXPECT_EQ(cfg.redis_url, "redis://:envpass@envhost:6379/1");
  EXPECT_EQ(cfg.redis_sentinels, (std::vector<std::string>{"a:26379", "b:26379"}));
  EXPECT_EQ(cfg.redis_master_name, "mymaster");
  EXPECT_EQ(cfg.slack_bot_token, "xoxb-env");
  EXPECT_EQ(cfg.slack_signing_secret, "env-signing");
  EXPECT_EQ(cfg.slack_api_url, "http://127.0.0.1:4000/api/");
  EXPECT_EQ(cfg.teams_app_id, "teams-app");
  EXPECT_EQ(cfg.teams_service_url_allowlist,
            (std::vector<std::string>{"https://one/", "https://two/"}));
  EXPECT_EQ(cfg.admin_token, "adm-token");
  EXPECT_EQ(cfg.ca_file, "ca/test.pem");  // from the environment: relative to the cwd
  EXPECT_EQ(cfg.log_level, "warn");
  EXPECT_EQ(cfg.log_format, "json");
  EXPECT_THAT(cfg.secrets(), ::testing::Contains(std::string("envpass")));
}

TEST_F(ConfigTest, GenericEnvironmentNamesReachEveryScalarKey) {
  env_ = {{"AUDITBOT_ORG__TIMEZONE", "Asia/Tokyo"},
          {"AUDITBOT_ORG__ID", "acme"},
          {"AUDITBOT_EVIDENCE__DEFAULT_SLA_BUSINESS_DAYS", "9"},
          {"AUDITBOT_HTTP__BODY_LIMIT", "4096"},
          {"AUDITBOT_WORKING_HOURS__DAYS", "mon,wed"},
          {"AUDITBOT_HOLIDAYS", "2026-12-25,2026-12-31"},
          {"AUDITBOT_CHANNELS__COMPLIANCE", "C42"},
          {"AUDITBOT_SLACK__BOT_TOKEN", "xoxb-generic"}};
  auto cfg = load_config("", env());
  EXPECT_EQ(cfg.org_timezone, "Asia/Tokyo");
  EXPECT_EQ(cfg.org_id, "acme");
  EXPECT_EQ(cfg.evidence_default_sla_business_days, 9);
  EXPECT_EQ(cfg.http_body_limit, 4096u);
  EXPECT_EQ(cfg.working_hours.days, (std::set<int>{1, 3}));
  EXPECT_EQ(cfg.holidays, (std::vector<std::string>{"2026-12-25", "2026-12-31"}));
  EXPECT_EQ(cfg.channels.at("compliance"), "C42");
  EXPECT_EQ(cfg.slack_bot_token, "xoxb-generic");
}

TEST_F(ConfigTest, SpecNameWinsOverGenericName) {
  env_ = {{"AUDITBOT_SLACK__BOT_TOKEN", "generic"}, {"SLACK_BOT_TOKEN", "spec"}};
  EXPECT_EQ(load_config("", env()).slack_bot_token, "spec");
}

TEST_F(ConfigTest, ChannelNamesFromTheFileAreOverridable) {
  auto path = write("auditbot.yaml", "channels: {security: C1}\n");
  env_ = {{"AUDITBOT_CHANNELS__SECURITY", "C2"}};
  EXPECT_EQ(load_config(path, env()).channels.at("security"), "C2");
}

TEST_F(ConfigTest, EnvironmentValuesAreValidatedLikeTheFile) {
  env_ = {{"AUDITBOT_ORG__TIMEZONE", "Mars/Base"}};
  EXPECT_THROW(
      {
        try {
          load_config("", env());
        } catch (const ConfigError& e) {
          EXPECT_THAT(e.what(), HasSubstr("org.timezone (from AUDITBOT_ORG__TIMEZONE): unknown "
                                          "time zone 'Mars/Base'"));
          throw;
        }
      },
      ConfigError);
  env_ = {{"AUDITBOT_EVIDENCE__DEFAULT_SLA_BUSINESS_DAYS", "soon"}};
  EXPECT_THROW(load_config("", env()), ConfigError);
  env_ = {{"AUDITBOT_LISTEN", "nonsense"}};
  EXPECT_THROW(load_config("", env()), ConfigError);
  env_ = {{"AUDITBOT_WORKING_HOURS__START", "18:00"}};  // later than the default end
  EXPECT_THROW(load_config("", env()), ConfigError);
}

TEST_F(ConfigTest, EnvironmentCanNotOverrideAMapWithAValue) {
  auto path = write("auditbot.yaml", "org: acme\n");
  env_ = {{"AUDITBOT_ORG__ID", "acme"}};
  try {
    load_config(path, env());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("org: expected a map"));
  }
}

TEST_F(ConfigTest, SecretsComeFromFiles) {
  auto token = write("slack-token", "xoxb-from-file\n");
  auto password = write("teams-pass", "teams-secret-value");
  env_ = {{"SLACK_BOT_TOKEN_FILE", token},
          {"TEAMS_APP_PASSWORD_FILE", password},
          {"AUDITBOT_ORG__NAME_FILE", write("org-name", "Acme from file\n")}};
  auto cfg = load_config("", env());
  EXPECT_EQ(cfg.slack_bot_token, "xoxb-from-file");  // trailing newline trimmed
  EXPECT_EQ(cfg.teams_app_password, "teams-secret-value");
  EXPECT_EQ(cfg.org_name, "Acme from file");
}

TEST_F(ConfigTest, NameAndNameFileTogetherIsAnError) {
  env_ = {{"SLACK_BOT_TOKEN", "xoxb-direct"},
          {"SLACK_BOT_TOKEN_FILE", write("t", "xoxb-file-content")}};
  try {
    load_config("", env());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE"));
    EXPECT_THAT(e.what(), Not(HasSubstr("xoxb-direct")));
    EXPECT_THAT(e.what(), Not(HasSubstr("xoxb-file-content")));
  }
}

TEST_F(ConfigTest, UnreadableSecretFileNamesTheVariable) {
  env_ = {{"AUDITBOT_ADMIN_TOKEN_FILE", (dir_ / "missing").string()}};
  try {
    load_config("", env());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("AUDITBOT_ADMIN_TOKEN_FILE"));
  }
  env_ = {{"AUDITBOT_ADMIN_TOKEN_FILE", dir_.string()}};  // a directory cannot be read
  EXPECT_THROW(load_config("", env()), ConfigError);
}

TEST_F(ConfigTest, SecretValuesNeverAppearInErrors) {
  auto path = write("auditbot.yaml", "redis: {url: \"http://:s3cretpass@host/\"}\n");
  try {
    load_config(path, env());
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("redis.url"));
    EXPECT_THAT(e.what(), Not(HasSubstr("s3cretpass")));
  }
}

TEST_F(ConfigTest, RelativeControlsFileResolvesAgainstTheYamlDirectory) {
  fs::create_directories(dir_ / "sub");
  auto path = write("sub/auditbot.yaml", "controls_file: matrix/controls.yaml\n");
  EXPECT_EQ(load_config(path, env()).controls_file,
            (dir_ / "sub" / "matrix" / "controls.yaml").string());
  path = write("abs.yaml", "controls_file: /srv/controls.yaml\n");
  EXPECT_EQ(load_config(path, env()).controls_file, "/srv/controls.yaml");
}

TEST_F(ConfigTest, MissingOrUnreadableFileIsAConfigError) {
  EXPECT_THROW(load_config((dir_ / "nope.yaml").string(), env()), ConfigError);
  EXPECT_THROW(load_config(dir_.string(), env()), ConfigError);  // a directory, not a file
}

TEST_F(ConfigTest, EmptyFileGivesDefaults) {
  EXPECT_EQ(load_config(write("empty.yaml", "# nothing yet\n"), env()).org_id, "default");
}

TEST_F(ConfigTest, ProcessEnvironmentReadsRealVariables) {
  ::setenv("AUDITBOT_TEST_ONLY_VARIABLE", "yes", 1);
  auto lookup = process_environment();
  EXPECT_EQ(lookup("AUDITBOT_TEST_ONLY_VARIABLE"), "yes");
  EXPECT_EQ(lookup("AUDITBOT_TEST_NOT_SET_ANYWHERE"), std::nullopt);
  ::unsetenv("AUDITBOT_TEST_ONLY_VARIABLE");
}

}  // namespace
}  // namespace auditbot
