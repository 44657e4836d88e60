#include "core/text_fold.hpp"

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
    // Two-byte sequences hold every code point folded here; anything else is copied.
    if (b0 >= 0xC2 && b0 <= 0xDF && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      const char32_t cp = (static_cast<char32_t>(b0 & 0x1F) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3F);
      if (IsCombiningMark(cp)) {
        i += 2;
        continue;
      }
      if (const char base = LatinBaseLetter(cp); base != 0) {
        out.push_back(base >= 'A' && base <= 'Z' ? static_cast<char>(base - 'A' + 'a') : base);
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

}  // namespace rounds
