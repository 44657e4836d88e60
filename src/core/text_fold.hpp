// Folding text so that the ways people type one word compare equal: Latin letters with
// diacritics as their base letter, Greek and Cyrillic letters as their lower-case base letter,
// Armenian and Georgian capitals as their small letters, decomposed text's combining marks
// dropped. Folding never lengthens text. Pure functions.
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

// An Armenian or Georgian letter folded for matching as Unicode's simple case folding folds it:
// an Armenian capital (U+0531..U+0556) as its small letter (U+0561..U+0586), so "ՀԱՅԿ" and
// "Հայկ" both fold to "հայկ"; a Georgian Mtavruli capital (U+1C90..U+1CBA, U+1CBD..U+1CBF) as
// its Mkhedruli letter (U+10D0..U+10FA, U+10FD..U+10FF); a Georgian Asomtavruli capital
// (U+10A0..U+10C5, U+10C7, U+10CD) as its Nuskhuri letter (U+2D00..U+2D25, U+2D27, U+2D2D); a
// small letter (Armenian U+0560..U+0588, Mkhedruli, Nuskhuri) as itself. `letter` is 0 for
// anything else (Georgian punctuation U+10FB and unassigned code points included). The folded
// letter takes as many bytes in UTF-8 as the letter did: two for Armenian, three for Georgian.
FoldedLetter FoldArmenianOrGeorgian(char32_t code_point);

// True for the combining diacritical marks (U+0300..U+036F) that decomposed text puts after a
// letter.
inline bool IsCombiningMark(char32_t code_point) { return code_point >= 0x0300 && code_point <= 0x036F; }

// Lower case, with Latin letters as their base letter ("ß" as "ss"), Greek and Cyrillic letters
// as FoldGreekOrCyrillic folds them, Armenian and Georgian letters as FoldArmenianOrGeorgian
// does, combining marks dropped, and curly quotes, Unicode dashes and spaces as their ASCII
// character; everything else (other punctuation and scripts, invalid bytes) as it is: "ÉCLAIR",
// "éclair" and "e" + U+0301 + "clair" all fold to "eclair", "patient’s" to "patient's". Never
// longer than `text`. For case- and accent-blind matching of what someone typed.
std::string FoldForMatching(std::string_view text);

}  // namespace rounds
