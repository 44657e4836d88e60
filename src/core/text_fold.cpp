#include "core/text_fold.hpp"

#include "core/json_text.hpp"

namespace rounds {
namespace {

constexpr char kLatinBase[] =
    "AAAAAAACEEEEIIII" "DNOOOOO?OUUUUYTs" "aaaaaaaceeeeiiii" "dnooooo?ouuuuyty"   // U+00C0..U+00FF
    "AaAaAaCcCcCcCcDd" "DdEeEeEeEeEeGgGg" "GgGgHhHhIiIiIiIi" "IiIiJjKkkLlLlLlL"   // U+0100..U+013F
    "lLlNnNnNnnNnOoOo" "OoOoRrRrRrSsSsSs" "SsTtTtTtUuUuUuUu" "UuUuWwYyYZzZzZzs";  // U+0140..U+017F
static_assert(sizeof kLatinBase == 0x180 - 0xC0 + 1);

}  // namespace

char LatinBaseLetter(char32_t code_point) {
  if (code_point < 0xC0 || code_point > 0x17F) return 0;
  const char base = kLatinBase[code_point - 0xC0];
  return base == '?' ? 0 : base;
}

std::string FoldForMatching(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 < 0x80) {
      out.push_back(b0 >= 'A' && b0 <= 'Z' ? static_cast<char>(b0 - 'A' + 'a') : static_cast<char>(b0));
      ++i;
      continue;
    }
    // Anything not folded (other scripts, invalid bytes) is copied as it is.
    const std::size_t length = Utf8SequenceLength(text, i);
    if (length != 0) {
      const char32_t cp = Utf8CodePoint(text, i, length);
      if (IsCombiningMark(cp)) {
        i += length;
        continue;
      }
      if (const char base = LatinBaseLetter(cp); base != 0) {
        out.push_back(base >= 'A' && base <= 'Z' ? static_cast<char>(base - 'A' + 'a') : base);
        i += length;
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

}  // namespace rounds
