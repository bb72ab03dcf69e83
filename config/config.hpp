// auditbot's configuration: one YAML file, every key overridable from the environment,
// secrets from the environment or from NAME_FILE paths. Unknown keys stop start-up.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace auditbot {

enum class Role { admin, liaison, approver, auditor };
std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view s);

struct WorkingHours {
  int start_minute = 9 * 60;  // minutes after local midnight
  int end_minute = 17 * 60;
  std::set<int> days{1, 2, 3, 4, 5};  // ISO weekday 1=Mon..7=Sun
};

struct PersonConfig {
  std::string id;     // short handle used in commands: @alice
  std::string name;   // display name
  std::string email;  // links the person across platforms
  std::set<Role> roles;
  std::string timezone;  // IANA name; empty = the organisation's
  std::string manager;   // person id or empty
  std::vector<std::string> groups;
  std::string slack_id;  // optional: Slack user id (U...)
  std::string teams_id;  // optional: Teams AAD object id
  // people[].working_hours: their own hours and business days; unset = the organisation's
  std::optional<WorkingHours> working_hours;
};

// A cadence for items of one kind ("ask", "gap", ...; empty = any) and severity (empty =
// any); reminders.cadence lists them, the first match wins. 0 = the reminders default.
struct CadenceRule {
  std::string kind;
  std::string severity;
  std::vector<int> before_due;  // business days before the due date; empty = default
  bool on_due = true;           // a reminder on the due date itself
  int overdue_every = 0;        // overdue nag every N business days
  int escalate_manager_after = 0;
  int escalate_leadership_after = 0;
};

// Reminder cadence and the escalation ladder (C8); counts are business days.
struct ReminderConfig {
  std::vector<int> before_due{3, 1};  // reminders this many business days before the due date
  int overdue_every = 2;              // overdue nag every N business days
  int overdue_every_critical = 1;     // for items of severity critical (gaps)
  int snooze_max = 2;                 // snoozes allowed per item and person
  int snooze_business_days = 1;       // how long one snooze lasts
  int escalate_manager_after = 2;     // overdue this long: the owner's manager (or approvers)
  int escalate_leadership_after = 5;  // overdue this long: the leadership channel
  std::vector<CadenceRule> cadence;   // per kind and severity, before the defaults above
};

// Self-posted reports (C7): readiness before the audit window, weekly digest.
struct ReportConfig {
  std::string audit_window_start;  // YYYY-MM-DD; empty = not planned yet
  std::vector<int> readiness_days_before{60, 30, 14};
  int digest_weekday = 1;  // ISO weekday, org time zone
  int digest_hour = 9;
};

struct ControlRequirementConfig {
  std::string artifact;
  std::string cadence;  // continuous|monthly|quarterly|annual|one-time
  bool operator==(const ControlRequirementConfig&) const = default;
};

// The system boundary and the sub-service organisations it relies on (SPEC C1).
struct ScopeSystemConfig {
  std::string name;
  std::string description;
};

struct SubserviceOrgConfig {
  std::string name;
  std::string services;                             // what they do for us
  std::string method;                               // inclusive | carve-out
  std::vector<std::string> complementary_controls;  // what a carve-out relies on
};

// A signed automation hook that may push evidence (SPEC C10).
struct EvidenceHookConfig {
  std::string id;      // sent in X-Auditbot-Hook
  std::string secret;  // HMAC-SHA256 key (secret)
};

// A policy in the library (SPEC C5); its text is pinned by SHA-256 (given, or of text_file).
struct PolicyConfig {
  std::string id;  // SEC-01: letters, digits, '.', '_', '-'
  std::string title;
  std::string version;  // "1.0"
  std::string owner;    // person id
  std::string url;
  std::string sha256;     // 64 hex; empty when text_file is given
  std::string text_file;  // hashed at import when sha256 is empty
  std::string effective;  // YYYY-MM-DD
  std::string next_review;
  std::vector<std::string> audience;  // group names; empty = everyone
};

struct Config {
  std::string source_path;  // the YAML file it came from ("" when none)

  // org
  std::string org_id = "default";  // key prefix and hash tag: auditbot:{org_id}:
  std::string org_name = "Our company";
  std::string org_timezone = "UTC";

  // runtime
  std::string listen = "0.0.0.0:8080";  // AUDITBOT_LISTEN
  std::string log_level = "info";       // AUDITBOT_LOG_LEVEL: trace|debug|info|warn|error
  std::string log_format = "text";      // AUDITBOT_LOG_FORMAT: text|json
  std::string log_file;                 // AUDITBOT_LOG_FILE: empty = stderr
  std::string redis_url = "redis://127.0.0.1:6379/0";  // REDIS_URL
  std::vector<std::string> redis_sentinels;            // REDIS_SENTINELS host:port,...
  std::string redis_master_name;                       // REDIS_MASTER_NAME
  std::string admin_token;                             // AUDITBOT_ADMIN_TOKEN (secret)
  std::string ca_file;                                 // AUDITBOT_CA_FILE

  // http limits
  std::size_t http_body_limit = 1 << 20;
  std::size_t http_header_limit = 8 << 10;
  std::chrono::seconds http_read_timeout{10};

  // outbox: a replica's unacknowledged entries go to another after this long idle
  std::chrono::seconds outbox_reclaim_after{90};  // outbox.reclaim_after_seconds

  // slack
  std::string slack_bot_token;                           // SLACK_BOT_TOKEN (secret)
  std::string slack_signing_secret;                      // SLACK_SIGNING_SECRET (secret)
  std::string slack_app_token;                           // SLACK_APP_TOKEN (secret)
  std::string slack_api_url = "https://slack.com/api/";  // SLACK_API_URL
  std::string slack_track_emoji = "pushpin";  // slack.track_emoji: reacting tracks a message

  // teams
  std::string teams_app_id;        // TEAMS_APP_ID
  std::string teams_app_password;  // TEAMS_APP_PASSWORD (secret)
  std::string teams_tenant_id;     // TEAMS_TENANT_ID
  std::string teams_openid_metadata_url =
      "https://login.botframework.com/v1/.well-known/openidconfiguration";
  std::string teams_token_url =
      "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token";
  std::vector<std::string> teams_service_url_allowlist{
      "https://smba.trafficmanager.net/", "https://smba.infra.gcc.teams.microsoft.com/",
      "https://smba.infra.gov.teams.microsoft.us/", "https://smba.infra.dod.teams.microsoft.us/"};

  // chat places: logical name -> platform channel id (console prints the logical name)
  std::map<std::string, std::string> channels;  // compliance, auditor, leadership

  // calendar
  WorkingHours working_hours;
  std::vector<std::string> holidays;  // YYYY-MM-DD, organisation-wide

  // program
  std::string controls_file;  // controls imported at start-up when the store has none
  int evidence_default_sla_business_days = 5;
  ReminderConfig reminders;
  ReportConfig reports;
  int evidence_refresh_lead_days = 14;             // ask this long before evidence expires
  std::string evidence_hook_status = "in_review";  // accepted | in_review
  std::vector<EvidenceHookConfig> evidence_hooks;
  std::string observation_start;  // Type II window, YYYY-MM-DD ("" = none)
  std::string observation_end;
  std::set<std::string> scope_categories{"security"};  // security, availability, ...
  std::vector<ScopeSystemConfig> scope_systems;
  std::vector<SubserviceOrgConfig> scope_subservice_orgs;
  int request_sla_business_days = 5;

  std::vector<PersonConfig> people;

  // policies (C5)
  std::vector<PolicyConfig> policies;
  int policy_ack_days = 14;  // policies.ack_days: campaigns without a due date, new people
  int policy_review_notice_days = 30;  // policies.review_notice_days: owner reminder lead time

  bool slack_configured() const { return !slack_bot_token.empty(); }
  bool teams_configured() const { return !teams_app_id.empty(); }
  // Every secret value, so the logger can scrub them from any line.
  std::vector<std::string> secrets() const;
};

// Environment as a lookup function so tests can pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// Loads `path` (may be empty: defaults plus environment), applies environment overrides,
// reads NAME_FILE secrets, validates. Throws ConfigError naming the key on any problem.
Config load_config(const std::string& path, const EnvLookup& env = process_environment());

}  // namespace auditbot
