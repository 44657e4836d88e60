#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "core/crypto.hpp"

namespace rounds {
namespace {

TEST(Clock, FormatsIso8601WithMilliseconds) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

TEST(Crypto, RandomTokensAreLongAndDistinct) {
  ASSERT_TRUE(crypto::InitCrypto());
  std::string a = crypto::RandomToken();
  std::string b = crypto::RandomToken();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 43u);  // 256 bits in unpadded base64url
}

TEST(Crypto, Sha256MatchesKnownVector) {
  EXPECT_EQ(crypto::Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Crypto, PasswordHashVerifiesOnlyTheRightPassword) {
  ASSERT_TRUE(crypto::InitCrypto());
  auto hash = crypto::HashPassword("correct horse battery", /*fast=*/true);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(crypto::VerifyPassword("correct horse battery", *hash));
  EXPECT_FALSE(crypto::VerifyPassword("correct horse batterz", *hash));
}

TEST(Config, EnvironmentOverridesDefaults) {
  Config config;
  ASSERT_TRUE(ApplyEnvironment({{"ROUNDS_PORT", "9191"}, {"ROUNDS_DEMO", "true"}}, config));
  EXPECT_EQ(config.port, 9191);
  EXPECT_TRUE(config.demo);
}

TEST(Config, RejectsNonNumericPort) {
  Config config;
  auto status = ApplyEnvironment({{"ROUNDS_PORT", "80a"}}, config);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(config.port, 8080);
}

TEST(Config, FileRejectsUnknownKeys) {
  std::string path = ::testing::TempDir() + "/rounds-config-test.toml";
  {
    std::ofstream out(path);
    out << "port = 9000\nallowed_origins = [\"https://a.example\", \"https://b.example\"]\n";
  }
  Config config;
  ASSERT_TRUE(ApplyConfigFile(path, config));
  EXPECT_EQ(config.port, 9000);
  EXPECT_EQ(config.allowed_origins.size(), 2u);
  {
    std::ofstream out(path);
    out << "prot = 9000\n";
  }
  auto status = ApplyConfigFile(path, config);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().field, "prot");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace rounds
