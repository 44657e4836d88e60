// Chat normalization for the PHI scanner (pure, thread-safe).
//
// Rules are written for plain ASCII; people type identifiers with full-width digits, zero-width
// characters, non-breaking spaces and Unicode dashes. NormalizeForScan folds those to ASCII, and
// Greek, Cyrillic, Armenian and Georgian letters to one lower-case form, and keeps, for every
// byte of the result, where it came from, so findings map back to byte spans of the original
// text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rounds::governance::phi {

class NormalizedText {
 public:
  // The text to match against. Views the original when nothing needed folding.
  std::string_view text() const {
    return source_.empty() ? original_ : std::string_view(storage_);
  }
  // Original byte span for the normalized byte span [begin, end).
  std::size_t OriginalBegin(std::size_t begin) const;
  std::size_t OriginalEnd(std::size_t end) const;
  bool identity() const { return source_.empty(); }
  // Whether the letter at normalized byte `pos` was typed as a capital: an ASCII capital, or a
  // Greek, Cyrillic, Armenian or Georgian one (Mtavruli and Asomtavruli are Georgian's
  // capitals). Folding lower-cases those scripts' letters, so the folded text no longer shows
  // it; every letter folded to ASCII keeps its case there.
  bool CapitalAt(std::size_t pos) const;

 private:
  friend NormalizedText NormalizeForScan(std::string_view original, NormalizedText&& reuse);
  std::string_view original_;
  std::string storage_;
  // source_[i]: original offset of the character that produced normalized byte i;
  // source_[size] is the original length. Empty when the text is unchanged.
  std::vector<std::uint32_t> source_;
};

// Folds to ASCII: Latin letters with diacritics (U+00C0..U+017F) to their base letter, combining
// marks (U+0300..U+036F) dropped, full-width forms U+FF01..U+FF5E, Unicode spaces (U+00A0, U+2000..U+200A,
// U+202F, U+205F, U+3000) to ' ', dashes (U+2010..U+2015, U+2212, U+FE58, U+FE63, U+FF0D) to
// '-', curly quotes to ASCII quotes; drops zero-width characters (U+200B..U+200D, U+2060, U+FEFF,
// U+00AD). Greek (U+0386..U+03CE) and Cyrillic (U+0400..U+04FF) letters become their lower-case
// base letter (FoldGreekOrCyrillic: "ΔΗΜΗΤΡΗΣ" and "Δημήτρης" both "δημητρησ"), except the Cyrillic
// letters that look Latin (а, е, о, р, с, у, х), which become that Latin letter in the case they
// were typed in. Armenian capitals (U+0531..U+0556) and Georgian ones (Mtavruli U+1C90..U+1CBF,
// Asomtavruli U+10A0..U+10CD) become their small letters (FoldArmenianOrGeorgian: "ՀԱՅԿ" and
// "Հայկ" both "հայկ", Mtavruli as Mkhedruli). A folded letter takes as many bytes as the one it
// replaces, so the result is never longer than `original`. Other bytes pass through unchanged
// (invalid UTF-8 too). `reuse` lends its buffers. The result may view `original`, which must
// outlive it.
NormalizedText NormalizeForScan(std::string_view original, NormalizedText&& reuse = {});

}  // namespace rounds::governance::phi
