// Gaps and remediation (SPEC C4): GAP-n with severity, owner, target date and plan; closing
// needs fix evidence and the liaison's re-assessment; risk acceptance needs an approver.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bot/router.hpp"
#include "handlers/controls.hpp"
#include "handlers/services.hpp"

namespace auditbot {

struct Gap {
  std::string id;        // GAP-1
  std::string status;    // open | fix_review | risk_review | closed | risk_accepted
  std::string severity;  // critical | significant | minor
  std::string owner;
  std::vector<std::string> controls;
  std::string title;
  std::string due;  // target date YYYY-MM-DD
  std::string plan;
  std::string compensating;
  std::string source;  // finding id when opened from a finding
  std::string created_by;
  std::string created_at;
  std::string reviewer;  // liaison who re-assesses fixes
  int fix_round = 0;     // number of the latest fix submission (review buttons carry it)
  std::string fix_link;
  std::string fix_note;
  int risk_round = 0;  // number of the latest risk-acceptance proposal
  std::string rationale;
  std::string decided_by;
  std::string decided_at;
  std::string reopen_reason;
  std::string closed_at;
};

// What a new gap needs; due empty = a default by severity (30, 60, 90 days).
struct GapDraft {
  std::string severity;
  std::string owner;  // person id
  std::vector<std::string> controls;
  std::string title;
  std::optional<Date> due;
  std::string plan;
  std::string compensating;
};

class Gaps {
 public:
  explicit Gaps(Services& s) : s_(s), controls_(s) {}
  void register_with(Router& router);

  std::optional<Gap> load(std::string_view id) const;
  std::vector<Gap> all() const;
  // A gap raised by a finding (C6). With `txn` the gap is written into the caller's
  // transaction (committed with the finding); without, it is committed here. Returns GAP-n.
  // Throws UserError for a bad draft.
  std::string open_from_finding(const std::string& finding_id, const GapDraft& draft,
                                const std::string& actor, Txn* txn = nullptr);

 private:
  Reply gap_cmd(CommandCall& call);
  Reply add(CommandCall& call);
  Reply list(CommandCall& call) const;
  Reply show(const Gap& g, const Person& actor) const;
  Reply create_from_form(ActionCall& call);
  Reply submit_fix(const InboundEvent& e, const Person& actor, Gap g, const std::string& link,
                   const std::string& note);
  Reply propose_risk(const InboundEvent& e, const Person& actor, Gap g,
                     const std::string& rationale);
  Reply reassess(ActionCall& call, bool accept);
  Reply decide_risk(ActionCall& call, bool approve);

  Gap build(const GapDraft& d, const std::string& actor, Date today) const;
  void create(Txn& txn, const Gap& g) const;
  Gap require(std::string_view id) const;
  void write(Txn& txn, const Gap& g) const;
  Message owner_message(const Gap& g) const;
  Message fix_review_message(const Gap& g) const;
  Message risk_message(const Gap& g, const std::string& approver) const;
  std::vector<std::string> approvers_for(const Gap& g) const;
  nlohmann::json snapshot(const Gap& g) const;

  Services& s_;
  ControlCatalog controls_;
};

// The weekly gap status for the compliance channel (the scheduler calls weekly()).
class GapReport {
 public:
  explicit GapReport(Services& s) : s_(s) {}
  // Queues the message (with its audit entry) and returns it.
  Message weekly(TimePoint now);

 private:
  Services& s_;
};

}  // namespace auditbot
