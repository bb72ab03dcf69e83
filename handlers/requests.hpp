// The auditor request log (SPEC C3): REQ-n items from a command, the auditor's CSV list or
// a tracked message in the auditor channel; routed to control owners by the control ids in
// the text (else the liaison's triage queue); a checked status machine; the auditor side
// sees status updates only, never owners or internal notes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bot/router.hpp"
#include "handlers/controls.hpp"
#include "handlers/services.hpp"

namespace auditbot {

struct AuditorRequest {
  std::string id;           // REQ-1
  std::string external_id;  // the auditor's own id (PBC-12), kept as given
  std::string text;
  std::string requested_by;             // person id, or the auditor's name from a CSV
  std::vector<std::string> references;  // TSC criteria / control ids as given
  std::vector<std::string> controls;    // resolved control ids
  std::string sample_period;
  std::string priority;
  std::string comments;  // the auditor's comments (auditor-visible)
  std::string owner;     // "" while in triage
  std::string due;       // YYYY-MM-DD
  std::string status;    // new|assigned|in_progress|in_review|sent|accepted|follow_up
  std::string created_at;
  std::string source;  // command | csv | tracked
  std::string thread;  // the auditor's message or thread, when tracked
  // Where status updates are posted as replies: the tracked message's thread root (its own
  // platform id, or its parent's when it was itself a reply). "" = the channel's top level.
  std::string reply_thread;
  std::string link;  // latest evidence submitted
  std::string note;  // owner's note to the liaison (internal)
  std::string submitted_by;
  int submissions = 0;
};

// Column mapping for the auditor's CSV: our field name -> their header text.
using RequestColumnMap = std::map<std::string, std::string>;
// "description=Request Detail,request id=Ref #" -> map; throws UserError on a bad entry.
RequestColumnMap parse_column_map(std::string_view spec);

class RequestLog {
 public:
  explicit RequestLog(Services& s) : s_(s), controls_(s) {}
  void register_with(Router& router);

  std::optional<AuditorRequest> load(std::string_view id) const;
  // Validates every row (row + field in the error), then writes all rows in one
  // transaction. Returns the new ids. Throws ImportError / UserError; nothing written then.
  std::vector<std::string> import_csv(std::string_view text, const std::string& actor,
                                      const RequestColumnMap& columns = {});
  // The whole log with each item's submission history.
  std::string export_csv() const;
  // A message in the auditor channel someone asked to track (emoji or shortcut). `thread`
  // identifies the message (dedup); `reply_thread` is the root its status replies go under.
  Reply track(const InboundEvent& e, const Person& actor, const std::string& text,
              const std::string& author, const std::string& thread,
              const std::string& reply_thread = "");

 private:
  Reply request(CommandCall& call);
  Reply add(CommandCall& call);
  Reply add_from_form(ActionCall& call);
  Reply create_request(Txn& txn, const Person& actor, const std::string& text,
                       const std::string& control, std::optional<Date> due,
                       const std::string& owner);
  Reply list(CommandCall& call);
  Reply show(const AuditorRequest& r, const Person& actor) const;
  Reply transition(const InboundEvent& e, const Person& actor, const std::string& id,
                   const std::string& verb, const std::string& arg1, const std::string& arg2);
  Reply press(ActionCall& call, const std::string& verb);

  AuditorRequest require(std::string_view id) const;
  // Fills controls/owner/status from the text and references (routing).
  void route(AuditorRequest& r) const;
  void write(Txn& txn, const AuditorRequest& r) const;
  void create(Txn& txn, AuditorRequest& r, const std::string& actor);
  Message owner_message(const AuditorRequest& r, const std::string& to) const;
  Message review_message(const AuditorRequest& r, const std::string& to) const;
  Message triage_message(const AuditorRequest& r, const std::string& to) const;
  Message auditor_update(const AuditorRequest& r) const;
  Reply finish(const CommitResult& res, Reply ok) const;

  Services& s_;
  ControlCatalog controls_;
};

// What the auditor sees for a status ("received", "in progress", "evidence sent", ...).
std::string auditor_status(std::string_view status);

}  // namespace auditbot
