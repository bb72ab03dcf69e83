// Findings and management responses (SPEC C6): F-n recorded by the liaison in the auditor's
// words, a factual-accuracy review, a management response drafted in a form and approved by an
// approver, exported as text for the report; a finding can open a gap.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bot/router.hpp"
#include "handlers/controls.hpp"
#include "handlers/gaps.hpp"
#include "handlers/services.hpp"

namespace auditbot {

struct Finding {
  std::string id;                     // F-1
  std::string status;                 // open | response_in_review | approved
  std::string auditor_ref;            // the auditor's own number for it, kept as given
  std::string wording;                // the auditor's text, verbatim
  std::vector<std::string> controls;  // control ids or TSC criteria
  std::vector<std::string> requests;  // REQ-n the finding came from
  std::string recorded_by;
  std::string recorded_at;
  std::string due;  // when the management response is due (YYYY-MM-DD)
  int version = 0;  // bumped on every change; form buttons carry it so stale forms fail

  std::string accuracy;       // "" | accurate | inaccurate | mitigating
  std::string accuracy_note;  // why it is inaccurate, or the mitigating factors
  std::string reviewed_by;
  std::string reviewed_at;

  int drafts = 0;  // number of the latest response draft (approval buttons carry it)
  std::string root_cause;
  std::string plan;
  std::string target;          // remediation target date YYYY-MM-DD
  std::string response_owner;  // person id
  std::string drafted_by;
  std::string drafted_at;
  std::string returned_reason;  // the approver's reason when a draft was sent back
  std::string approved_by;
  std::string approved_at;

  std::vector<std::string> gaps;  // GAP-n opened from this finding
};

class Findings {
 public:
  Findings(Services& s, Gaps& gaps) : s_(s), gaps_(gaps), controls_(s) {}
  void register_with(Router& router);

  std::optional<Finding> load(std::string_view id) const;
  // Every finding, oldest first.
  std::vector<Finding> all() const;
  // The findings with their reviews and approved responses, as text for the audit report.
  std::string export_text() const;
  std::string export_block(const Finding& f) const;  // one finding of export_text()

 private:
  Reply finding(CommandCall& call);
  Reply add(CommandCall& call);
  Reply list(CommandCall& call) const;
  Reply show(const Finding& f, const Person& actor) const;
  Reply review(const InboundEvent& e, const Person& actor, Finding f, int version,
               const std::string& verdict, const std::string& note);
  Reply draft(const InboundEvent& e, const Person& actor, Finding f, int version,
              const std::string& root_cause, const std::string& plan, const std::string& target,
              const std::string& owner);
  Reply decide(const InboundEvent& e, const Person& actor, Finding f, int draft_no, bool approve,
               const std::string& reason);
  Reply open_gap(const InboundEvent& e, const Person& actor, Finding f, int version,
                 const std::string& severity, const std::string& owner, const std::string& title);

  Finding require(std::string_view id) const;
  void write(Txn& txn, const Finding& f) const;
  void guard(Txn& txn, const Finding& f, int version) const;
  std::vector<std::string> liaisons_for(const Finding& f) const;
  std::vector<std::string> approvers_for(const Finding& f) const;
  Message liaison_message(const Finding& f, const std::string& to) const;
  Message approval_message(const Finding& f, const std::string& to) const;
  Button response_form(const Finding& f) const;
  Reply finish(const CommitResult& r, Reply on_success) const;

  Services& s_;
  Gaps& gaps_;
  ControlCatalog controls_;
};

}  // namespace auditbot
