// Slack Socket Mode: apps.connections.open with the app-level token, a TLS WebSocket with
// host-name verification, envelope acks by envelope_id, fresh connections on `disconnect`.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "integrations/slack/web_api.hpp"

namespace auditbot::slack {

struct SocketModeOptions {
  std::string app_token;  // xapp-... with connections:write (never logged)
  std::string ca_file;    // extra trusted CAs, as for the Web API
  std::chrono::milliseconds connect_timeout{10000};  // TCP + TLS + WebSocket handshake
  std::chrono::milliseconds hello_timeout{10000};    // from the handshake to `hello`
  // Nothing heard for half of this: we ping; nothing for all of it: the link is dead.
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds backoff_min{1000};  // reconnect delay, doubled per failure
  std::chrono::milliseconds backoff_max{30000};
  // A connection Slack asked us to replace is closed by us after this if Slack has not.
  std::chrono::milliseconds drain_timeout{30000};
  std::size_t max_message = 1 << 20;  // larger frames drop the connection
  std::size_t handler_threads = 2;
  bool debug_reconnects = false;  // Slack then cycles connections about every 360 s
};

// Reconnect delay after `failures` consecutive failures: uniform in
// [min/2, min(max, min * 2^failures)] (full jitter, capped).
std::chrono::milliseconds reconnect_delay(int failures, std::chrono::milliseconds min,
                                          std::chrono::milliseconds max, std::mt19937& rng);

class SocketMode {
 public:
  // One envelope's type ("events_api", "slash_commands", "interactive") and payload ->
  // the ack payload (null for none). Runs on a handler thread; must answer within 3 s.
  using Handler = std::function<nlohmann::json(const std::string&, const nlohmann::json&)>;

  SocketMode(WebApi& api, Handler handler, SocketModeOptions options);
  ~SocketMode();  // stop()
  SocketMode(const SocketMode&) = delete;
  SocketMode& operator=(const SocketMode&) = delete;

  void start();  // connects in the background; returns at once
  void stop();   // closes every connection, waits for handlers in flight

  struct Stats {
    std::size_t connects = 0;  // WebSocket connections that said hello
    std::size_t failures = 0;  // attempts that failed before hello
    std::size_t envelopes = 0;
    std::size_t acks = 0;
    std::size_t disconnects = 0;  // `disconnect` messages from Slack
  };
  Stats stats() const;
  // Waits until `n` connections have said hello in total; false on timeout.
  bool wait_for_connects(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace auditbot::slack
