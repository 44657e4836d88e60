// SignInGuard on its own: device tokens (who made them, for whom, how long, until what changes)
// and the counting of failures per address and per token, with a manual clock.
#include "app/sign_in_guard.hpp"

#include <gtest/gtest.h>

#include "core/crypto.hpp"

namespace rounds::app {
namespace {

constexpr UnixMillis kStart = 1'790'000'000'000;
const std::string kHash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$aGFzaGJ5dGVzaGFzaGJ5dGVz";

class SignInGuardTest : public ::testing::Test {
 protected:
  SignInGuardTest() {
    config_.lockout_threshold = 3;
    config_.address_lockout_threshold = 5;
    config_.lockout_seconds = 600;
  }
  Config config_;
  SignInGuard guard_{config_};
};

TEST_F(SignInGuardTest, ADeviceTokenIsTrustedForItsAccountOnly) {
  const std::string token = SignInGuard::IssueDeviceToken(42, kHash, kStart);
  EXPECT_TRUE(guard_.TrustedDevice(token, 42, kHash, kStart + 1000));
  EXPECT_FALSE(guard_.TrustedDevice(token, 43, kHash, kStart + 1000)) << "another account";
  EXPECT_FALSE(guard_.TrustedDevice(token, 42, kHash + "x", kStart + 1000)) << "the password changed";
  EXPECT_FALSE(guard_.TrustedDevice("", 42, kHash, kStart));
  EXPECT_FALSE(guard_.TrustedDevice(token, 42, "", kStart)) << "no password hash, no key";
}

TEST_F(SignInGuardTest, ADeviceTokenLastsAYear) {
  const std::string token = SignInGuard::IssueDeviceToken(7, kHash, kStart);
  const UnixMillis year = 365LL * 24 * 60 * 60 * 1000;
  EXPECT_TRUE(guard_.TrustedDevice(token, 7, kHash, kStart + year - 1));
  EXPECT_FALSE(guard_.TrustedDevice(token, 7, kHash, kStart + year));
  EXPECT_FALSE(guard_.TrustedDevice(token, 7, kHash, kStart - 1)) << "issued in the future";
}

// Every part of the token is covered by its MAC: changing any one character, or moving the
// token to another account or time, makes it untrusted.
TEST_F(SignInGuardTest, EveryChangeToATokenIsRefused) {
  const std::string token = SignInGuard::IssueDeviceToken(42, kHash, kStart);
  ASSERT_TRUE(guard_.TrustedDevice(token, 42, kHash, kStart));
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (char replacement : {'0', '9', 'a', 'f', '.', 'Z'}) {
      if (token[i] == replacement) continue;
      std::string changed = token;
      changed[i] = replacement;
      EXPECT_FALSE(guard_.TrustedDevice(changed, 42, kHash, kStart + 1)) << changed;
    }
  }
  EXPECT_FALSE(guard_.TrustedDevice(token + "0", 42, kHash, kStart));
  EXPECT_FALSE(guard_.TrustedDevice(token.substr(0, token.size() - 1), 42, kHash, kStart));
  std::string other_owner = token;
  other_owner.replace(3, 2, "43");  // "d1.42." -> "d1.43."
  EXPECT_FALSE(guard_.TrustedDevice(other_owner, 43, kHash, kStart));
}

TEST_F(SignInGuardTest, TwoTokensOfOneAccountAreDifferent) {
  const std::string a = SignInGuard::IssueDeviceToken(42, kHash, kStart);
  const std::string b = SignInGuard::IssueDeviceToken(42, kHash, kStart);
  EXPECT_NE(a, b);
  EXPECT_NE(*guard_.TrustedDevice(a, 42, kHash, kStart), *guard_.TrustedDevice(b, 42, kHash, kStart));
}

TEST_F(SignInGuardTest, AnAddressIsThrottledAtItsThresholdForTheWindow) {
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(guard_.AddressFailure("192.0.2.1", kStart + i), 0) << i;
    EXPECT_EQ(guard_.AddressBlockedUntil("192.0.2.1", kStart + i), 0);
  }
  const UnixMillis until = guard_.AddressFailure("192.0.2.1", kStart + 5);
  EXPECT_EQ(until, kStart + 5 + 600'000);
  EXPECT_EQ(guard_.AddressBlockedUntil("192.0.2.1", kStart + 6), until);
  EXPECT_EQ(guard_.AddressBlockedUntil("192.0.2.2", kStart + 6), 0) << "other addresses are not";
  EXPECT_EQ(guard_.AddressFailure("192.0.2.1", kStart + 7), until) << "failures while throttled do not extend it";
  EXPECT_EQ(guard_.AddressBlockedUntil("192.0.2.1", until), 0);
  EXPECT_EQ(guard_.AddressFailure("192.0.2.1", until + 1), 0) << "counting starts over";
}

TEST_F(SignInGuardTest, FailuresOlderThanTheWindowNoLongerCount) {
  for (int i = 0; i < 4; ++i) guard_.AddressFailure("198.51.100.9", kStart + i);
  EXPECT_EQ(guard_.AddressFailure("198.51.100.9", kStart + 600'000), 0) << "a new window began";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(guard_.AddressFailure("198.51.100.9", kStart + 600'001 + i), 0);
  EXPECT_GT(guard_.AddressFailure("198.51.100.9", kStart + 600'010), 0);
}

TEST_F(SignInGuardTest, ADeviceTokenWithTooManyFailuresIsLockedForTheWindow) {
  const std::string token = SignInGuard::IssueDeviceToken(42, kHash, kStart);
  const std::string other = SignInGuard::IssueDeviceToken(42, kHash, kStart);
  const std::string nonce = *guard_.TrustedDevice(token, 42, kHash, kStart);
  for (int i = 0; i < 3; ++i) guard_.DeviceFailure(nonce, kStart + i);
  EXPECT_FALSE(guard_.TrustedDevice(token, 42, kHash, kStart + 10));
  EXPECT_TRUE(guard_.TrustedDevice(other, 42, kHash, kStart + 10)) << "only that token";
  EXPECT_TRUE(guard_.TrustedDevice(token, 42, kHash, kStart + 2 + 600'000));
}

}  // namespace
}  // namespace rounds::app
