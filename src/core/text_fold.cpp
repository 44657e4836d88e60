#include "core/text_fold.hpp"

#include <iterator>

#include "core/json_text.hpp"

namespace rounds {
namespace {

constexpr char kLatinBase[] =
    "AAAAAAACEEEEIIII" "DNOOOOO?OUUUUYTs" "aaaaaaaceeeeiiii" "dnooooo?ouuuuyty"   // U+00C0..U+00FF
    "AaAaAaCcCcCcCcDd" "DdEeEeEeEeEeGgGg" "GgGgHhHhIiIiIiIi" "IiIiJjKkkLlLlLlL"   // U+0100..U+013F
    "lLlNnNnNnnNnOoOo" "OoOoRrRrRrSsSsSs" "SsTtTtTtUuUuUuUu" "UuUuWwYyYZzZzZzs";  // U+0140..U+017F
static_assert(sizeof kLatinBase == 0x180 - 0xC0 + 1);

// Each code point's folded letter, '?' for what is not a letter: from Unicode's lower-case
// mappings and canonical decompositions (the decomposition's first code point is the base).
constexpr char16_t kGreekBase[] =
    u"??????α?εηι?ο?υω" u"ιαβγδεζηθικλμνξο" u"πρ?στυφχψωιυαεηι"   // U+0380..U+03AF
    u"υαβγδεζηθικλμνξο" u"πρσστυφχψωιυουω?";                      // U+03B0..U+03CF
constexpr char16_t kCyrillicBase[] =
    u"ееђгєѕііјљњћкиуџ" u"абвгдежзииклмноп" u"рстуфхцчшщъыьэюя" u"абвгдежзииклмноп"   // U+0400..U+043F
    u"рстуфхцчшщъыьэюя" u"ееђгєѕііјљњћкиуџ" u"ѡѡѣѣѥѥѧѧѩѩѫѫѭѭѯѯ" u"ѱѱѳѳѵѵѵѵѹѹѻѻѽѽѿѿ"   // U+0440..U+047F
    u"ҁҁ????????ҋҋҍҍҏҏ" u"ґґғғҕҕҗҗҙҙққҝҝҟҟ" u"ҡҡңңҥҥҧҧҩҩҫҫҭҭүү" u"ұұҳҳҵҵҷҷҹҹһһҽҽҿҿ"   // U+0480..U+04BF
    u"ӏжжӄӄӆӆӈӈӊӊӌӌӎӎӏ" u"ааааӕӕееәәәәжжзз" u"ӡӡииииооөөөөээуу" u"ууууччӷӷыыӻӻӽӽӿӿ";  // U+04C0..U+04FF
static_assert(std::size(kGreekBase) == 0x3D0 - 0x380 + 1 && std::size(kCyrillicBase) == 0x500 - 0x400 + 1);

// A Latin letter typed into the tables by mistake would look right and fold Greek or Cyrillic
// text to Latin.
constexpr bool OnlyLettersOf(const char16_t* table, std::size_t size, char16_t first, char16_t last) {
  for (std::size_t i = 0; i + 1 < size; ++i) {
    if (table[i] != u'?' && (table[i] < first || table[i] > last)) return false;
  }
  return true;
}
static_assert(OnlyLettersOf(kGreekBase, std::size(kGreekBase), 0x3B1, 0x3C9));
static_assert(OnlyLettersOf(kCyrillicBase, std::size(kCyrillicBase), 0x430, 0x4FF));

// What typing software puts for an ASCII character: a curly quote or apostrophe (phones type
// "patient’s"), a Unicode dash, a space that does not break. 0 for anything else.
char AsciiPunctuation(char32_t cp) {
  if (cp == 0x2018 || cp == 0x2019 || cp == 0x02BC) return '\'';
  if (cp == 0x201C || cp == 0x201D) return '"';
  if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212) return '-';
  if (cp == 0x00A0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F || cp == 0x3000) return ' ';
  return 0;
}

// The bytes of a code point in UTF-8.
constexpr std::size_t Utf8Length(char32_t cp) {
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

void AppendUtf8(std::string& out, char32_t cp) {  // a folded letter, U+0080..U+FFFF: two or three bytes
  if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
  }
  out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
}

// Unicode's simple case folding of Armenian and Georgian: each capital is a fixed distance from
// its small letter.
constexpr FoldedLetter ArmenianOrGeorgian(char32_t cp) {
  if (cp >= 0x0531 && cp <= 0x0556) return {cp + 0x30, true};  // Armenian capitals
  if (cp >= 0x0560 && cp <= 0x0588) return {cp, false};        // Armenian small letters
  if ((cp >= 0x10A0 && cp <= 0x10C5) || cp == 0x10C7 || cp == 0x10CD) {
    return {cp - 0x10A0 + 0x2D00, true};  // Asomtavruli as Nuskhuri
  }
  if ((cp >= 0x10D0 && cp <= 0x10FA) || (cp >= 0x10FD && cp <= 0x10FF)) return {cp, false};  // Mkhedruli
  if ((cp >= 0x1C90 && cp <= 0x1CBA) || (cp >= 0x1CBD && cp <= 0x1CBF)) {
    return {cp - 0x1C90 + 0x10D0, true};  // Mtavruli as Mkhedruli
  }
  if ((cp >= 0x2D00 && cp <= 0x2D25) || cp == 0x2D27 || cp == 0x2D2D) return {cp, false};  // Nuskhuri
  return {};
}

// Folding never lengthens text (the PHI scanner's normalization writes into buffers sized once):
// every folded letter takes as many bytes as the letter it replaces.
constexpr bool KeepsItsLength() {
  for (char32_t cp = 0x0500; cp < 0x2E00; ++cp) {
    const FoldedLetter folded = ArmenianOrGeorgian(cp);
    if (folded.letter != 0 && Utf8Length(folded.letter) != Utf8Length(cp)) return false;
  }
  return true;
}
static_assert(KeepsItsLength());

}  // namespace

char LatinBaseLetter(char32_t code_point) {
  if (code_point < 0xC0 || code_point > 0x17F) return 0;
  const char base = kLatinBase[code_point - 0xC0];
  return base == '?' ? 0 : base;
}

FoldedLetter FoldGreekOrCyrillic(char32_t code_point) {
  char16_t letter = u'?';
  if (code_point >= 0x386 && code_point <= 0x3CE) {
    letter = kGreekBase[code_point - 0x380];
  } else if (code_point >= 0x400 && code_point <= 0x4FF) {
    letter = kCyrillicBase[code_point - 0x400];
  }
  if (letter == u'?') return {};
  // Capitals come before their small letters: a block of each in Greek and in U+0400..U+045F,
  // then pairs, the capital first but in U+04C1..U+04CE (after U+04C0, whose small letter is
  // U+04CF).
  bool capital;
  if (code_point <= 0x3CE) {
    capital = code_point <= 0x3AB && code_point != 0x390;  // U+0390 is a small iota
  } else if (code_point < 0x460) {
    capital = code_point < 0x430;
  } else if (code_point >= 0x4C0 && code_point <= 0x4CF) {
    capital = code_point == 0x4C0 || (code_point % 2 == 1 && code_point != 0x4CF);
  } else {
    capital = code_point % 2 == 0;
  }
  return {letter, capital};
}

FoldedLetter FoldArmenianOrGeorgian(char32_t code_point) { return ArmenianOrGeorgian(code_point); }

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
      if (cp == 0xDF) {  // ß: "straße" is "STRASSE" in capitals
        out += "ss";
        i += length;
        continue;
      }
      if (const char base = LatinBaseLetter(cp); base != 0) {
        out.push_back(base >= 'A' && base <= 'Z' ? static_cast<char>(base - 'A' + 'a') : base);
        i += length;
        continue;
      }
      FoldedLetter folded = FoldGreekOrCyrillic(cp);
      if (folded.letter == 0) folded = FoldArmenianOrGeorgian(cp);
      if (folded.letter != 0) {
        AppendUtf8(out, folded.letter);
        i += length;
        continue;
      }
      if (const char ascii = AsciiPunctuation(cp); ascii != 0) {
        out.push_back(ascii);
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
