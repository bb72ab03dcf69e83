// Slack signature check with OpenSSL HMAC and CRYPTO_memcmp.
#include "integrations/slack/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace auditbot::slack {

std::string_view to_string(SignatureCheck c) {
  switch (c) {
    case SignatureCheck::ok:
      return "ok";
    case SignatureCheck::missing:
      return "missing";
    case SignatureCheck::malformed:
      return "malformed";
    case SignatureCheck::stale:
      return "stale";
    case SignatureCheck::mismatch:
      return "mismatch";
  }
  return "?";
}

std::string compute_signature(std::string_view secret, std::string_view timestamp,
                              std::string_view body) {
  std::string base;
  base.reserve(4 + timestamp.size() + body.size());
  base.append("v0:").append(timestamp).append(":").append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(base.data()), base.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "v0=";
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 0xf]);
  }
  return out;
}

SignatureCheck verify_signature(std::string_view secret, std::string_view timestamp_header,
                                std::string_view signature_header, std::string_view body,
                                TimePoint now, std::chrono::seconds window) {
  if (secret.empty() || timestamp_header.empty() || signature_header.empty()) {
    return SignatureCheck::missing;
  }
  std::int64_t ts = 0;
  const auto* end = timestamp_header.data() + timestamp_header.size();
  auto [p, ec] = std::from_chars(timestamp_header.data(), end, ts);
  if (ec != std::errc() || p != end) return SignatureCheck::malformed;
  if (signature_header.size() != 67 || signature_header.substr(0, 3) != "v0=") {
    return SignatureCheck::malformed;
  }
  const std::int64_t now_s = unix_seconds(now);
  const std::int64_t skew = now_s > ts ? now_s - ts : ts - now_s;
  if (skew > window.count()) return SignatureCheck::stale;
  const std::string expected = compute_signature(secret, timestamp_header, body);
  if (CRYPTO_memcmp(expected.data(), signature_header.data(), expected.size()) != 0) {
    return SignatureCheck::mismatch;
  }
  return SignatureCheck::ok;
}

}  // namespace auditbot::slack
