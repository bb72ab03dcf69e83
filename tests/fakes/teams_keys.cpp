// Test RSA key, JWKS and token minting for the Teams tests (OpenSSL 3 EVP).
#include "tests/fakes/teams_keys.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <stdexcept>

#include "integrations/teams/jwt.hpp"

namespace auditbot::test {

using teams::base64url_encode;

struct TeamsSigningKey::Impl {
  EVP_PKEY* pkey = nullptr;
  ~Impl() { EVP_PKEY_free(pkey); }
};

TeamsSigningKey::TeamsSigningKey(std::string kid, std::vector<std::string> endorsements)
    : kid_(std::move(kid)),
      endorsements_(std::move(endorsements)),
      impl_(std::make_unique<Impl>()) {
  impl_->pkey = EVP_RSA_gen(2048);
  if (!impl_->pkey) throw std::runtime_error("RSA key generation failed");
}

TeamsSigningKey::~TeamsSigningKey() = default;

namespace {
std::string bn_b64(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) throw std::runtime_error("no RSA param");
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return base64url_encode(bytes);
}

std::string segment(const nlohmann::json& j) {
  return base64url_encode(j.dump());
}
}  // namespace

nlohmann::json TeamsSigningKey::jwk() const {
  return {{"kty", "RSA"},
          {"use", "sig"},
          {"kid", kid_},
          {"n", bn_b64(impl_->pkey, OSSL_PKEY_PARAM_RSA_N)},
          {"e", bn_b64(impl_->pkey, OSSL_PKEY_PARAM_RSA_E)},
          {"endorsements", endorsements_}};
}

std::string TeamsSigningKey::sign(const nlohmann::json& claims, nlohmann::json header) const {
  if (!header.contains("alg")) header["alg"] = "RS256";
  if (!header.contains("kid")) header["kid"] = kid_;
  if (!header.contains("typ")) header["typ"] = "JWT";
  const std::string input = segment(header) + "." + segment(claims);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::size_t len = 0;
  std::string sig;
  if (EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, impl_->pkey) == 1 &&
      EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) == 1) {
    sig.resize(len);
    if (EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
      sig.clear();
    }
    sig.resize(len);
  }
  EVP_MD_CTX_free(md);
  if (sig.empty()) throw std::runtime_error("RS256 signing failed");
  return input + "." + base64url_encode(sig);
}

std::string TeamsSigningKey::sign_hs256_with_public_key(const nlohmann::json& claims) const {
  const nlohmann::json header = {{"alg", "HS256"}, {"kid", kid_}, {"typ", "JWT"}};
  const std::string input = segment(header) + "." + segment(claims);
  const std::string secret = jwk().dump();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), mac_len));
}

std::string TeamsSigningKey::sign_none(const nlohmann::json& claims) const {
  const nlohmann::json header = {{"alg", "none"}, {"kid", kid_}, {"typ", "JWT"}};
  return segment(header) + "." + segment(claims) + ".";
}

nlohmann::json TeamsSigningKey::channel_claims(const std::string& app_id,
                                               const std::string& service_url, TimePoint now,
                                               std::chrono::seconds lifetime) {
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return {{"iss", "https://api.botframework.com"},
          {"aud", app_id},
          {"serviceurl", service_url},
          {"nbf", t - 60},
          {"exp", t + lifetime.count()}};
}

}  // namespace auditbot::test
