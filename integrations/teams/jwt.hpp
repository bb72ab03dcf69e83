// Bot Framework inbound authentication: compact JWS parsing, RS256 verification against a
// JWKS with endorsements, and the channel-token claim checks (issuer, audience, time, serviceurl).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/clock.hpp"

namespace auditbot::teams {

// RFC 4648 section 5 without padding; decode rejects anything outside the alphabet.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// One RSA key from a JWKS, with the channels that endorse it.
struct Jwk {
  std::string kid;
  std::string kty;
  std::string n;  // base64url modulus
  std::string e;  // base64url exponent
  std::vector<std::string> endorsements;
};

// A parsed JWKS document ({"keys":[...]}); keys that are not RSA are skipped.
class KeySet {
 public:
  KeySet() = default;
  static KeySet parse(const nlohmann::json& jwks);  // throws std::invalid_argument
  const Jwk* find(std::string_view kid) const;
  std::size_t size() const { return keys_.size(); }

 private:
  std::vector<Jwk> keys_;
};

// What a token must satisfy besides its signature.
struct TokenExpectations {
  std::vector<std::string> issuers{"https://api.botframework.com"};
  std::string audience;  // the bot's Microsoft App ID
  std::chrono::seconds skew{5 * 60};
  // Issuers whose keys carry no endorsements (Azure AD tenant tokens); a botframework key
  // must always list the activity's channelId.
  std::vector<std::string> issuers_without_endorsements;
};

// Why a token was refused (for logs and metrics only: the caller answers 401 either way).
enum class TokenError {
  none,
  missing_header,
  not_bearer,
  malformed,
  bad_algorithm,
  unknown_kid,
  bad_signature,
  bad_issuer,
  bad_audience,
  expired,
  not_yet_valid,
  not_endorsed,
  service_url_mismatch,
};
std::string_view to_string(TokenError e);

struct TokenCheck {
  TokenError error = TokenError::none;
  std::string kid;  // the header's kid, so the caller can refetch keys on unknown_kid
  nlohmann::json claims;
  bool ok() const { return error == TokenError::none; }
};

// Validates an `Authorization` header value against the keys and the activity it came with.
TokenCheck validate_channel_token(std::string_view authorization, const KeySet& keys,
                                  const TokenExpectations& expect, std::string_view channel_id,
                                  std::string_view service_url, TimePoint now);

// RS256 signature check of `signing_input` with the key's (n, e); false on any error.
bool verify_rs256(const Jwk& key, std::string_view signing_input, std::string_view signature);

}  // namespace auditbot::teams
