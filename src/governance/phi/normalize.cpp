#include "governance/phi/normalize.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/text_fold.hpp"

namespace rounds::governance::phi {
namespace {

// Decodes one UTF-8 sequence at `i`; returns the code point and sets `len`, or -1 (len = 1)
// when the bytes are not valid UTF-8.
long DecodeUtf8(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  auto byte = [&](std::size_t k) { return static_cast<long>(static_cast<unsigned char>(s[i + k]) & 0x3F); };
  len = 1;
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(1)) {
    len = 2;
    return (static_cast<long>(b0 & 0x1F) << 6) | byte(1);
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(1) && cont(2)) {
    len = 3;
    return (static_cast<long>(b0 & 0x0F) << 12) | (byte(1) << 6) | byte(2);
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    len = 4;
    return (static_cast<long>(b0 & 0x07) << 18) | (byte(1) << 12) | (byte(2) << 6) | byte(3);
  }
  return -1;
}

// What a code point folds to: a code point, nothing (kDrop), or itself (kKeep).
constexpr long kKeep = -1;
constexpr long kDrop = -2;

// "Дмитрий", "ДМИТРИЙ" and "дмитрий" read alike, and so do "Δημήτρης" and "ΔΗΜΗΤΡΗΣ": a Greek
// or Cyrillic letter is its lower-case letter without accents (Greek in capitals leaves them
// out, and decomposed text's are dropped). A Cyrillic letter that looks Latin is the Latin letter,
// in the case it was typed: a Latin name spelled with a few of them ("Mаria" with a Cyrillic а)
// reads as the name, and capitals stay capitals for the rules that read the folded text's case.
// Either way a name keys alike in any case, since NameKey lower-cases ASCII letters.
long FoldGreekOrCyrillicLetter(long cp) {
  const FoldedLetter folded = FoldGreekOrCyrillic(static_cast<char32_t>(cp));
  char latin = 0;
  switch (folded.letter) {
    case 0: return kKeep;
    case 0x0430: latin = 'a'; break;
    case 0x0435: latin = 'e'; break;
    case 0x043E: latin = 'o'; break;
    case 0x0440: latin = 'p'; break;
    case 0x0441: latin = 'c'; break;
    case 0x0445: latin = 'x'; break;
    case 0x0443: latin = 'y'; break;
    default: return folded.letter == static_cast<char32_t>(cp) ? kKeep : static_cast<long>(folded.letter);
  }
  return folded.capital ? latin - 'a' + 'A' : latin;
}

long Fold(long cp) {
  // "Zoë", "ZOË" and "Zoe" followed by U+0308 all read "Zoe": a Latin letter with diacritics is its
  // base letter, and combining marks (decomposed text, as macOS writes file names) are dropped, so
  // the letter before them stands for the whole character.
  if (cp >= 0xC0 && cp <= 0x17F) {
    const char base = LatinBaseLetter(static_cast<char32_t>(cp));
    return base == 0 ? kKeep : base;
  }
  if (IsCombiningMark(static_cast<char32_t>(cp))) return kDrop;
  if (cp >= 0x0386 && cp <= 0x04FF) return FoldGreekOrCyrillicLetter(cp);
  if (cp >= 0xFF01 && cp <= 0xFF5E) return cp - 0xFF01 + 0x21;
  if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD) return kDrop;
  if (cp == 0x00A0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
      cp == 0x3000) {
    return ' ';
  }
  if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xFE58 || cp == 0xFE63) return '-';
  if (cp == 0x2018 || cp == 0x2019 || cp == 0x02BC) return '\'';
  if (cp == 0x201C || cp == 0x201D) return '"';
  // "ՀԱՅԿ" and "Հայկ" read alike, and so does Georgian in Mtavruli capitals and in Mkhedruli: an
  // Armenian or Georgian capital (U+0531..U+1CBF) is its small letter, and small letters are
  // kept as they are.
  if (cp >= 0x0531 && cp <= 0x1CBF) {
    if (const FoldedLetter folded = FoldArmenianOrGeorgian(static_cast<char32_t>(cp)); folded.capital) {
      return static_cast<long>(folded.letter);
    }
  }
  return kKeep;
}

// The end of the run of ASCII bytes starting at `i`, eight bytes at a time.
std::size_t AsciiRunEnd(std::string_view s, std::size_t i) {
  while (i + 8 <= s.size()) {
    std::uint64_t word;
    std::memcpy(&word, s.data() + i, 8);
    if (word & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

}  // namespace

std::size_t NormalizedText::OriginalBegin(std::size_t begin) const {
  return source_.empty() ? begin : source_[begin];
}

std::size_t NormalizedText::OriginalEnd(std::size_t end) const {
  return source_.empty() ? end : source_[end];
}

bool NormalizedText::CapitalAt(std::size_t pos) const {
  const auto c = static_cast<unsigned char>(text()[pos]);
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  std::size_t len = 1;
  const long cp = DecodeUtf8(original_, OriginalBegin(pos), len);
  if (cp < 0) return false;
  const auto code_point = static_cast<char32_t>(cp);
  return FoldGreekOrCyrillic(code_point).capital || FoldArmenianOrGeorgian(code_point).capital;
}

NormalizedText NormalizeForScan(std::string_view original, NormalizedText&& reuse) {
  NormalizedText out = std::move(reuse);
  // The buffers keep their size from the last use: resizing from there zero-fills only growth,
  // and every byte up to the new size is written below anyway. An unchanged text clears
  // source_, which is what marks it unchanged.
  const std::size_t first = AsciiRunEnd(original, 0);
  if (first == original.size()) {
    out.source_.clear();
    out.original_ = original;  // plain ASCII: nothing to fold
    return out;
  }
  // Scan for a character that actually folds before paying for the copy.
  bool changes = false;
  for (std::size_t i = first; i < original.size() && !changes;) {
    if (static_cast<unsigned char>(original[i]) < 0x80) {
      i = AsciiRunEnd(original, i);
      continue;
    }
    std::size_t len = 1;
    const long cp = DecodeUtf8(original, i, len);
    if (cp >= 0 && Fold(cp) != kKeep) changes = true;
    i += len;
  }
  out.original_ = original;
  if (!changes) {
    out.source_.clear();
    return out;
  }
  // Folding never lengthens the text, so the buffers are sized once and written by index.
  out.storage_.resize(original.size());
  out.source_.resize(original.size() + 1);
  char* dst = out.storage_.data();
  std::uint32_t* src = out.source_.data();
  // The ASCII prefix is copied as it is.
  std::copy_n(original.data(), first, dst);
  for (std::size_t i = 0; i < first; ++i) src[i] = static_cast<std::uint32_t>(i);  // vectorized
  std::size_t k = first;
  for (std::size_t i = first; i < original.size();) {
    // A run of ASCII is copied in one go (pasted documents are mostly ASCII around a few
    // folded characters).
    const std::size_t run_end = AsciiRunEnd(original, i);
    if (run_end > i) {
      const std::size_t len = run_end - i;
      std::copy_n(original.data() + i, len, dst + k);
      for (std::size_t j = 0; j < len; ++j) src[k + j] = static_cast<std::uint32_t>(i + j);
      k += len;
      i = run_end;
      continue;
    }
    std::size_t len = 1;
    const long cp = DecodeUtf8(original, i, len);
    const long folded = cp >= 0 ? Fold(cp) : kKeep;
    if (folded == kDrop) {
      // nothing emitted; the dropped bytes fall inside whatever span covers their neighbours
    } else if (folded == kKeep) {
      for (std::size_t j = 0; j < len; ++j) {
        dst[k] = original[i + j];
        src[k++] = static_cast<std::uint32_t>(i);
      }
    } else if (folded < 0x80) {
      dst[k] = static_cast<char>(folded);
      src[k++] = static_cast<std::uint32_t>(i);
    } else {
      // A Greek, Cyrillic or Armenian letter takes two bytes, a Georgian one three: as many as
      // the letter it replaces (FoldGreekOrCyrillic, FoldArmenianOrGeorgian), so never more than
      // the `len` bytes read.
      if (folded < 0x800) {
        dst[k] = static_cast<char>(0xC0 | (folded >> 6));
        src[k++] = static_cast<std::uint32_t>(i);
      } else {
        dst[k] = static_cast<char>(0xE0 | (folded >> 12));
        src[k++] = static_cast<std::uint32_t>(i);
        dst[k] = static_cast<char>(0x80 | ((folded >> 6) & 0x3F));
        src[k++] = static_cast<std::uint32_t>(i);
      }
      dst[k] = static_cast<char>(0x80 | (folded & 0x3F));
      src[k++] = static_cast<std::uint32_t>(i);
    }
    i += len;
  }
  out.storage_.resize(k);
  out.source_.resize(k + 1);
  out.source_[k] = static_cast<std::uint32_t>(original.size());
  return out;
}

}  // namespace rounds::governance::phi
