// Slack delivery of outbox entries, with the outbox id in message metadata for recovery.
#include "integrations/slack/deliverer.hpp"

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
    std::string ts, ref_channel;
    if (ref) {
      if (auto it = ref->find("slack_ts"); it != ref->end()) ts = it->second;
      if (auto it = ref->find("slack_channel"); it != ref->end()) ref_channel = it->second;
    }
    json args = {{"channel", channel}, {"text", rendered.text}, {"blocks", rendered.pages.front()}};
    if (!ts.empty() && ref_channel == channel) {
      args["ts"] = ts;
      api_.update_message(args);
    } else {
      args["metadata"] = {{"event_type", "auditbot_outbox"},
                          {"event_payload", {{"outbox_id", e.id}}}};
      ts = api_.post_message(args).value("ts", "");
      for (std::size_t i = 1; i < rendered.pages.size(); ++i) {
        api_.post_message({{"channel", channel},
                           {"thread_ts", ts},
                           {"text", rendered.text},
                           {"blocks", rendered.pages[i]}});
      }
    }
    store_.client().command({"HSET", ref_key, "slack_channel", channel, "slack_ts", ts, "message",
                             json(m).dump(), "outbox_id", e.id});
    result.detail = "slack " + channel + " " + ts;
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
