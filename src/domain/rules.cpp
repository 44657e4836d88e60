#include "domain/rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace rounds::domain {
namespace {

// Passwords that meet the length rule yet appear in public breach lists; compared lower-cased.
constexpr std::array<std::string_view, 40> kCommonLongPasswords = {
    "123456789012", "1234567890123", "12345678901234", "123456789abc", "qwertyuiopas",
    "qwertyuiop12", "qwertyuiop123", "qwerty123456", "password1234", "password12345",
    "passwordpassword", "iloveyou1234", "abcdefghijkl", "abc123456789", "111111111111",
    "000000000000", "aaaaaaaaaaaa", "letmein12345", "welcome12345", "welcome123456",
    "administrator", "changeme1234", "trustno12345", "football1234", "baseball1234",
    "sunshine1234", "princess1234", "qazwsxedcrfv", "1q2w3e4r5t6y", "zaq12wsxcde3",
    "passw0rd1234", "p@ssw0rd1234", "hospital1234", "nurse1234567", "doctor123456",
    "summer2024!!", "winter2024!!", "spring2025!!", "monkey123456", "dragon123456"};

}  // namespace

bool Can(const Standing& s, SpaceAction action) {
  const bool member = s.role.has_value();
  const MemberRole role = s.role.value_or(MemberRole::kReadOnly);
  const bool writer = member && role >= MemberRole::kMember && !s.space_archived;
  const bool moderator = member && role >= MemberRole::kModerator;
  const bool owner = member && role == MemberRole::kOwner;
  switch (action) {
    case SpaceAction::kRead: return member || s.space_is_public || s.is_admin;
    case SpaceAction::kPost:
    case SpaceAction::kReply:
    case SpaceAction::kReact: return writer;
    case SpaceAction::kAnnounce: return writer && owner;
    case SpaceAction::kPin:
    case SpaceAction::kAcceptAnyAnswer: return moderator && !s.space_archived;
    case SpaceAction::kDeleteOthers: return moderator || s.is_admin;
    case SpaceAction::kAddMembers: return (moderator && !s.space_archived) || s.is_admin;
    case SpaceAction::kRemoveMembers: return moderator || s.is_admin;
    case SpaceAction::kChangeRoles:
    case SpaceAction::kUpdateSpace: return owner || s.is_admin;
  }
  return false;
}

std::string_view ToString(SpaceAction action) {
  switch (action) {
    case SpaceAction::kRead: return "read";
    case SpaceAction::kPost: return "post";
    case SpaceAction::kReply: return "reply";
    case SpaceAction::kReact: return "react";
    case SpaceAction::kAnnounce: return "announce";
    case SpaceAction::kPin: return "pin";
    case SpaceAction::kAcceptAnyAnswer: return "accept_any_answer";
    case SpaceAction::kDeleteOthers: return "delete_others";
    case SpaceAction::kAddMembers: return "add_members";
    case SpaceAction::kRemoveMembers: return "remove_members";
    case SpaceAction::kChangeRoles: return "change_roles";
    case SpaceAction::kUpdateSpace: return "update_space";
  }
  return "unknown";
}

std::optional<PolicyViolation> CheckPassword(std::string_view password, std::string_view username) {
  if (!IsValidUtf8(password)) {
    return PolicyViolation{"invalid_utf8", "The password is not valid text."};
  }
  std::size_t length = CodePointCount(password);
  if (length < kMinPasswordLength) {
    return PolicyViolation{"weak_password", "Use at least 12 characters; a phrase of a few words works well."};
  }
  if (password.size() > kMaxPasswordLength) {
    return PolicyViolation{"weak_password", "Use at most 256 characters."};
  }
  std::string lower;
  for (char c : password) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (std::string_view common : kCommonLongPasswords) {
    if (lower == common) {
      return PolicyViolation{"weak_password", "That password is too common; choose another."};
    }
  }
  if (std::all_of(lower.begin(), lower.end(), [&](char c) { return c == lower[0]; })) {
    return PolicyViolation{"weak_password", "That password repeats one character."};
  }
  if (!username.empty() && lower.find(username) != std::string::npos) {
    return PolicyViolation{"weak_password", "The password must not contain the username."};
  }
  return std::nullopt;
}

bool IsValidUsername(std::string_view u) {
  if (u.size() < 2 || u.size() > 64) return false;
  if (!std::isalnum(static_cast<unsigned char>(u[0]))) return false;
  return std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

bool IsValidUtf8(std::string_view text) {
  std::size_t i = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  while (i < n) {
    unsigned char c = s[i];
    std::size_t extra;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      if (i + k >= n || (s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

std::size_t CodePointCount(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::vector<std::string> ExtractMentions(std::string_view body) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '@') continue;
    // The @ must start a word: not part of an e-mail address or another token.
    if (i > 0) {
      unsigned char before = static_cast<unsigned char>(body[i - 1]);
      if (std::isalnum(before) || before == '.' || before == '_' || before == '-' || before == '@') continue;
    }
    std::size_t j = i + 1;
    std::string name;
    while (j < body.size()) {
      char c = static_cast<char>(std::tolower(static_cast<unsigned char>(body[j])));
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-') {
        name.push_back(c);
        ++j;
      } else {
        break;
      }
    }
    while (!name.empty() && (name.back() == '.' || name.back() == '-')) name.pop_back();  // "@ana." ends a sentence
    if (IsValidUsername(name) && std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(name);
    }
    i = j > i ? j - 1 : i;
  }
  return names;
}

std::string DirectKey(std::vector<UserId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::string key;
  for (UserId id : ids) {
    if (!key.empty()) key.push_back(',');
    key += std::to_string(id);
  }
  return key;
}

}  // namespace rounds::domain
