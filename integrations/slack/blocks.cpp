// Block Kit rendering. Text is mrkdwn-escaped; nothing longer than a limit is truncated:
// it is split across more blocks, and blocks beyond 50 go on further pages.
#include "integrations/slack/blocks.hpp"

namespace auditbot::slack {

using nlohmann::json;

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

// Backs `pos` up to the start of a UTF-8 sequence.
std::size_t utf8_boundary(const std::string& s, std::size_t pos) {
  while (pos > 0 && pos < s.size() && (static_cast<unsigned char>(s[pos]) & 0xC0) == 0x80)
    --pos;
  return pos;
}

json mrkdwn(const std::string& t) {
  return {{"type", "mrkdwn"}, {"text", t}};
}
json plain(const std::string& t) {
  return {{"type", "plain_text"}, {"text", t}, {"emoji", true}};
}

std::string clip_label(const std::string& s, std::size_t n) {
  // Labels are short by construction; a too-long label keeps its start and says so.
  if (s.size() <= n) return s;
  return s.substr(0, utf8_boundary(s, n - 3)) + "...";
}

void add_text_sections(std::vector<json>& blocks, const std::string& text) {
  for (const auto& chunk : split_text(escape(text), kMaxSectionText)) {
    blocks.push_back({{"type", "section"}, {"text", mrkdwn(chunk)}});
  }
}

void add_fields(std::vector<json>& blocks, const std::vector<Field>& fields) {
  json current = json::array();
  for (const auto& f : fields) {
    const std::string t = "*" + escape(f.label) + "*\n" + escape(f.value);
    auto parts = split_text(t, kMaxFieldText);
    for (auto& p : parts) {
      current.push_back(mrkdwn(p));
      if (current.size() == kMaxFieldsPerSection) {
        blocks.push_back({{"type", "section"}, {"fields", current}});
        current = json::array();
      }
    }
  }
  if (!current.empty()) blocks.push_back({{"type", "section"}, {"fields", current}});
}

void add_buttons(std::vector<json>& blocks, const std::vector<Button>& buttons,
                 const std::string& key) {
  json elements = json::array();
  int n = 0;
  auto flush = [&] {
    if (elements.empty()) return;
    json b = {{"type", "actions"}, {"elements", elements}};
    std::string block_id = std::string(kKeyPrefix) + key + "#" + std::to_string(n++);
    if (block_id.size() <= 255) b["block_id"] = block_id;
    blocks.push_back(b);
    elements = json::array();
  };
  for (const auto& btn : buttons) {
    json e = {
        {"type", "button"},
        {"text", plain(clip_label(btn.label, 75))},
        {"action_id", (btn.inputs.empty() ? "" : std::string(kFormPrefix)) + btn.action_id},
        {"value", btn.value.size() <= kMaxButtonValue ? btn.value : std::string(kStoredValue)}};
    if (btn.style == Button::Style::primary) e["style"] = "primary";
    if (btn.style == Button::Style::danger) e["style"] = "danger";
    elements.push_back(e);
    if (elements.size() == kMaxButtonsPerActions) flush();
  }
  flush();
}

RenderedMessage paginate(std::vector<json> blocks, std::string text) {
  RenderedMessage out;
  out.text = std::move(text);
  if (blocks.size() <= kMaxBlocksPerMessage) {
    out.pages.push_back(json(blocks));
    return out;
  }
  const std::size_t per = kMaxBlocksPerMessage - 1;  // room for the "part i of n" line
  const std::size_t n = (blocks.size() + per - 1) / per;
  for (std::size_t i = 0; i < n; ++i) {
    json page = json::array();
    for (std::size_t j = i * per; j < std::min(blocks.size(), (i + 1) * per); ++j)
      page.push_back(blocks[j]);
    page.push_back({{"type", "context"},
                    {"elements", json::array({mrkdwn("Part " + std::to_string(i + 1) + " of " +
                                                     std::to_string(n) +
                                                     (i + 1 < n ? ", continued below" : ""))})}});
    out.pages.push_back(page);
  }
  return out;
}

}  // namespace

std::vector<std::string> split_text(const std::string& text, std::size_t limit) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (text.size() - pos > limit) {
    std::size_t cut = text.rfind('\n', pos + limit);
    if (cut == std::string::npos || cut <= pos) cut = text.rfind(' ', pos + limit);
    if (cut == std::string::npos || cut <= pos) cut = utf8_boundary(text, pos + limit);
    if (cut <= pos) cut = pos + limit;
    out.push_back(text.substr(pos, cut - pos));
    pos = cut;
    while (pos < text.size() && (text[pos] == '\n' || text[pos] == ' '))
      ++pos;
  }
  if (pos < text.size() || out.empty()) out.push_back(text.substr(pos));
  return out;
}

RenderedMessage render(const Message& m) {
  std::vector<json> blocks;
  if (!m.title.empty()) {
    if (m.title.size() <= 150) {
      blocks.push_back({{"type", "header"}, {"text", plain(m.title)}});
    } else {
      add_text_sections(blocks, "*" + m.title + "*");
    }
  }
  if (!m.text.empty()) add_text_sections(blocks, m.text);
  add_fields(blocks, m.fields);
  add_buttons(blocks, m.buttons, m.key);
  if (!m.context.empty()) {
    for (const auto& c : split_text(escape(m.context), kMaxSectionText))
      blocks.push_back({{"type", "context"}, {"elements", json::array({mrkdwn(c)})}});
  }
  std::string fallback = m.title.empty() ? m.text : m.title;
  if (fallback.size() > 3000) fallback = fallback.substr(0, utf8_boundary(fallback, 3000));
  return paginate(std::move(blocks), fallback);
}

RenderedMessage render(const Reply& r) {
  Message m;
  m.text = r.error ? ":warning: " + r.text : r.text;
  m.fields = r.fields;
  m.buttons = r.buttons;
  return render(m);
}

json home_view(const Reply& r) {
  Message m;
  m.title = "Your open SOC 2 items";
  m.text = r.text;
  m.fields = r.fields;
  auto rendered = render(m);
  json blocks = json::array();
  for (const auto& page : rendered.pages)
    for (const auto& b : page)
      if (blocks.size() < kMaxBlocksPerView - 1) blocks.push_back(b);
  if (rendered.pages.size() > 1 || blocks.size() == kMaxBlocksPerView - 1) {
    blocks.push_back({{"type", "context"},
                      {"elements", json::array({mrkdwn("More items: run `/soc2 mine` for the "
                                                       "full list.")})}});
  }
  return {{"type", "home"}, {"blocks", blocks}};
}

json form_view(const Button& b, const std::string& private_metadata) {
  json blocks = json::array();
  for (const auto& in : b.inputs) {
    json element;
    switch (in.kind) {
      case Input::Kind::date:
        element = {{"type", "datepicker"}, {"action_id", "v"}};
        break;
      case Input::Kind::url:
        element = {{"type", "url_text_input"}, {"action_id", "v"}};
        break;
      case Input::Kind::multiline:
        element = {{"type", "plain_text_input"}, {"action_id", "v"}, {"multiline", true}};
        break;
      case Input::Kind::person:
        element = {{"type", "users_select"}, {"action_id", "v"}};
        break;
      case Input::Kind::text:
        element = {{"type", "plain_text_input"}, {"action_id", "v"}};
        break;
    }
    blocks.push_back({{"type", "input"},
                      {"block_id", in.name},
                      {"optional", in.optional},
                      {"label", plain(clip_label(in.label, 2000))},
                      {"element", element}});
  }
  return {{"type", "modal"},
          {"callback_id", b.action_id},
          {"title", plain(clip_label(b.label, 24))},
          {"submit", plain("Submit")},
          {"close", plain("Cancel")},
          {"private_metadata", private_metadata},
          {"blocks", blocks}};
}

std::map<std::string, std::string> form_values(const json& view) {
  std::map<std::string, std::string> out;
  if (!view.contains("state") || !view["state"].contains("values")) return out;
  for (const auto& [block_id, actions] : view["state"]["values"].items()) {
    if (!actions.is_object() || !actions.contains("v")) continue;
    const auto& v = actions["v"];
    std::string value;
    if (v.contains("value") && v["value"].is_string())
      value = v["value"];
    else if (v.contains("selected_date") && v["selected_date"].is_string())
      value = v["selected_date"];
    else if (v.contains("selected_user") && v["selected_user"].is_string())
      value = "<@" + v["selected_user"].get<std::string>() + ">";
    out[block_id] = value;
  }
  return out;
}

}  // namespace auditbot::slack
