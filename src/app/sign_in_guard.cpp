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
                std::string_view version = kVersion) {
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

}  // namespace

std::string SignInGuard::IssueDeviceToken(domain::UserId user, const std::string& password_hash, UnixMillis now) {
  const std::string nonce = crypto::RandomToken(16);
  return std::string(kVersion) + "." + std::to_string(user) + "." + std::to_string(now) + "." + nonce + "." +
         Mac(user, now, nonce, password_hash);
}

std::string SignInGuard::IssueMfaToken(domain::UserId user, const std::string& password_hash, UnixMillis now) {
  const std::string nonce = crypto::RandomToken(16);
  return std::string(kMfaVersion) + "." + std::to_string(user) + "." + std::to_string(now) + "." + nonce + "." +
         Mac(user, now, nonce, password_hash, kMfaVersion);
}

std::optional<domain::UserId> SignInGuard::MfaTokenUser(const std::string& token) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  const std::vector<std::string_view> parts = Split(token, '.');
  if (parts.size() != 5 || parts[0] != kMfaVersion) return std::nullopt;
  return Number(parts[1]);
}

bool SignInGuard::ValidMfaToken(const std::string& token, domain::UserId user, const std::string& password_hash,
                                UnixMillis now) {
  if (password_hash.empty() || MfaTokenUser(token) != user) return false;
  const std::vector<std::string_view> parts = Split(token, '.');
  const std::optional<std::int64_t> issued_at = Number(parts[2]);
  if (!issued_at || *issued_at > now || now - *issued_at >= kMfaTokenLifetime || parts[3].empty()) return false;
  return crypto::ConstantTimeEquals(parts[4], Mac(user, *issued_at, parts[3], password_hash, kMfaVersion));
}

std::optional<std::string> SignInGuard::TrustedDevice(const std::string& token, domain::UserId user,
                                                      const std::string& password_hash, UnixMillis now) {
  if (token.empty() || token.size() > 256 || password_hash.empty()) return std::nullopt;
  const std::vector<std::string_view> parts = Split(token, '.');
  if (parts.size() != 5 || parts[0] != kVersion || parts[3].empty()) return std::nullopt;
  const std::optional<std::int64_t> owner = Number(parts[1]);
  const std::optional<std::int64_t> issued_at = Number(parts[2]);
  if (!owner || *owner != user || !issued_at || *issued_at > now || now - *issued_at >= kDeviceTokenLifetime) {
    return std::nullopt;
  }
  if (!crypto::ConstantTimeEquals(parts[4], Mac(user, *issued_at, parts[3], password_hash))) return std::nullopt;
  std::string nonce(parts[3]);
  std::lock_guard lock(mutex_);
  if (BlockedUntil(devices_, nonce, now) > now) return std::nullopt;
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
