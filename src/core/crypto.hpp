// Cryptographic helpers over libsodium. InitCrypto() must run once before any other call
// (main and test binaries do it). All functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace rounds::crypto {

// Initializes libsodium. Returns false if it cannot (no entropy source).
bool InitCrypto();

// A URL-safe base64 string of `bytes` random bytes from the CSPRNG (32 bytes = 256 bits).
std::string RandomToken(std::size_t bytes = 32);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Lower-case hex of `bytes`, and back: std::nullopt for an odd length or a character that is
// not a hex digit.
std::string ToHex(std::string_view bytes);
std::optional<std::string> FromHex(std::string_view hex);
// Standard base64 with padding (RFC 4648 section 4), as HTTP digest fields carry a hash.
std::string Base64(std::string_view bytes);

// Raw 32-byte SHA-256 of `data` (OpenSSL's, with libsodium's as the fallback).
std::string Sha256(std::string_view data);

// SHA-256 of data given in pieces (a file written a piece at a time): the same digest as
// Sha256Hex of the pieces joined.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  // Lower-case hex; once. Empty if the library failed (it does not, short of memory).
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Lower-case hex HMAC-SHA-256 of `message` under `key` (any length; RFC 2104).
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// Raw 20-byte HMAC-SHA-1 of `message` under `key` (RFC 2104). For TOTP only: RFC 6238's default,
// and the one algorithm every authenticator app supports.
std::string HmacSha1(std::string_view key, std::string_view message);

// RFC 4648 base32 (upper case, no padding), the form authenticator apps take secrets in.
std::string Base32Encode(std::string_view bytes);
// The bytes of base32 `text`: either case, spaces and '=' padding ignored. std::nullopt for any
// other character or leftover bits that are not zero.
std::optional<std::string> Base32Decode(std::string_view text);

// The RFC 6238 time-based one-time code of `secret` (raw bytes) for time step `step` (Unix seconds
// / 30): HOTP (RFC 4226) of the step, `digits` decimal digits with leading zeros.
std::string TotpCode(std::string_view secret, std::int64_t step, int digits = 6);

// `size` bytes from the CSPRNG.
std::string RandomBytes(std::size_t size);

// Authenticated encryption of small secrets under a 32-byte key (libsodium secretbox,
// XSalsa20-Poly1305, a random nonce each time): lower-case hex of nonce and ciphertext.
inline constexpr std::size_t kSecretKeyBytes = 32;
std::string SealSecret(std::string_view key, std::string_view plaintext);
// The plaintext of SealSecret's output, or std::nullopt when it was not sealed under `key` or was
// altered.
std::optional<std::string> OpenSecret(std::string_view key, std::string_view sealed);

// Constant-time comparison of two equal-length strings; false when lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Argon2id hashing (libsodium crypto_pwhash_str, INTERACTIVE limits unless `fast` is set for
// tests and demo seeding, which uses the MIN limits). Returns the encoded hash string.
// Expensive (~70 ms, 64 MiB): callers cap concurrency. kInternal when out of memory.
Result<std::string> HashPassword(std::string_view password, bool fast = false);
// True when `password` matches `encoded_hash`.
bool VerifyPassword(std::string_view password, const std::string& encoded_hash);

}  // namespace rounds::crypto
