// Pure rules of the domain: who may do what in a space, password policy, mentions, text limits.
// No I/O; every function is deterministic and thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/types.hpp"

namespace rounds::domain {

// Everything a person can try to do inside a space.
enum class SpaceAction {
  kRead,            // read messages, members, pins
  kPost,            // start a message or post
  kReply,           // comment or reply in a thread
  kReact,           // reactions, idea votes, poll votes
  kAnnounce,        // post kind "announcement"
  kPin,
  kAcceptAnyAnswer, // accept an answer on someone else's question
  kReadOthersHistory,  // read the edit history of someone else's message
  kAddMembers,
  kRemoveMembers,   // remove members who are not owners
  kChangeRoles,
  kUpdateSpace,     // name, topic, visibility, join policy, archive
  kExport,          // download the conversation (where the space's template allows exports)
  kModerate,        // review held posts and reports; approve, hide, remove, warn, suspend
};

// The caller's standing in one space, as the app derived it.
struct Standing {
  std::optional<MemberRole> role;   // nullopt: not a member
  bool is_admin = false;            // organization administrator
  bool space_is_public = false;
  bool space_archived = false;
};

// Deny by default: true only for the combinations the table below allows.
bool Can(const Standing& standing, SpaceAction action);
std::string_view ToString(SpaceAction action);

// ---- Accounts ----------------------------------------------------------------------------------

inline constexpr std::size_t kMinPasswordLength = 12;
inline constexpr std::size_t kMaxPasswordLength = 256;

// nullopt when acceptable; otherwise a stable problem code with a reason for people.
struct PolicyViolation {
  std::string problem;
  std::string message;
};
std::optional<PolicyViolation> CheckPassword(std::string_view password, std::string_view username);
// Lower-case letters, digits, '.', '_' and '-', 2 to 64 characters, starting with a letter or digit.
bool IsValidUsername(std::string_view username);

// ---- Text --------------------------------------------------------------------------------------

bool IsValidUtf8(std::string_view text);
// Number of Unicode code points; the text must be valid UTF-8.
std::size_t CodePointCount(std::string_view text);
// A name shown to others on one line (a display name, a hold's name): valid UTF-8 with something
// besides spaces in it, and no control characters (C0, DEL, C1) or bidirectional overrides and
// isolates (U+202A..U+202E, U+2066..U+2069), which would hide or reorder what readers see.
bool IsDisplayText(std::string_view text);
// An emoji as people react with one: one or a few emoji code points (pictographs, symbols, flags),
// with the joiners, variation selectors, skin tones and keycaps that combine them; at most 8 code
// points. No letters, no digits but a keycap's, no other text: a reaction says nothing else.
bool IsEmoji(std::string_view text);
// Usernames mentioned as @name (word-bounded, lower-cased, de-duplicated, in order of appearance).
std::vector<std::string> ExtractMentions(std::string_view body);
// Joins the sorted, de-duplicated ids with ',' — the key of a direct conversation.
std::string DirectKey(std::vector<UserId> member_ids);

// ---- Attachments -------------------------------------------------------------------------------

// The MIME type of a file from its first bytes, never from its name or what the client says:
// image/png, image/jpeg, image/gif, image/webp, application/pdf, application/zip (and the office
// formats built on it), text/html and image/svg+xml (recognized so that they are never served
// inline), text/plain for UTF-8 text without NUL bytes, else application/octet-stream.
std::string DetectContentType(std::string_view content);
// Whether the type a client declared for a file fits what its content is: the same, unstated
// (empty or application/octet-stream), a text type other than HTML for plain text (text/csv,
// text/markdown), or a ZIP-based document format for a ZIP archive (.docx, .xlsx, .odt).
bool DeclaredTypeFits(std::string_view declared, std::string_view detected);
// Whether a browser may show a file of this type inline: images that cannot carry script, PDF and
// plain text. Everything else is served as a download.
bool IsInlineSafeType(std::string_view content_type);
// Whether a detected type is text a person wrote or exported (plain text, CSV, Markdown, HTML,
// SVG): its content is screened for PHI like a message's body. Images, PDF and archives are not.
bool IsTextualType(std::string_view content_type);
// A file name as stored: 1 to 255 bytes of UTF-8, no control characters, no '/' or '\\', not "."
// or "..".
bool IsValidFileName(std::string_view name);

}  // namespace rounds::domain
