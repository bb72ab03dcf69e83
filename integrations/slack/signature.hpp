// Slack request signing: HMAC-SHA256 over "v0:{timestamp}:{raw body}" with the signing
// secret, a 300 s replay window, compared in constant time. Pure: the time is passed in.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "bot/clock.hpp"

namespace auditbot::slack {

enum class SignatureCheck { ok, missing, malformed, stale, mismatch };
std::string_view to_string(SignatureCheck c);

// "v0=<64 lowercase hex>" for this timestamp and body.
std::string compute_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body);

SignatureCheck verify_signature(std::string_view secret, std::string_view timestamp_header,
                                std::string_view signature_header, std::string_view body,
                                TimePoint now,
                                std::chrono::seconds window = std::chrono::seconds(300));

}  // namespace auditbot::slack
