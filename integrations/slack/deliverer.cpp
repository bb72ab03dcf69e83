// Slack delivery of outbox entries, with the outbox id in message metadata for recovery.
#include "integrations/slack/deliverer.hpp"

#include <algorithm>
#include <cstdlib>

#include "bot/log.hpp"
#include "integrations/slack/blocks.hpp"

namespace auditbot::slack {

using nlohmann::json;

std::string SlackDeliverer::channel_for(const Recipient& to) {
  if (to.kind == Recipient::Kind::channel) {
    auto it = config_.channels.find(to.id);
    return it == config_.channels.end() ? "" : it->second;
  }
  const Person* p = people_.find(to.id);
  if (!p) return "";
  const std::string key = store_.keys().key("slack:dm:" + p->id);
  if (auto v = store_.client().command({"GET", key}).as_optional_string()) return *v;
  const std::string user = slack_people_.user_id_for(*p);
  if (user.empty()) return "";
  const std::string channel = api_.open_dm(user);
  store_.client().command({"SET", key, channel});
  return channel;
}

namespace {

// The Slack ts from which a message queued at Redis stream id `stream_id` could be on the
// platform (a minute early, for clock skew); "" when the id is not a stream id.
std::string oldest_for(const std::string& stream_id) {
  const auto dash = stream_id.find('-');
  if (dash == std::string::npos || dash == 0) return "";
  try {
    const long long ms = std::stoll(stream_id.substr(0, dash));
    return std::to_string(std::max(0LL, ms / 1000 - 60)) + ".000000";
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

std::optional<std::string> SlackDeliverer::find_delivered(const OutboxEntry& e) {
  const std::string key = e.message.key.empty() ? "outbox:" + e.id : e.message.key;
  if (auto ref = store_.hgetall(store_.keys().message_ref(key))) {
    auto id = ref->find("outbox_id");
    auto ts = ref->find("slack_ts");
    if (id != ref->end() && id->second == e.id && ts != ref->end() && !ts->second.empty()) {
      // The first page is on Slack but not all the others: deliver() posts the rest.
      if (const auto left = ref->find("slack_pages_left");
          left != ref->end() && left->second != "0") {
        return std::nullopt;
      }
      return ts->second;
    }
  }
  const std::string& root = e.message.to.thread;
  json messages;
  try {
    const std::string channel = channel_for(e.message.to);
    if (channel.empty()) return std::nullopt;  // deliver() reports it
    // Thread replies are not in the channel history: read the thread itself.
    messages =
        root.empty()
            ? api_.conversations_history(channel, kHistoryLimit, oldest_for(e.stream_id))
            : api_.conversations_replies(channel, root, kHistoryLimit, oldest_for(e.stream_id));
  } catch (const ApiError& ex) {
    if (ex.error() == "ratelimited") throw;
    // Cannot look (e.g. a missing history scope): sending beats never delivering.
    log::warn("slack.find_delivered_failed", {{"id", e.id}, {"detail", ex.what()}});
    return std::nullopt;
  }
  for (const auto& msg : messages) {
    if (!msg.is_object() || !msg.contains("metadata")) continue;
    const auto& md = msg["metadata"];
    if (!md.is_object() || md.value("event_type", "") != "auditbot_outbox") continue;
    const auto payload = md.value("event_payload", json::object());
    if (payload.is_object() && payload.value("outbox_id", "") == e.id) {
      return msg.value("ts", std::string("-"));
    }
  }
  return std::nullopt;
}

DeliveryResult SlackDeliverer::deliver(const OutboxEntry& e) {
  DeliveryResult result;
  try {
    const std::string channel = channel_for(e.message.to);
    if (channel.empty()) {
      result.status = DeliveryResult::Status::failed;
      result.detail = "no Slack channel for " + e.message.to.id;
      return result;
    }
    Message m = e.message;
    if (m.key.empty()) m.key = "outbox:" + e.id;  // so form buttons can find their inputs
    const auto rendered = render(m);
    const std::string ref_key = store_.keys().message_ref(m.key);
    auto ref = store_.hgetall(ref_key);
    std::string ts, ref_channel, ref_outbox;
    std::size_t pages_left = 0;  // of this entry, still to post after its first page
    if (ref) {
      if (auto it = ref->find("slack_ts"); it != ref->end()) ts = it->second;
      if (auto it = ref->find("slack_channel"); it != ref->end()) ref_channel = it->second;
      if (auto it = ref->find("outbox_id"); it != ref->end()) ref_outbox = it->second;
      if (auto it = ref->find("slack_pages_left"); it != ref->end()) {
        pages_left = static_cast<std::size_t>(std::strtoull(it->second.c_str(), nullptr, 10));
      }
    }
    const std::size_t pages = rendered.pages.size();
    const std::string& root = m.to.thread;
    std::size_t next_page = pages;  // the first page not yet on Slack
    if (!ts.empty() && ref_channel == channel && ref_outbox == e.id && pages_left > 0) {
      next_page = pages - std::min(pages_left, pages - 1);  // resume after a failed page
    } else if (!ts.empty() && ref_channel == channel) {
      api_.update_message({{"channel", channel},
                           {"ts", ts},
                           {"text", rendered.text},
                           {"blocks", rendered.pages[0]}});
    } else {
      json args = {{"channel", channel},
                   {"text", rendered.text},
                   {"blocks", rendered.pages[0]},
                   {"metadata",
                    {{"event_type", "auditbot_outbox"}, {"event_payload", {{"outbox_id", e.id}}}}}};
      if (!root.empty()) args["thread_ts"] = root;
      ts = api_.post_message(args).value("ts", "");
      next_page = 1;
      // With more pages to come, recorded at once: a retry after a later page failed posts
      // only what is missing.
      if (pages > 1) {
        store_.client().command({"HSET", ref_key, "slack_channel", channel, "slack_ts", ts,
                                 "outbox_id", e.id, "slack_pages_left", std::to_string(pages - 1)});
      }
    }
    for (std::size_t i = next_page; i < pages; ++i) {
      // Slack threads are one level deep: a reply's later pages join the same thread.
      api_.post_message({{"channel", channel},
                         {"thread_ts", root.empty() ? ts : root},
                         {"text", rendered.text},
                         {"blocks", rendered.pages[i]}});
      store_.client().command({"HSET", ref_key, "slack_pages_left", std::to_string(pages - 1 - i)});
    }
    store_.client().command({"HSET", ref_key, "slack_channel", channel, "slack_ts", ts, "message",
                             json(m).dump(), "outbox_id", e.id, "slack_pages_left", "0"});
    result.detail = "slack " + channel + " " + ts;
    result.platform_id = ts;
  } catch (const RetryLater& ex) {
    result.status = DeliveryResult::Status::retry;
    result.retry_after = ex.after();
    result.detail = ex.what();
  } catch (const ApiError& ex) {
    if (ex.error() == "ratelimited") {
      result.status = DeliveryResult::Status::retry;
      result.retry_after = std::chrono::milliseconds(1000);
    } else {
      result.status = DeliveryResult::Status::failed;
    }
    result.detail = ex.what();
  }
  return result;
}

}  // namespace auditbot::slack
