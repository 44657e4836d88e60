// JSON written straight to text: string escaping and numbers, for documents serialized without
// building a tree (the audit chain's canonical records, a page of messages).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rounds {

// The length of the well-formed UTF-8 sequence starting at text[i] (RFC 3629: no overlong forms,
// no surrogates, nothing past U+10FFFF), or 0 when none starts there. Requires i < text.size().
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i);

// The code point of the well-formed sequence of `length` bytes at text[i], `length` being what
// Utf8SequenceLength returned there.
inline char32_t Utf8CodePoint(std::string_view text, std::size_t i, std::size_t length) {
  const auto byte = [&](std::size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(text[i + k])); };
  if (length == 1) return byte(0);
  char32_t c = byte(0) & (0x7Fu >> length);
  for (std::size_t k = 1; k < length; ++k) c = (c << 6) | (byte(k) & 0x3Fu);
  return c;
}

// What AppendJsonString does with bytes that are not well-formed UTF-8.
enum class Utf8Errors {
  kKeep,     // copy them as they are: an encoding that must reproduce stored bytes exactly
  kReplace,  // write U+FFFD for each, so the document is always valid UTF-8
};

// Appends `value` as a JSON string. Only '"', '\\' and control characters are escaped (the short
// forms where JSON has them, \u00xx otherwise), as RFC 8785 and nlohmann::json::dump() do; every
// other character is copied as UTF-8.
void AppendJsonString(std::string& out, std::string_view value, Utf8Errors errors);

void AppendJsonInt(std::string& out, std::int64_t value);

// A member name as a JSON pointer reference token (RFC 6901): "~" as "~0" and "/" as "~1", which
// would otherwise read as an escape and a step down.
std::string JsonPointerToken(std::string_view name);

// At most `max` code points of `text`, never cutting one in two, with "…" when cut: a sender's
// text echoed in an error message.
std::string ShortenedText(std::string_view text, std::size_t max);

}  // namespace rounds
