// auditbot's entry point: parses the command line and hands each subcommand to the app
// wiring. Nothing here decides business rules.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "bot/app/app.hpp"
#include "bot/app/serve.hpp"
#include "bot/errors.hpp"
#include "bot/log.hpp"
#include "integrations/console/console.hpp"
#include "integrations/redis/outbox_queue.hpp"

namespace {

using namespace auditbot;

std::string default_config_path() {
  if (const char* env = std::getenv("AUDITBOT_CONFIG"); env && *env) return env;
  if (std::filesystem::exists("config/auditbot.yaml")) return "config/auditbot.yaml";
  return "";
}

void init_logging(const Config& config, std::optional<log::Level> force = std::nullopt) {
  log::Options o;
  o.level = force.value_or(log::parse_level(config.log_level).value_or(log::Level::info));
  o.json = config.log_format == "json";
  o.file = config.log_file;
  log::init(o, config.secrets());
}

// Fails early, in plain words, when Redis is not there.
bool require_redis(App& app) {
  try {
    if (app.redis().ping()) return true;
  } catch (const std::exception&) {
  }
  const auto o = redis_options_from(app.config());
  std::cerr << "auditbot: Redis at " << o.host << ":" << o.port
            << " is not reachable. Start one (make redis) or set REDIS_URL.\n";
  return false;
}

int serve(const Config& config) {
  init_logging(config);
  return run_serve(config);
}

int console(const Config& config, const std::string& as) {
  init_logging(config, log::Level::warn);
  SystemClock clock;
  App app(config, clock);
  if (!require_redis(app)) return 1;
  app.seed_controls();
  app.seed_policies();
  app.refresh_learned_timezones();  // zones Slack or Teams reported, as serve uses them
  RedisOutboxQueue outbox(app.store(), "console-" + std::to_string(::getpid()));
  // While `auditbot serve` delivers this organisation's messages (asked before each flush,
  // so a serve started later counts too), the console leaves them queued for it.
  ConsoleChat chat(app.router(), app.people(), outbox, std::cout,
                   [&]() -> std::optional<std::string> {
                     const auto serving = app.delivering_replicas(clock.now());
                     if (serving.empty()) return std::nullopt;
                     return serving.front();
                   });
  if (!as.empty()) chat.switch_to(as);
  const bool interactive = ::isatty(STDIN_FILENO) != 0;
  if (interactive) {
    std::cout << "auditbot console for " << config.org_name << ". You are @" << chat.current()
              << ". Try: /soc2 help, /who, /as <person>, /press <n>, /quit\n";
  }
  chat.run(std::cin, interactive);
  return 0;
}

// One scheduler pass as of `now` (operations and tests), then the outbox stays queued for serve.
int scheduler_run_once(const Config& config, const std::string& now_text) {
  init_logging(config, log::Level::warn);
  const auto now = parse_iso8601(now_text);
  if (!now) {
    std::cerr << "auditbot: --now expects an ISO-8601 time such as 2026-12-01T09:00:00Z\n";
    return 2;
  }
  FakeClock clock(*now);
  App app(config, clock);
  if (!require_redis(app)) return 1;
  const auto r = app.run_scheduler_pass(*now);
  std::cout << "scheduler pass at " << format_iso8601(*now) << ": " << r.claimed << " claimed, "
            << r.done << " done, " << r.failed << " failed\n";
  return r.failed == 0 ? 0 : 1;
}

// Every policy acknowledgment as CSV for the auditor, to stdout or `out`.
int export_acks_cmd(const Config& config, const std::string& out) {
  init_logging(config, log::Level::warn);
  SystemClock clock;
  App app(config, clock);
  if (!require_redis(app)) return 1;
  app.seed_policies();
  const std::string csv = app.policies().export_acks_csv();
  if (out.empty()) {
    std::cout << csv;
    return 0;
  }
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f << csv;
  if (!f) {
    std::cerr << "auditbot: cannot write " << out << "\n";
    return 1;
  }
  return 0;
}

// Reads a whole file; UserError naming it when it cannot be read.
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// `auditbot import controls|requests <file>`: validated whole, written all at once or not at all.
int import_cmd(const Config& config, const std::string& what, const std::string& file,
               const std::string& map) {
  init_logging(config, log::Level::warn);
  SystemClock clock;
  App app(config, clock);
  if (!require_redis(app)) return 1;
  const std::string text = slurp(file);
  if (what == "controls") {
    const bool is_csv = file.size() > 4 && file.substr(file.size() - 4) == ".csv";
    const auto controls = parse_controls(text, is_csv ? "csv" : "yaml", app.people());
    const auto n = ControlCatalog(app.services()).import(controls, "cli");
    std::cout << "imported " << controls.size() << " controls (" << n << " added or changed)\n";
    return 0;
  }
  const auto ids = app.requests().import_csv(text, "cli", parse_column_map(map));
  std::cout << "imported " << ids.size() << " requests (" << ids.front() << " to " << ids.back()
            << ")\n";
  return 0;
}

// `auditbot export controls|requests|evidence` to stdout.
int export_program_cmd(const Config& config, const std::string& what, const std::string& format) {
  init_logging(config, log::Level::warn);
  SystemClock clock;
  App app(config, clock);
  if (!require_redis(app)) return 1;
  if (what == "controls") {
    const auto all = ControlCatalog(app.services()).all();
    std::cout << (format == "csv" ? controls_to_csv(all) : controls_to_yaml(all));
  } else if (what == "requests") {
    std::cout << app.requests().export_csv();
  } else {
    std::cout << evidence_to_csv(EvidenceLedger(app.services()).all());
  }
  return 0;
}

int verify_audit_log_cmd(const Config& config) {
  init_logging(config, log::Level::warn);
  SystemClock clock;
  App app(config, clock);
  if (!require_redis(app)) return 1;
  const auto v = verify_audit_log(app.store());
  if (v.ok) {
    std::cout << "audit log OK: " << v.entries << " entries, head " << v.head_hash << "\n";
    return 0;
  }
  std::cout << "audit log BROKEN at entry " << v.broken_seq << " (stream id " << v.broken_stream_id
            << "): " << v.problem << "\n";
  return 3;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"auditbot: runs a SOC 2 program in Slack, Teams and the console"};
  cli.require_subcommand(1);
  std::string config_path = default_config_path();
  cli.add_option("--config", config_path, "YAML configuration file (env AUDITBOT_CONFIG)");
  cli.set_version_flag("--version", "auditbot 0.1.0");

  auto* serve_cmd = cli.add_subcommand("serve", "Run the HTTP listener and the bot");
  std::string as;
  auto* console_cmd = cli.add_subcommand("console", "Chat with the bot in this terminal");
  console_cmd->add_option("--as", as, "Start as this person");
  auto* audit_cmd = cli.add_subcommand("audit-log", "The hash-chained audit trail");
  audit_cmd->require_subcommand(1);
  auto* verify_cmd =
      audit_cmd->add_subcommand("verify", "Recompute the chain; name the first broken entry");
  auto* export_cmd = cli.add_subcommand("export", "Records for the auditor");
  export_cmd->require_subcommand(1);
  auto* export_acks =
      export_cmd->add_subcommand("acks", "Policy acknowledgments as CSV (stdout or --out)");
  std::string export_out;
  export_acks->add_option("--out", export_out, "Write the CSV to this file");
  export_acks->add_option("--config", config_path, "YAML configuration file");
  std::string program_format = "yaml";
  auto* export_controls = export_cmd->add_subcommand("controls", "The control matrix");
  export_controls->add_option("--format", program_format, "csv or yaml")
      ->check(CLI::IsMember({"csv", "yaml"}));
  auto* export_requests =
      export_cmd->add_subcommand("requests", "The auditor request log with history, as CSV");
  auto* export_evidence = export_cmd->add_subcommand("evidence", "Evidence records as CSV");
  auto* import_cmd_group = cli.add_subcommand("import", "Load the control matrix or requests");
  import_cmd_group->require_subcommand(1);
  std::string import_file, import_map;
  auto* import_controls =
      import_cmd_group->add_subcommand("controls", "Control matrix from YAML or CSV");
  import_controls->add_option("file", import_file, "matrix file (.yaml or .csv)")->required();
  auto* import_requests =
      import_cmd_group->add_subcommand("requests", "The auditor's request list (CSV)");
  import_requests->add_option("file", import_file, "request list (.csv)")->required();
  import_requests->add_option("--map", import_map,
                              "column mapping: description=Header,request id=Header,...");
  for (auto* sub :
       {export_controls, export_requests, export_evidence, import_controls, import_requests}) {
    sub->add_option("--config", config_path, "YAML configuration file");
  }
  // Options are accepted after the subcommand too: `auditbot serve --config x.yaml`.
  for (auto* sub : {serve_cmd, console_cmd, verify_cmd}) {
    sub->add_option("--config", config_path, "YAML configuration file");
  }

  auto* sched_cmd = cli.add_subcommand("scheduler", "Due jobs: reminders, escalation, reports");
  sched_cmd->require_subcommand(1);
  std::string run_once_now;
  auto* run_once_cmd = sched_cmd->add_subcommand("run-once", "One scheduler pass as of --now");
  run_once_cmd->add_option("--now", run_once_now, "ISO-8601 time of the pass")->required();
  run_once_cmd->add_option("--config", config_path, "YAML configuration file");

  CLI11_PARSE(cli, argc, argv);
  try {
    const Config config = load_config(config_path);
    if (*serve_cmd) return serve(config);
    if (*console_cmd) return console(config, as);
    if (*verify_cmd) return verify_audit_log_cmd(config);
    if (*export_acks) return export_acks_cmd(config, export_out);
    if (*run_once_cmd) return scheduler_run_once(config, run_once_now);
    if (*import_controls) return import_cmd(config, "controls", import_file, "");
    if (*import_requests) return import_cmd(config, "requests", import_file, import_map);
    if (*export_controls) return export_program_cmd(config, "controls", program_format);
    if (*export_requests) return export_program_cmd(config, "requests", "");
    if (*export_evidence) return export_program_cmd(config, "evidence", "");
  } catch (const ConfigError& e) {
    std::cerr << "auditbot: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const UserError& e) {
    std::cerr << "auditbot: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "auditbot: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
