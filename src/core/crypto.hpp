// Cryptographic helpers over libsodium. InitCrypto() must run once before any other call
// (main and test binaries do it). All functions are thread-safe.
#pragma once

#include <cstddef>
#include <memory>
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

// Constant-time comparison of two equal-length strings; false when lengths differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Argon2id hashing (libsodium crypto_pwhash_str, INTERACTIVE limits unless `fast` is set for
// tests and demo seeding, which uses the MIN limits). Returns the encoded hash string.
// Expensive (~70 ms, 64 MiB): callers cap concurrency. kInternal when out of memory.
Result<std::string> HashPassword(std::string_view password, bool fast = false);
// True when `password` matches `encoded_hash`.
bool VerifyPassword(std::string_view password, const std::string& encoded_hash);

}  // namespace rounds::crypto
