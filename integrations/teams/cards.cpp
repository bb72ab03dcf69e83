// Adaptive Card rendering of neutral messages.
#include "integrations/teams/cards.hpp"

namespace auditbot::teams {
namespace {

nlohmann::json text_block(const std::string& text, bool wrap = true) {
  return {{"type", "TextBlock"}, {"text", text}, {"wrap", wrap}};
}

nlohmann::json render_input(const Input& in, int button_index) {
  nlohmann::json j = {{"id", input_id_prefix(button_index) + in.name},
                      {"label", in.label},
                      {"isRequired", !in.optional}};
  if (!in.optional) j["errorMessage"] = in.label + " is required";
  switch (in.kind) {
    case Input::Kind::text:
      j["type"] = "Input.Text";
      break;
    case Input::Kind::multiline:
      j["type"] = "Input.Text";
      j["isMultiline"] = true;
      break;
    case Input::Kind::url:
      j["type"] = "Input.Text";
      j["style"] = "Url";
      j["placeholder"] = "https://";
      break;
    case Input::Kind::date:
      j["type"] = "Input.Date";
      break;
    case Input::Kind::person:
      j["type"] = "Input.Text";
      j["placeholder"] = "@name or email";
      break;
  }
  return j;
}

nlohmann::json action_data(const Button& b, const std::string& key, int index) {
  return {{kCardDataKey, {{"a", b.action_id}, {"v", b.value}, {"k", key}, {"b", index}}}};
}

// Action.Execute (Universal Actions) with Action.Submit for clients that lack it.
nlohmann::json execute_action(const Button& b, const std::string& title, const std::string& key,
                              int index) {
  nlohmann::json submit = {
      {"type", "Action.Submit"}, {"title", title}, {"data", action_data(b, key, index)}};
  nlohmann::json exec = {{"type", "Action.Execute"},
                         {"title", title},
                         {"verb", b.action_id},
                         {"data", action_data(b, key, index)},
                         {"fallback", submit}};
  if (b.style == Button::Style::primary) exec["style"] = "positive";
  if (b.style == Button::Style::danger) exec["style"] = "destructive";
  return exec;
}

nlohmann::json render_actions(const std::vector<Button>& buttons, const std::string& key) {
  nlohmann::json actions = nlohmann::json::array();
  for (std::size_t i = 0; i < buttons.size(); ++i) {
    const auto& b = buttons[i];
    const int index = static_cast<int>(i);
    if (b.inputs.empty()) {
      actions.push_back(execute_action(b, b.label, key, index));
      continue;
    }
    nlohmann::json body = nlohmann::json::array();
    for (const auto& in : b.inputs)
      body.push_back(render_input(in, index));
    nlohmann::json form = {
        {"type", "AdaptiveCard"},
        {"body", body},
        {"actions", nlohmann::json::array({execute_action(b, "Send", key, index)})}};
    actions.push_back({{"type", "Action.ShowCard"}, {"title", b.label}, {"card", form}});
  }
  return actions;
}

nlohmann::json facts(const std::vector<Field>& fields) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : fields)
    list.push_back({{"title", f.label}, {"value", f.value}});
  return {{"type", "FactSet"}, {"facts", list}};
}

nlohmann::json card_shell() {
  return {{"type", "AdaptiveCard"},
          {"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
          {"version", "1.5"},
          {"body", nlohmann::json::array()}};
}

}  // namespace

std::string input_id_prefix(int button_index) {
  return "in." + std::to_string(button_index) + ".";
}

nlohmann::json render_card(const Message& m) {
  nlohmann::json card = card_shell();
  auto& body = card["body"];
  if (!m.title.empty()) {
    auto t = text_block(m.title);
    t["weight"] = "Bolder";
    t["size"] = "Medium";
    body.push_back(t);
  }
  if (!m.text.empty()) body.push_back(text_block(m.text));
  if (!m.fields.empty()) body.push_back(facts(m.fields));
  if (!m.context.empty()) {
    auto c = text_block(m.context);
    c["isSubtle"] = true;
    c["size"] = "Small";
    body.push_back(c);
  }
  if (!m.buttons.empty()) card["actions"] = render_actions(m.buttons, m.key);
  return card;
}

nlohmann::json render_reply_card(const Reply& r) {
  nlohmann::json card = card_shell();
  auto t = text_block(r.text);
  if (r.error) t["color"] = "Attention";
  card["body"].push_back(t);
  if (!r.fields.empty()) card["body"].push_back(facts(r.fields));
  if (!r.buttons.empty()) card["actions"] = render_actions(r.buttons, "");
  return card;
}

nlohmann::json card_attachment(const nlohmann::json& card) {
  return {{"contentType", "application/vnd.microsoft.card.adaptive"}, {"content", card}};
}

nlohmann::json card_activity(const nlohmann::json& card, const std::string& summary) {
  return {{"type", "message"},
          {"summary", summary},
          {"attachments", nlohmann::json::array({card_attachment(card)})}};
}

}  // namespace auditbot::teams
