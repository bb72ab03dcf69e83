// Evidence records and Type II coverage (SPEC C2, C10): what evidence a control has, which
// period each piece covers (separate from when it arrived), when it goes stale, which
// cadence periods of the observation window have none, the automatic refresh asks, and the
// signed POST /hooks/evidence that lets automation push evidence.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bot/http_server.hpp"
#include "bot/router.hpp"
#include "handlers/controls.hpp"
#include "handlers/evidence_asks.hpp"
#include "handlers/services.hpp"

namespace auditbot {

// A span of dates an evidence record covers or a cadence asks for; label as people say it.
struct Period {
  Date start;
  Date end;           // inclusive
  std::string label;  // 2026-Q3, 2026-07, 2026, 2026-07-01..2026-09-30
};
// 2026-Q3, 2026-07, 2026, 2026-07-01..2026-09-30 or a single date.
std::optional<Period> parse_period(std::string_view text);
// The cadence periods that overlap [from, to] (continuous counts monthly; one-time is the
// whole span as one period labelled "the observation window").
std::vector<Period> cadence_periods(std::string_view cadence, Date from, Date to);
// The date evidence covering up to `covered_end` goes stale for `cadence` (nullopt: never).
std::optional<Date> expiry_for(std::string_view cadence, Date covered_end);

struct EvidenceRecord {
  std::string id;        // EV-1
  std::string control;   // AC-01
  std::string artifact;  // which requirement; empty = the control as a whole
  std::string link;
  std::string note;
  std::string period;  // label as given
  std::string period_start;
  std::string period_end;
  std::string uploaded_at;
  std::string uploaded_by;  // person id or "hook:<id>"
  std::string status;       // accepted | in_review | rejected
  std::string source;       // ASK-3, hook:<id>, import
};

class EvidenceLedger {
 public:
  explicit EvidenceLedger(Services& s) : s_(s) {}
  // Assigns the id, writes the record and its index entries into `txn` (no audit entry:
  // the caller's change carries it). Returns the id.
  std::string add(Txn& txn, EvidenceRecord& r);
  // The evidence an accepted ask produced (called inside the ask's accept transaction).
  std::string add_from_ask(Txn& txn, const EvidenceAsk& a);
  std::optional<EvidenceRecord> load(std::string_view id) const;
  // Newest period first.
  std::vector<EvidenceRecord> for_control(std::string_view control) const;
  // Latest accepted record that counts for requirement `artifact` of `control`.
  std::optional<EvidenceRecord> latest_accepted(const Control& c,
                                                const ControlRequirementConfig& req) const;
  // Every record, oldest upload first (exports).
  std::vector<EvidenceRecord> all() const;
  // A JSON array of {control, link, period, note?, artifact?, status?} (admin API): every
  // record validated first ("record 3, field period: ..." as ImportError), then all written
  // in one transaction with one audit entry. Returns the new ids.
  std::vector<std::string> import_json(std::string_view text, const std::string& actor);

 private:
  Services& s_;
};

bool counts_for(const EvidenceRecord& r, const ControlRequirementConfig& req);
// Every record as CSV (id, control, artifact, period, link, note, uploaded, by, status, source).
std::string evidence_to_csv(const std::vector<EvidenceRecord>& records);

// "AC-01 quarterly Access review export: no evidence for 2026-Q3" for every cadence period
// of the observation window (ended by `today`) without accepted evidence.
std::vector<std::string> coverage_gaps(EvidenceLedger& ledger, const std::vector<Control>& controls,
                                       const Config& config, Date today);

// The refresh asks: for each requirement whose accepted evidence expires within the lead
// time, one ask to the control owner (at most once per requirement and expiry).
class EvidenceFreshness {
 public:
  EvidenceFreshness(Services& s, EvidenceAsks& asks) : s_(s), asks_(asks) {}
  // One pass as of `now`; returns the ids of the asks it created. Safe to run repeatedly
  // and from several replicas at once.
  std::vector<std::string> run_pass(TimePoint now);

 private:
  Services& s_;
  EvidenceAsks& asks_;
};

// Commands /soc2 controls, control, scope, coverage; evidence review buttons; the hook.
class ControlMatrix {
 public:
  explicit ControlMatrix(Services& s) : s_(s), catalog_(s), ledger_(s) {}
  void register_with(Router& router);
  // POST /hooks/evidence: X-Auditbot-Hook, X-Auditbot-Timestamp (unix seconds) and
  // X-Auditbot-Signature: v1=hex(HMAC-SHA256(secret, "v1:" + timestamp + ":" + body)).
  HttpRoute evidence_hook_route();
  // The hook's logic without the socket: status code and JSON body.
  std::pair<int, std::string> handle_hook(const std::string& hook_id, const std::string& timestamp,
                                          const std::string& signature, const std::string& body);

 private:
  Reply controls(CommandCall& call);
  Reply control(CommandCall& call);
  Reply scope(CommandCall& call);
  Reply coverage(CommandCall& call);
  Reply decide(ActionCall& call, bool accept);
  bool is_stale(const Control& c, Date today) const;
  Message review_message(const EvidenceRecord& r, const std::string& to) const;

  Services& s_;
  ControlCatalog catalog_;
  EvidenceLedger ledger_;
};

}  // namespace auditbot
