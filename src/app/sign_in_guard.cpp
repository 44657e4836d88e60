#include "app/sign_in_guard.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include "core/crypto.hpp"

namespace rounds::app {
namespace {

constexpr std::string_view kVersion = "d1";
constexpr std::string_view kMfaVersion = "m1";
constexpr UnixMillis kDeviceTokenLifetime = 365LL * 24 * 60 * 60 * 1000;
constexpr UnixMillis kMfaTokenLifetime = 5 * 60 * 1000;

// The two kinds of token have their own labels under the MAC: neither passes for the other.
std::string Mac(domain::UserId user, UnixMillis issued_at, std::string_view nonce, const std::string& password_hash,
                std::string_view version) {
  std::string message = version == kVersion ? "rounds-device-token|" : "rounds-mfa-token|";
  message += version;
  message += '|';
  message += std::to_string(user);
  message += '|';
  message += std::to_string(issued_at);
  message += '|';
  message += nonce;
  return crypto::HmacSha256Hex(password_hash, message);
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::optional<std::int64_t> Number(std::string_view text) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// "<version>.<user>.<issued_at>.<nonce>.<mac>", the MAC under the account's password hash.
std::string Issue(std::string_view version, domain::UserId user, const std::string& password_hash, UnixMillis now) {
  const std::string nonce = crypto::RandomToken(16);
  return std::string(version) + "." + std::to_string(user) + "." + std::to_string(now) + "." + nonce + "." +
         Mac(user, now, nonce, password_hash, version);
}

struct Parts {
  domain::UserId user;
  UnixMillis issued_at;
  std::string_view nonce;
  std::string_view mac;
};

// The fields of a token of `version`, unverified.
std::optional<Parts> Parse(std::string_view token, std::string_view version) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  const std::vector<std::string_view> parts = Split(token, '.');
  if (parts.size() != 5 || parts[0] != version || parts[3].empty()) return std::nullopt;
  const std::optional<std::int64_t> user = Number(parts[1]);
  const std::optional<std::int64_t> issued_at = Number(parts[2]);
  if (!user || !issued_at) return std::nullopt;
  return Parts{*user, *issued_at, parts[3], parts[4]};
}

// The token's nonce when it is a token of `version` for `user`, made under `password_hash`, and
// younger than `lifetime`.
std::optional<std::string> Genuine(std::string_view token, std::string_view version, UnixMillis lifetime,
                                   domain::UserId user, const std::string& password_hash, UnixMillis now) {
  if (password_hash.empty()) return std::nullopt;
  const std::optional<Parts> parts = Parse(token, version);
  if (!parts || parts->user != user || parts->issued_at > now || now - parts->issued_at >= lifetime) {
    return std::nullopt;
  }
  if (!crypto::ConstantTimeEquals(parts->mac, Mac(user, parts->issued_at, parts->nonce, password_hash, version))) {
    return std::nullopt;
  }
  return std::string(parts->nonce);
}

}  // namespace

std::string SignInGuard::IssueDeviceToken(domain::UserId user, const std::string& password_hash, UnixMillis now) {
  return Issue(kVersion, user, password_hash, now);
}

std::string SignInGuard::IssueMfaToken(domain::UserId user, const std::string& password_hash, UnixMillis now) {
  return Issue(kMfaVersion, user, password_hash, now);
}

std::optional<domain::UserId> SignInGuard::MfaTokenUser(const std::string& token) {
  const std::optional<Parts> parts = Parse(token, kMfaVersion);
  if (!parts) return std::nullopt;
  return parts->user;
}

bool SignInGuard::ValidMfaToken(const std::string& token, domain::UserId user, const std::string& password_hash,
                                UnixMillis now) {
  return Genuine(token, kMfaVersion, kMfaTokenLifetime, user, password_hash, now).has_value();
}

std::optional<std::string> SignInGuard::TrustedDevice(const std::string& token, domain::UserId user,
                                                      const std::string& password_hash, UnixMillis now) {
  std::optional<std::string> nonce = Genuine(token, kVersion, kDeviceTokenLifetime, user, password_hash, now);
  if (!nonce) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (BlockedUntil(devices_, *nonce, now) > now) return std::nullopt;
  return nonce;
}

UnixMillis SignInGuard::AddressBlockedUntil(const std::string& address, UnixMillis now) {
  std::lock_guard lock(mutex_);
  return BlockedUntil(addresses_, address, now);
}

UnixMillis SignInGuard::AddressFailure(const std::string& address, UnixMillis now) {
  std::lock_guard lock(mutex_);
  return Count(addresses_, address, config_.address_lockout_threshold, now);
}

void SignInGuard::DeviceFailure(const std::string& device, UnixMillis now) {
  std::lock_guard lock(mutex_);
  Count(devices_, device, config_.lockout_threshold, now);
}

UnixMillis SignInGuard::BlockedUntil(const std::unordered_map<std::string, Failures>& table, const std::string& key,
                                     UnixMillis now) {
  auto it = table.find(key);
  return it != table.end() && it->second.blocked_until > now ? it->second.blocked_until : 0;
}

UnixMillis SignInGuard::Count(std::unordered_map<std::string, Failures>& table, const std::string& key, int threshold,
                              UnixMillis now) {
  const UnixMillis window = config_.lockout_seconds * 1000;
  if (table.size() >= kMaxTracked && !table.contains(key)) {
    // Forget keys whose window and throttle are over; if every key is still live, start over
    // rather than grow without bound.
    std::erase_if(table, [&](const auto& entry) {
      return entry.second.blocked_until <= now && now - entry.second.window_start >= window;
    });
    if (table.size() >= kMaxTracked) table.clear();
  }
  Failures& f = table[key];
  if (f.blocked_until > now) return f.blocked_until;  // already throttled: nothing more to count
  if (f.count == 0 || now - f.window_start >= window) {
    f.count = 0;
    f.window_start = now;
  }
  f.count += 1;
  if (f.count >= std::max(1, threshold)) {
    f.blocked_until = now + window;
    f.count = 0;
  }
  return f.blocked_until > now ? f.blocked_until : 0;
}

}  // namespace rounds::app
