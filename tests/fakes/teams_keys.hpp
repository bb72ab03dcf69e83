// A test RSA key made at test time that signs Bot Framework-style channel tokens, publishes
// itself as a JWKS with endorsements, and forges the tokens the validator must refuse.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bot/clock.hpp"

namespace auditbot::test {

class TeamsSigningKey {
 public:
  // Generates a fresh 2048-bit RSA key (OpenSSL) with this kid and these endorsements.
  explicit TeamsSigningKey(std::string kid = "test-kid-1",
                           std::vector<std::string> endorsements = {"msteams"});
  ~TeamsSigningKey();
  TeamsSigningKey(const TeamsSigningKey&) = delete;
  TeamsSigningKey& operator=(const TeamsSigningKey&) = delete;

  const std::string& kid() const { return kid_; }
  // This key as one JWKS entry ({"kty":"RSA","kid","n","e","endorsements"}).
  nlohmann::json jwk() const;
  // A JWKS document holding this key.
  nlohmann::json jwks() const { return {{"keys", nlohmann::json::array({jwk()})}}; }

  // header.payload.signature signed RS256 with this key; `header` gets alg/kid/typ unless set.
  std::string sign(const nlohmann::json& claims,
                   nlohmann::json header = nlohmann::json::object()) const;
  // HS256 over the token using this key's public JWK text as the HMAC secret (a forgery).
  std::string sign_hs256_with_public_key(const nlohmann::json& claims) const;
  // An unsigned token with alg "none" (a forgery).
  std::string sign_none(const nlohmann::json& claims) const;

  // The claims the Bot Connector sends: iss, aud, exp, nbf, serviceurl.
  static nlohmann::json channel_claims(const std::string& app_id, const std::string& service_url,
                                       TimePoint now,
                                       std::chrono::seconds lifetime = std::chrono::hours(1));

 private:
  struct Impl;
  std::string kid_;
  std::vector<std::string> endorsements_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auditbot::test
