// Inbound Bot Framework token validation: a genuine token passes, every forgery is refused.
#include <gtest/gtest.h>

#include "integrations/teams/jwt.hpp"
#include "tests/fakes/teams_keys.hpp"

namespace auditbot::teams {
namespace {

using test::TeamsSigningKey;
using namespace std::chrono_literals;

const std::string kApp = "11111111-2222-3333-4444-555555555555";
const std::string kService = "https://smba.trafficmanager.net/amer/";
const TimePoint kNow = TimePoint(std::chrono::seconds(1'790'000'000));

class JwtTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    key_ = new TeamsSigningKey("kid-1", {"msteams", "skype"});
    other_ = new TeamsSigningKey("kid-other", {"msteams"});
  }
  static void TearDownTestSuite() {
    delete key_;
    delete other_;
  }
  JwtTest() {
    keys_ = KeySet::parse(key_->jwks());
    expect_.audience = kApp;
  }
  TokenCheck check(const std::string& token, TimePoint now = kNow, std::string service = kService,
                   std::string channel = "msteams") {
    return validate_channel_token("Bearer " + token, keys_, expect_, channel, service, now);
  }
  nlohmann::json claims() const { return TeamsSigningKey::channel_claims(kApp, kService, kNow); }

  static TeamsSigningKey* key_;
  static TeamsSigningKey* other_;
  KeySet keys_;
  TokenExpectations expect_;
};
TeamsSigningKey* JwtTest::key_ = nullptr;
TeamsSigningKey* JwtTest::other_ = nullptr;

TEST(Base64Url, RoundTripsAllByteValuesAndRejectsForeignCharacters) {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len < 8; ++len) {
    const auto part = all.substr(100, len);
    EXPECT_EQ(base64url_decode(base64url_encode(part)), part);
  }
  EXPECT_EQ(base64url_decode(base64url_encode(all)), all);
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("aGk="), "hi");
  EXPECT_FALSE(base64url_decode("a+b/"));
  EXPECT_FALSE(base64url_decode("a.b"));
  EXPECT_FALSE(base64url_decode("abcde"));
}

TEST_F(JwtTest, GenuineConnectorTokenIsAccepted) {
  const auto r = check(key_->sign(claims()));
  ASSERT_TRUE(r.ok()) << to_string(r.error);
  EXPECT_EQ(r.claims["serviceurl"], kService);
}

TEST_F(JwtTest, AlgNoneIsRejected) {
  EXPECT_EQ(check(key_->sign_none(claims())).error, TokenError::bad_algorithm);
}

TEST_F(JwtTest, Hs256SignedWithThePublicKeyIsRejected) {
  EXPECT_EQ(check(key_->sign_hs256_with_public_key(claims())).error, TokenError::bad_algorithm);
}

TEST_F(JwtTest, WrongAudienceIsRejected) {
  auto c = claims();
  c["aud"] = "someone-elses-bot";
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::bad_audience);
  c["aud"] = nlohmann::json::array({"x", "y"});
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::bad_audience);
  c["aud"] = nlohmann::json::array({"x", kApp});
  EXPECT_TRUE(check(key_->sign(c)).ok());
}

TEST_F(JwtTest, WrongIssuerIsRejected) {
  auto c = claims();
  c["iss"] = "https://evil.example/";
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::bad_issuer);
  c.erase("iss");
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::bad_issuer);
}

TEST_F(JwtTest, ExpiryAllowsFiveMinutesOfSkewAndNoMore) {
  const auto token = key_->sign(claims());  // exp = now + 1h
  EXPECT_TRUE(check(token, kNow + 1h + 4min).ok());
  EXPECT_EQ(check(token, kNow + 1h + 6min).error, TokenError::expired);
  auto c = claims();
  c.erase("exp");
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::expired);
}

TEST_F(JwtTest, NotBeforeAllowsFiveMinutesOfSkew) {
  auto c = claims();
  c["nbf"] =
      std::chrono::duration_cast<std::chrono::seconds>((kNow + 4min).time_since_epoch()).count();
  EXPECT_TRUE(check(key_->sign(c)).ok());
  c["nbf"] =
      std::chrono::duration_cast<std::chrono::seconds>((kNow + 6min).time_since_epoch()).count();
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::not_yet_valid);
}

TEST_F(JwtTest, ServiceUrlClaimMustEqualTheActivitysServiceUrl) {
  const auto token = key_->sign(claims());
  EXPECT_EQ(check(token, kNow, "https://evil.example/amer/").error,
            TokenError::service_url_mismatch);
  auto c = claims();
  c.erase("serviceurl");
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::service_url_mismatch);
}

TEST_F(JwtTest, UnknownKidIsRejectedAndNamed) {
  const auto r = check(other_->sign(claims()));
  EXPECT_EQ(r.error, TokenError::unknown_kid);
  EXPECT_EQ(r.kid, "kid-other");
}

TEST_F(JwtTest, SignatureByAnotherKeyUnderAKnownKidIsRejected) {
  EXPECT_EQ(check(other_->sign(claims(), {{"kid", "kid-1"}})).error, TokenError::bad_signature);
}

TEST_F(JwtTest, TamperedPayloadIsRejected) {
  const auto token = key_->sign(claims());
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  auto c = claims();
  c["aud"] = kApp;
  c["serviceurl"] = "https://evil.example/";
  const std::string forged =
      token.substr(0, first + 1) + base64url_encode(c.dump()) + token.substr(second);
  EXPECT_EQ(check(forged, kNow, "https://evil.example/").error, TokenError::bad_signature);
}

TEST_F(JwtTest, KeyWithoutTheChannelsEndorsementIsRejected) {
  TeamsSigningKey skype_only("kid-skype", {"skype"});
  keys_ = KeySet::parse(skype_only.jwks());
  EXPECT_EQ(check(skype_only.sign(claims())).error, TokenError::not_endorsed);
  TeamsSigningKey no_endorsements("kid-none", {});
  keys_ = KeySet::parse(no_endorsements.jwks());
  EXPECT_EQ(check(no_endorsements.sign(claims())).error, TokenError::not_endorsed);
  // The same genuine token is refused when the activity claims another channel.
  keys_ = KeySet::parse(key_->jwks());
  EXPECT_EQ(check(key_->sign(claims()), kNow, kService, "webchat").error, TokenError::not_endorsed);
}

TEST_F(JwtTest, MissingOrNonBearerHeaderIsRejected) {
  EXPECT_EQ(validate_channel_token("", keys_, expect_, "msteams", kService, kNow).error,
            TokenError::missing_header);
  EXPECT_EQ(validate_channel_token("Basic " + key_->sign(claims()), keys_, expect_, "msteams",
                                   kService, kNow)
                .error,
            TokenError::not_bearer);
  EXPECT_EQ(validate_channel_token("Bearer ", keys_, expect_, "msteams", kService, kNow).error,
            TokenError::not_bearer);
}

TEST_F(JwtTest, GarbageTokensAreRejected) {
  for (const std::string& garbage : std::vector<std::string>{
           "abc", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9..", "%%%.%%%.%%%",
           base64url_encode("[1]") + "." + base64url_encode("{}") + ".AA",
           base64url_encode("{\"alg\":\"RS256\"") + "." + base64url_encode("{}") + ".AA"}) {
    EXPECT_FALSE(check(garbage).ok()) << garbage;
  }
}

TEST_F(JwtTest, EmptyAudienceConfigurationAcceptsNothing) {
  expect_.audience.clear();
  auto c = claims();
  c["aud"] = "";
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::bad_audience);
}

TEST_F(JwtTest, TenantIssuerIsAcceptedOnlyWhenConfigured) {
  auto c = claims();
  c["iss"] = "https://sts.windows.net/tenant-1/";
  EXPECT_EQ(check(key_->sign(c)).error, TokenError::bad_issuer);
  expect_.issuers.push_back("https://sts.windows.net/tenant-1/");
  EXPECT_TRUE(check(key_->sign(c)).ok());
}

TEST(KeySetParse, SkipsNonRsaKeysAndRejectsDocumentsWithoutKeys) {
  const auto set = KeySet::parse(nlohmann::json::parse(
      R"({"keys":[{"kty":"EC","kid":"e1","x":"a","y":"b"},{"kty":"RSA","kid":"r1","n":"AQAB","e":"AQAB","endorsements":["msteams"]}]})"));
  EXPECT_EQ(set.size(), 1u);
  ASSERT_NE(set.find("r1"), nullptr);
  EXPECT_EQ(set.find("r1")->endorsements, std::vector<std::string>{"msteams"});
  EXPECT_EQ(set.find("e1"), nullptr);
  EXPECT_THROW(KeySet::parse(nlohmann::json::object()), std::invalid_argument);
}

TEST(VerifyRs256, ShortKeysAreRefused) {
  // A 512-bit modulus (any bytes) is refused before any signature maths.
  Jwk k{"k", "RSA", base64url_encode(std::string(64, '\x9f')), "AQAB", {"msteams"}};
  EXPECT_FALSE(verify_rs256(k, "x.y", std::string(64, '\0')));
}

}  // namespace
}  // namespace auditbot::teams
