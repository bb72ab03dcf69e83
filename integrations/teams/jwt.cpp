// Bot Framework inbound JWT validation with OpenSSL 3 EVP.
#include "integrations/teams/jwt.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

namespace auditbot::teams {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      parts.emplace_back(s.substr(start));
      return parts;
    }
    parts.emplace_back(s.substr(start, dot - start));
    start = dot + 1;
  }
}

std::optional<nlohmann::json> json_object(std::string_view b64) {
  const auto raw = base64url_decode(b64);
  if (!raw) return std::nullopt;
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::optional<std::int64_t> numeric_claim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  return static_cast<std::int64_t>(it->get<double>());
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool audience_matches(const nlohmann::json& claims, const std::string& audience) {
  if (audience.empty()) return false;  // a bot without an app id accepts nothing
  const auto it = claims.find("aud");
  if (it == claims.end()) return false;
  if (it->is_string()) return it->get<std::string>() == audience;
  if (it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_string() && a.get<std::string>() == audience) return true;
    }
  }
  return false;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

PkeyPtr rsa_public_key(const Jwk& key) {
  const auto n = base64url_decode(key.n);
  const auto e = base64url_decode(key.e);
  if (!n || !e || n->empty() || e->empty()) return nullptr;
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                           static_cast<int>(n->size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                           static_cast<int>(e->size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* ctx = nullptr;
  EVP_PKEY* pkey = nullptr;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
      (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr &&
      (ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr)) != nullptr &&
      EVP_PKEY_fromdata_init(ctx) == 1) {
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return PkeyPtr(pkey);
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  // Padding is tolerated only at the very end (some JWKS publish padded values).
  while (!text.empty() && text.back() == '=')
    text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = decode_char(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

KeySet KeySet::parse(const nlohmann::json& jwks) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    throw std::invalid_argument("JWKS has no keys array");
  }
  KeySet set;
  for (const auto& k : jwks["keys"]) {
    if (!k.is_object()) continue;
    Jwk key;
    key.kty = k.value("kty", "");
    key.kid = k.value("kid", "");
    key.n = k.value("n", "");
    key.e = k.value("e", "");
    if (key.kty != "RSA" || key.kid.empty() || key.n.empty() || key.e.empty()) continue;
    if (const auto it = k.find("endorsements"); it != k.end() && it->is_array()) {
      for (const auto& en : *it) {
        if (en.is_string()) key.endorsements.push_back(en.get<std::string>());
      }
    }
    set.keys_.push_back(std::move(key));
  }
  return set;
}

const Jwk* KeySet::find(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

bool verify_rs256(const Jwk& key, std::string_view signing_input, std::string_view signature) {
  const auto pkey = rsa_public_key(key);
  // Short RSA moduli are forgeable; Microsoft's keys are 2048 bits.
  if (!pkey || EVP_PKEY_get_bits(pkey.get()) < 2048) return false;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  if (!md) return false;
  bool ok = EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, pkey.get()) == 1 &&
            EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(),
                             reinterpret_cast<const unsigned char*>(signing_input.data()),
                             signing_input.size()) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

std::string_view to_string(TokenError e) {
  switch (e) {
    case TokenError::none:
      return "none";
    case TokenError::missing_header:
      return "missing_header";
    case TokenError::not_bearer:
      return "not_bearer";
    case TokenError::malformed:
      return "malformed";
    case TokenError::bad_algorithm:
      return "bad_algorithm";
    case TokenError::unknown_kid:
      return "unknown_kid";
    case TokenError::bad_signature:
      return "bad_signature";
    case TokenError::bad_issuer:
      return "bad_issuer";
    case TokenError::bad_audience:
      return "bad_audience";
    case TokenError::expired:
      return "expired";
    case TokenError::not_yet_valid:
      return "not_yet_valid";
    case TokenError::not_endorsed:
      return "not_endorsed";
    case TokenError::service_url_mismatch:
      return "service_url_mismatch";
  }
  return "unknown";
}

TokenCheck validate_channel_token(std::string_view authorization, const KeySet& keys,
                                  const TokenExpectations& expect, std::string_view channel_id,
                                  std::string_view service_url, TimePoint now) {
  TokenCheck out;
  auto fail = [&out](TokenError e) {
    out.error = e;
    out.claims = nullptr;
    return out;
  };
  if (authorization.empty()) return fail(TokenError::missing_header);
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.substr(0, kBearer.size()) != kBearer) {
    return fail(TokenError::not_bearer);
  }
  const std::string_view token = authorization.substr(kBearer.size());
  const auto parts = split_dots(token);
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty()) {
    return fail(TokenError::malformed);
  }
  const auto header = json_object(parts[0]);
  const auto claims = json_object(parts[1]);
  const auto signature = base64url_decode(parts[2]);
  if (!header || !claims || !signature) return fail(TokenError::malformed);

  // Only RS256: "none" and HMAC with the public key as secret are the classic forgeries.
  if (header->value("alg", "") != "RS256") return fail(TokenError::bad_algorithm);
  out.kid = header->value("kid", "");
  const Jwk* key = out.kid.empty() ? nullptr : keys.find(out.kid);
  if (!key) return fail(TokenError::unknown_kid);
  const std::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!verify_rs256(*key, signing_input, *signature)) return fail(TokenError::bad_signature);

  const std::string issuer = claims->value("iss", "");
  if (!contains(expect.issuers, issuer)) return fail(TokenError::bad_issuer);
  if (!audience_matches(*claims, expect.audience)) return fail(TokenError::bad_audience);

  const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto skew = expect.skew.count();
  const auto exp = numeric_claim(*claims, "exp");
  if (!exp || t > *exp + skew) return fail(TokenError::expired);
  if (const auto nbf = numeric_claim(*claims, "nbf"); nbf && t + skew < *nbf) {
    return fail(TokenError::not_yet_valid);
  }

  const bool endorsement_optional = contains(expect.issuers_without_endorsements, issuer);
  if (!(endorsement_optional && key->endorsements.empty()) &&
      !contains(key->endorsements, channel_id)) {
    return fail(TokenError::not_endorsed);
  }
  // The SDK compares the claim to the activity's serviceUrl exactly.
  const auto su = claims->find("serviceurl");
  if (su == claims->end() || !su->is_string() || su->get<std::string>() != service_url) {
    return fail(TokenError::service_url_mismatch);
  }
  out.claims = *claims;
  return out;
}

}  // namespace auditbot::teams
