// Bot Framework activities -> neutral InboundEvents: commands typed or after an @mention,
// card presses, "Track as audit request" message actions, installs and uninstalls.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "bot/event.hpp"

namespace auditbot::teams {

// Everything needed to message a person proactively later (protocols.md section 9).
struct ConversationRef {
  std::string service_url;
  std::string conversation_id;
  std::string tenant_id;
  std::string user_id;        // 29:... Teams user id
  std::string aad_object_id;  // Azure AD object id
  std::string bot_id;         // 28:<appId>
  std::string bot_name;
  bool operator==(const ConversationRef&) const = default;
};
nlohmann::json to_json(const ConversationRef& r);
ConversationRef conversation_ref_from_json(const nlohmann::json& j);

// One activity, read once: what kind it is and who sent it where.
struct ParsedActivity {
  enum class Kind { command, button, track, install, uninstall, ignored };
  Kind kind = Kind::ignored;
  bool invoke = false;  // answered in the HTTP response (adaptiveCard/action)
  std::string id;       // activity id (dedup)
  std::string channel_id;
  std::string service_url;
  std::string conversation_type;  // personal | channel | groupChat
  std::string reply_to_id;        // the card's activity id for presses
  std::string timezone;           // the sender's IANA zone (localTimezone or clientInfo), if sent
  ConversationRef ref;            // sender and conversation
  std::string text;               // Kind::command: "ask @bob ..."
  ButtonPress press;              // Kind::button
  TrackMessage track;             // Kind::track: the message the action was run on
  bool track_declined = false;    // Kind::track: the dialog's "Track this message" was off
};

// The manifest's message-action command (deploy/teams/manifest.json composeExtensions).
inline constexpr std::string_view kTrackCommandId = "trackAuditRequest";

// Maps a mentioned Teams user (29:..., aadObjectId, display name) to a directory person id.
using MentionResolver = std::function<std::optional<std::string>(
    const std::string& teams_id, const std::string& aad_object_id, const std::string& name)>;

// Throws std::invalid_argument when required fields (type, from, conversation, serviceUrl)
// are missing; unknown activity types come back as Kind::ignored.
ParsedActivity parse_activity(const nlohmann::json& activity, const MentionResolver& mentions = {});

// The neutral event for a command or button activity (person already resolved).
InboundEvent to_event(const ParsedActivity& a, const std::string& person);

// HTML entities Teams puts in message text, decoded; tags other than <at> dropped.
std::string plain_text(std::string_view html);

// The invoke response body for adaptiveCard/action (protocols.md section 10).
nlohmann::json invoke_message_response(const std::string& text);
nlohmann::json invoke_card_response(const nlohmann::json& card);
nlohmann::json invoke_error_response(int status, const std::string& message);
// The composeExtension/submitAction answer: a dialog showing `text` to the person who ran it.
nlohmann::json invoke_task_message_response(const std::string& text);

}  // namespace auditbot::teams
