#include "domain/rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "core/json_text.hpp"
#include "domain/password_lists.hpp"

namespace rounds::domain {
namespace {

char UndoLeet(char c) {
  switch (c) {
    case '0': return 'o';
    case '1': return 'i';
    case '3': return 'e';
    case '4': return 'a';
    case '5': return 's';
    case '7': return 't';
    case '@': return 'a';
    case '$': return 's';
    default: return c;
  }
}

bool IsDecoration(char c) { return !std::isalpha(static_cast<unsigned char>(c)); }

// What is left of a password once the usual decorations are gone: leading and trailing digits,
// symbols and spaces stripped, inner separators removed, digit-for-letter swaps undone.
// "P@ssw0rd-2024!" -> "password"; "monkey monkey 1" -> "monkeymonkey".
std::string CoreWord(std::string_view lower) {
  std::size_t begin = 0;
  std::size_t end = lower.size();
  while (begin < end && IsDecoration(lower[begin]) && lower[begin] != '@' && lower[begin] != '$') ++begin;
  while (end > begin && IsDecoration(lower[end - 1])) --end;
  std::string core;
  for (char c : lower.substr(begin, end - begin)) {
    if (c == ' ' || c == '-' || c == '_' || c == '.' || c == '+') continue;
    core.push_back(UndoLeet(c));
  }
  return core;
}

// True when `text` is one unit of at most `max_unit` characters repeated, the last time perhaps
// in part ("abcabcabcab").
bool IsRepetition(std::string_view text, std::size_t max_unit) {
  for (std::size_t unit = 1; unit <= max_unit && unit < text.size(); ++unit) {
    bool repeats = true;
    for (std::size_t i = unit; i < text.size() && repeats; ++i) repeats = text[i] == text[i - unit];
    if (repeats) return true;
  }
  return false;
}

// True when `core` is a common word, or one repeated ("dragondragon").
bool IsCommonWordOrRepeat(const std::string& core) {
  if (core.empty()) return false;
  if (passwords::IsCommonBaseWord(core)) return true;
  for (std::size_t unit = 3; unit <= core.size() / 2; ++unit) {
    if (core.size() % unit != 0) continue;
    std::string_view first(core.data(), unit);
    bool repeats = true;
    for (std::size_t i = unit; i < core.size() && repeats; i += unit) repeats = core.compare(i, unit, first) == 0;
    if (repeats && passwords::IsCommonBaseWord(first)) return true;
  }
  return false;
}

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
    case SpaceAction::kReadOthersHistory: return moderator || s.is_admin;
    case SpaceAction::kAddMembers: return (moderator && !s.space_archived) || s.is_admin;
    case SpaceAction::kRemoveMembers: return moderator || s.is_admin;
    case SpaceAction::kChangeRoles:
    case SpaceAction::kUpdateSpace: return owner || s.is_admin;
    case SpaceAction::kExport:
    case SpaceAction::kModerate: return moderator;
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
    case SpaceAction::kReadOthersHistory: return "read_others_history";
    case SpaceAction::kAddMembers: return "add_members";
    case SpaceAction::kRemoveMembers: return "remove_members";
    case SpaceAction::kChangeRoles: return "change_roles";
    case SpaceAction::kUpdateSpace: return "update_space";
    case SpaceAction::kExport: return "export";
    case SpaceAction::kModerate: return "moderate";
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
  if (passwords::IsCommonLongPassword(lower)) {
    return PolicyViolation{"weak_password", "That password is too common; choose another."};
  }
  if (IsRepetition(lower, 4)) {
    return PolicyViolation{"weak_password", "That password repeats a few characters; choose another."};
  }
  if (passwords::IsKeyboardOrAlphabetWalk(lower)) {
    return PolicyViolation{"weak_password", "That password is a run of keys or letters; choose another."};
  }
  if (IsCommonWordOrRepeat(CoreWord(lower))) {
    return PolicyViolation{"weak_password",
                           "That password is a common word with digits or symbols added; choose another."};
  }
  // Very short usernames ("jo") would rule out too many good passwords. Compared in lower case
  // on both sides, whatever case the caller's copy of the username is in.
  std::string lower_username;
  for (char c : username) lower_username.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (username.size() >= 3 && lower.find(lower_username) != std::string::npos) {
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
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

namespace {

// Code points that are emoji on their own (Unicode's Extended_Pictographic blocks and the
// older symbols presented as emoji).
bool IsPictograph(char32_t c) {
  return c == 0xA9 || c == 0xAE || c == 0x203C || c == 0x2049 || c == 0x2122 || c == 0x2139 ||
         (c >= 0x2194 && c <= 0x21AA) || (c >= 0x231A && c <= 0x23FF) || c == 0x24C2 ||
         (c >= 0x25AA && c <= 0x27BF) || c == 0x2934 || c == 0x2935 || (c >= 0x2B05 && c <= 0x2B55) ||
         c == 0x3030 || c == 0x303D || c == 0x3297 || c == 0x3299 || (c >= 0x1F000 && c <= 0x1F0FF) ||
         (c >= 0x1F200 && c <= 0x1FAFF) ||
         // Of the enclosed letters (U+1F100..U+1F1FF) only the emoji: 🅰 🅱 🅾 🅿 🆎 and 🆑..🆚. The
         // rest are letters in boxes and circles, which would spell a name in a reaction.
         c == 0x1F170 || c == 0x1F171 || c == 0x1F17E || c == 0x1F17F || c == 0x1F18E ||
         (c >= 0x1F191 && c <= 0x1F19A);
}

// Regional indicators (U+1F1E6..U+1F1FF) are letters that make a flag in pairs.
bool IsRegionalIndicator(char32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }

// Code points that combine whatever they follow: the zero-width joiner and the variation
// selectors. The keycap and the tags combine only in sequences of their own (IsEmoji).
bool IsEmojiCombiner(char32_t c) { return c == 0x200D || c == 0xFE0E || c == 0xFE0F; }

// Emoji keycap sequences (UTS #51 ED-14c): one of these, perhaps U+FE0F, then U+20E3.
constexpr char32_t kCombiningKeycap = 0x20E3;
bool IsKeycapBase(char32_t c) { return (c >= '0' && c <= '9') || c == '#' || c == '*'; }

// Emoji tag sequences (UTS #51 ED-14a), the subdivision flags: the black flag, a tag spec that
// spells a subdivision id in tag digits and lower-case tag letters (a region and one to three
// more: "gbeng" is England), and the cancel tag. Anything longer is text hidden in a flag.
constexpr char32_t kBlackFlag = 0x1F3F4;
constexpr char32_t kCancelTag = 0xE007F;
constexpr std::size_t kMinTagSpec = 3;
constexpr std::size_t kMaxTagSpec = 5;
bool IsTag(char32_t c) { return c >= 0xE0020 && c <= 0xE007F; }
bool IsTagSpec(char32_t c) { return (c >= 0xE0030 && c <= 0xE0039) || (c >= 0xE0061 && c <= 0xE007A); }

}  // namespace

bool IsDisplayText(std::string_view text) {
  bool visible = false;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    const char32_t c = Utf8CodePoint(text, i, length);
    i += length;
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)) {
      return false;
    }
    if (c != ' ' && c != 0xA0 && c != 0x3000 && !(c >= 0x2000 && c <= 0x200B)) visible = true;
  }
  return visible;
}

bool IsEmoji(std::string_view text) {
  constexpr std::size_t kMaxCodePoints = 8;
  if (text.empty() || text.size() > 64 || !IsValidUtf8(text) || CodePointCount(text) > kMaxCodePoints) return false;
  std::array<char32_t, kMaxCodePoints> code_points{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = Utf8SequenceLength(text, i);
    code_points[count++] = Utf8CodePoint(text, i, length);
    i += length;
  }
  bool pictograph = false;
  bool flag = false;
  for (std::size_t at = 0; at < count;) {
    const char32_t c = code_points[at];
    if (IsRegionalIndicator(c)) {
      // One flag: a pair, once. More would spell words, a letter per indicator.
      if (flag || at + 1 >= count || !IsRegionalIndicator(code_points[at + 1])) return false;
      flag = pictograph = true;
      at += 2;
    } else if (IsKeycapBase(c)) {
      // 1️⃣, #️⃣: the keycap makes this one character an emoji, and only when it follows at once.
      std::size_t keycap_at = at + 1;
      if (keycap_at < count && code_points[keycap_at] == 0xFE0F) ++keycap_at;
      if (keycap_at >= count || code_points[keycap_at] != kCombiningKeycap) return false;
      pictograph = true;
      at = keycap_at + 1;
    } else if (c == kBlackFlag && at + 1 < count && IsTag(code_points[at + 1])) {
      std::size_t end = at + 1;
      while (end < count && IsTagSpec(code_points[end])) ++end;
      const std::size_t spec_length = end - (at + 1);
      if (spec_length < kMinTagSpec || spec_length > kMaxTagSpec || end >= count || code_points[end] != kCancelTag) {
        return false;
      }
      pictograph = true;
      at = end + 1;
    } else if (IsPictograph(c)) {
      pictograph = true;
      ++at;
    } else if (IsEmojiCombiner(c)) {
      ++at;
    } else {
      return false;  // text, or a keycap or tag outside its sequence
    }
  }
  return pictograph;
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
      if (std::isalnum(before) || before >= 0x80 || before == '.' || before == '_' || before == '-' || before == '@') continue;
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
    // A name running on into a non-ASCII letter ("@zo\u00eb") is some other word, not a username.
    if (j < body.size() && static_cast<unsigned char>(body[j]) >= 0x80) name.clear();
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

// ---- Attachments -------------------------------------------------------------------------------

std::string DetectContentType(std::string_view c) {
  auto starts = [&](std::string_view magic) { return c.substr(0, magic.size()) == magic; };
  if (starts("\x89PNG\r\n\x1a\n")) return "image/png";
  if (starts("\xFF\xD8\xFF")) return "image/jpeg";
  if (starts("GIF87a") || starts("GIF89a")) return "image/gif";
  if (starts("RIFF") && c.size() >= 12 && c.substr(8, 4) == "WEBP") return "image/webp";
  if (starts("%PDF-")) return "application/pdf";
  if (starts("PK\x03\x04") || starts("PK\x05\x06")) return "application/zip";
  if (!IsValidUtf8(c) || c.find('\0') != std::string_view::npos) return "application/octet-stream";
  // Text: markup a browser would run is named for what it is.
  std::string head;
  for (char ch : c.substr(0, 512)) head += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
  if (head.find("<svg") != std::string::npos) return "image/svg+xml";
  for (const char* tag : {"<!doctype html", "<html", "<script", "<head", "<body", "<iframe"}) {
    if (head.find(tag) != std::string::npos) return "text/html";
  }
  return "text/plain";
}

bool DeclaredTypeFits(std::string_view declared, std::string_view detected) {
  if (declared.empty() || declared == "application/octet-stream" || declared == detected) return true;
  if (detected == "text/plain") return declared.starts_with("text/") && declared != "text/html";
  if (detected == "application/zip") {
    return declared.starts_with("application/vnd.openxmlformats-officedocument.") ||
           declared.starts_with("application/vnd.oasis.opendocument.") || declared == "application/x-zip-compressed" ||
           declared == "application/epub+zip";
  }
  return false;
}

bool IsInlineSafeType(std::string_view t) {
  return t == "image/png" || t == "image/jpeg" || t == "image/gif" || t == "image/webp" || t == "application/pdf" ||
         t == "text/plain";
}

bool IsTextualType(std::string_view t) { return t == "text/plain" || t == "text/html" || t == "image/svg+xml"; }

bool IsValidFileName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".." || !IsValidUtf8(name)) return false;
  for (unsigned char ch : name) {
    if (ch < 0x20 || ch == 0x7F || ch == '/' || ch == '\\') return false;
  }
  return true;
}

}  // namespace rounds::domain
