// `auditbot serve`: the HTTP listener, the chat platforms configured, the durable outbox
// dispatcher and the scheduler, until SIGTERM/SIGINT.
#pragma once

#include "config/config.hpp"

namespace auditbot {

// Blocks until a stop signal; returns the process exit code. Logging is set up by the caller.
int run_serve(const Config& config);

}  // namespace auditbot
