// Neutral Message/Reply -> Slack Block Kit, within Slack's limits (50 blocks a message,
// 100 a view, 3000 characters a section, 2000 a button value); long content is split into
// pages, never cut silently. Buttons with inputs open a modal built by form_view().
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bot/message.hpp"

namespace auditbot::slack {

constexpr std::size_t kMaxBlocksPerMessage = 50;
constexpr std::size_t kMaxBlocksPerView = 100;
constexpr std::size_t kMaxSectionText = 3000;
constexpr std::size_t kMaxButtonValue = 2000;
constexpr std::size_t kMaxFieldsPerSection = 10;
constexpr std::size_t kMaxFieldText = 2000;
constexpr std::size_t kMaxButtonsPerActions = 25;

// action_id prefix marking a button that opens a form instead of firing at once.
inline constexpr std::string_view kFormPrefix = "form:";
// block_id prefix of the actions block; carries the Message::key the buttons sat on.
inline constexpr std::string_view kKeyPrefix = "k:";
// Placeholder value for a button whose value is too long for Slack (read back from the
// stored message instead).
inline constexpr std::string_view kStoredValue = "@stored";

struct RenderedMessage {
  std::string text;                   // notification / fallback text
  std::vector<nlohmann::json> pages;  // each an array of at most 50 blocks; first is the message
};

// Splits `text` at line or word boundaries into chunks of at most `limit` characters
// (never inside a UTF-8 sequence).
std::vector<std::string> split_text(const std::string& text, std::size_t limit);

RenderedMessage render(const Message& m);
// A reply (ephemeral / response_url body blocks).
RenderedMessage render(const Reply& r);
// App Home view from a reply (the person's open items).
nlohmann::json home_view(const Reply& r);
// The modal for a button with inputs; private_metadata carries what the submission needs.
nlohmann::json form_view(const Button& b, const std::string& private_metadata);
// Values of a view_submission's state, by Input::name.
std::map<std::string, std::string> form_values(const nlohmann::json& view);
// Escapes &, <, > for mrkdwn text.
std::string escape(std::string_view s);

}  // namespace auditbot::slack
