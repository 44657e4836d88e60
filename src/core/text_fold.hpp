// Folding text so that the ways people type one word compare equal: Latin letters with
// diacritics as their base letter, Greek and Cyrillic letters as their lower-case base letter,
// decomposed text's combining marks dropped. Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace rounds {

// The ASCII base letter of a Latin letter with diacritics (U+00C0..U+017F), in its case: 'e' for
// 'ë', 'O' for 'Ø'; 0 for any other code point (and for × and ÷, which sit in that block).
char LatinBaseLetter(char32_t code_point);

// A Greek (U+0386..U+03CE) or Cyrillic (U+0400..U+04FF) letter folded for matching: lower case,
// without the marks that decomposed text would put after it as combining marks, and final sigma
// as sigma. "Ή" and "ή" fold to "η", "Ё" to "е", "Й" to "и" (as "И" + U+0306 reads once the mark
// is dropped), "ς" and "Σ" to "σ". The folded letter is in the same two ranges, so it takes two
// bytes in UTF-8 as the letter did.
struct FoldedLetter {
  char32_t letter = 0;   // 0 for any other code point (punctuation and unassigned ones included)
  bool capital = false;  // the code point is a capital letter
};
FoldedLetter FoldGreekOrCyrillic(char32_t code_point);

// True for the combining diacritical marks (U+0300..U+036F) that decomposed text puts after a
// letter.
inline bool IsCombiningMark(char32_t code_point) { return code_point >= 0x0300 && code_point <= 0x036F; }

// Lower case, with Latin letters as their base letter ("ß" as "ss"), Greek and Cyrillic letters
// as FoldGreekOrCyrillic folds them, combining marks dropped, and curly quotes, Unicode dashes
// and spaces as their ASCII character; everything else (other punctuation and scripts, invalid
// bytes) as it is: "ÉCLAIR", "éclair" and "e" + U+0301 + "clair" all fold to "eclair",
// "patient’s" to "patient's". For case- and accent-blind matching of what someone typed.
std::string FoldForMatching(std::string_view text);

}  // namespace rounds
