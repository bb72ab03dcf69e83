// Evidence asks (SPEC C2): a liaison asks a control owner for evidence with a due date; the
// owner submits a link and note, asks for more time or reassigns; a liaison accepts or
// rejects it. Every change is one atomic commit with its audit entry and messages.
#pragma once

#include <optional>
#include <string>

#include "bot/router.hpp"
#include "handlers/controls.hpp"
#include "handlers/services.hpp"

namespace auditbot {

struct EvidenceAsk {
  std::string id;      // ASK-1
  std::string status;  // open | in_review | accepted
  std::string owner;
  std::string control;
  std::string what;
  std::string due;     // YYYY-MM-DD
  std::string period;  // the period the evidence must cover, free text (2026-Q3)
  std::string created_by;
  std::string created_at;
  std::string reviewer;  // liaison who reviews submissions (the creator)
  int submissions = 0;   // number of the latest submission (review buttons carry it)
  std::string link;
  std::string note;
  std::string submitted_by;
  std::string submitted_at;
  std::string decided_by;
  std::string decided_at;
  std::string reject_reason;
  int extensions = 0;
};

class EvidenceAsks {
 public:
  explicit EvidenceAsks(Services& s) : s_(s), controls_(s) {}
  void register_with(Router& router);

  std::optional<EvidenceAsk> load(std::string_view id) const;
  // An ask the bot raises by itself (evidence about to go stale) for the control owner,
  // reviewed by a liaison; `txn` carries the caller's once-only claim. Returns the id, or
  // "" when the claim was already taken.
  std::string create_automatic(Txn txn, const Control& control, const std::string& what, Date due,
                               const std::string& period);

 private:
  Reply ask(CommandCall& call);
  Reply show(const EvidenceAsk& a, const Person& actor) const;
  Reply submit(ActionCall& call);
  Reply more_time(ActionCall& call);
  Reply reassign(ActionCall& call);
  Reply decide(ActionCall& call, bool accept);

  EvidenceAsk require(std::string_view id) const;
  Message owner_message(const EvidenceAsk& a, const std::string& owner) const;
  Message review_message(const EvidenceAsk& a) const;
  void write(Txn& txn, const EvidenceAsk& a) const;
  Reply finish(const CommitResult& r, Reply on_success) const;

  Services& s_;
  ControlCatalog controls_;
};

}  // namespace auditbot
