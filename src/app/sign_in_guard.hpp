// What slows password guessing down without letting a guesser lock the real user out (OWASP's
// "device cookies"): each successful sign-in gets a device token, and a sign-in that presents a
// valid one for its account is trusted. Untrusted sign-ins are throttled twice: per account (the
// lock-out kept with the account's credentials, AuthService) and per source address (here), so
// guessing one password for many accounts from one address is stopped as well as guessing many
// passwords for one account from many addresses. A trusted sign-in passes both; its failures
// lock its own device token only. Thread-safe; the counters live in memory (an address or a
// token starts clean after a restart, the account's lock-out does not).
//
// A device token is "d1.<user id>.<issued at, ms>.<nonce>.<mac>", the mac an HMAC-SHA-256 under
// the account's password hash (a server-side secret): a token only the server can make, valid
// for one account, for a year, and only until the password changes.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/config.hpp"
#include "domain/types.hpp"

namespace rounds::app {

class SignInGuard {
 public:
  // Limits from `config`, read at each call: address_lockout_threshold untrusted failures from one
  // address, or lockout_threshold with one device token, within lockout_seconds throttle it for
  // lockout_seconds.
  explicit SignInGuard(const Config& config) : config_(config) {}

  // A new device token for `user`, whose credentials hold `password_hash`.
  static std::string IssueDeviceToken(domain::UserId user, const std::string& password_hash, UnixMillis now);
  // The token's nonce when `token` is a valid device token of `user` (made under its current
  // password hash, less than a year old) that is not locked; std::nullopt otherwise.
  std::optional<std::string> TrustedDevice(const std::string& token, domain::UserId user,
                                           const std::string& password_hash, UnixMillis now);

  // The token that carries a sign-in from its password step to its second factor: made under
  // the account's password hash, valid five minutes. MfaTokenUser reads the account it names
  // (unverified: look up its credentials, then ValidMfaToken).
  static std::string IssueMfaToken(domain::UserId user, const std::string& password_hash, UnixMillis now);
  static std::optional<domain::UserId> MfaTokenUser(const std::string& token);
  static bool ValidMfaToken(const std::string& token, domain::UserId user, const std::string& password_hash,
                            UnixMillis now);

  // Until when untrusted sign-ins from `address` are refused (0: they are not).
  UnixMillis AddressBlockedUntil(const std::string& address, UnixMillis now);
  // Counts an untrusted failure from `address`; returns AddressBlockedUntil afterwards.
  UnixMillis AddressFailure(const std::string& address, UnixMillis now);
  // Counts a failure with the device token whose nonce is `device`; at the threshold the token
  // is locked for the window (the sign-ins that present it are then untrusted).
  void DeviceFailure(const std::string& device, UnixMillis now);

 private:
  struct Failures {
    int count = 0;
    UnixMillis window_start = 0;
    UnixMillis blocked_until = 0;
  };
  // Counts a failure in `table`, bounded to kMaxTracked keys; returns blocked_until.
  UnixMillis Count(std::unordered_map<std::string, Failures>& table, const std::string& key, int threshold,
                   UnixMillis now);
  static UnixMillis BlockedUntil(const std::unordered_map<std::string, Failures>& table, const std::string& key,
                                 UnixMillis now);

  static constexpr std::size_t kMaxTracked = 100'000;
  const Config& config_;
  std::mutex mutex_;
  std::unordered_map<std::string, Failures> addresses_;  // guarded by mutex_
  std::unordered_map<std::string, Failures> devices_;    // guarded by mutex_; by nonce
};

}  // namespace rounds::app
