// Neutral Message / Reply -> Adaptive Card 1.5 for Teams: buttons become Action.Execute with an
// Action.Submit fallback; buttons that need inputs open an Action.ShowCard form first.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bot/message.hpp"

namespace auditbot::teams {

// Key of our routing data inside every action's `data` ({"a":action,"v":value,"k":key,"b":n}).
inline constexpr const char* kCardDataKey = "auditbot";
// Input ids are "in.<button index>.<input name>", unique across one card.
std::string input_id_prefix(int button_index);

nlohmann::json render_card(const Message& m);
nlohmann::json render_reply_card(const Reply& r);
// {"contentType":"application/vnd.microsoft.card.adaptive","content":card}
nlohmann::json card_attachment(const nlohmann::json& card);
// A message activity carrying one card (text is the notification summary).
nlohmann::json card_activity(const nlohmann::json& card, const std::string& summary);

}  // namespace auditbot::teams
