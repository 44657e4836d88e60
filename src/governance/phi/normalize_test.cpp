#include "governance/phi/normalize.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace rounds::governance::phi {
namespace {

TEST(PhiNormalize, PlainAsciiIsViewedNotCopied) {
  const std::string text = "call 617-555-0142";
  const NormalizedText n = NormalizeForScan(text);
  EXPECT_TRUE(n.identity());
  EXPECT_EQ(n.text().data(), text.data());
  EXPECT_EQ(n.OriginalEnd(4), 4u);
}

TEST(PhiNormalize, FoldsFullWidthDigitsAndMapsSpansBack) {
  // "call ６１７" : each full-width digit is three bytes.
  const std::string text = "call \xEF\xBC\x96\xEF\xBC\x91\xEF\xBC\x97 ok";
  const NormalizedText n = NormalizeForScan(text);
  EXPECT_EQ(n.text(), "call 617 ok");
  EXPECT_EQ(n.OriginalBegin(5), 5u);
  EXPECT_EQ(n.OriginalEnd(8), 14u);  // after the third full-width digit
  EXPECT_EQ(n.OriginalEnd(n.text().size()), text.size());
}

TEST(PhiNormalize, DropsZeroWidthAndFoldsSpacesDashesQuotes) {
  const std::string text = "98\xE2\x80\x8B" "7\xE2\x80\x93" "65\xC2\xA0" "4321 O\xE2\x80\x99" "Brien";
  const NormalizedText n = NormalizeForScan(text);
  EXPECT_EQ(n.text(), "987-65 4321 O'Brien");
  // The span of "987" ends after the '7', past the zero-width space inside it.
  EXPECT_EQ(n.OriginalEnd(3), 6u);
}

TEST(PhiNormalize, LeavesOtherUnicodeAndInvalidBytesAlone) {
  // Greek already in its folded form, Hebrew, CJK, a bad byte, ×: nothing to fold, nothing copied.
  const std::string text =
      "\xCF\x89\xCE\xBC\xCE\xB5\xCE\xB3\xCE\xB1 \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D \xE6\x9D\x8E \xFF ok \xC3\x97";
  const NormalizedText n = NormalizeForScan(text);
  EXPECT_EQ(n.text(), text);
  EXPECT_TRUE(n.identity());
}

// "Zoë Østergaard" however it is typed: composed, decomposed (a letter and a combining mark, as
// macOS writes file names) or in capitals, reads as the ASCII name, and spans cover the marks.
TEST(PhiNormalize, FoldsAccentedLatinLettersAndDropsCombiningMarks) {
  const std::string composed = "Zo\xC3\xAB \xC3\x98stergaard";
  EXPECT_EQ(NormalizeForScan(composed).text(), "Zoe Ostergaard");
  EXPECT_EQ(NormalizeForScan("ZO\xC3\x8B \xC3\x98STERGAARD").text(), "ZOE OSTERGAARD");
  const std::string decomposed = "Zoe\xCC\x88 O\xCC\xB8stergaard";
  const NormalizedText n = NormalizeForScan(decomposed);
  EXPECT_EQ(n.text(), "Zoe Ostergaard");
  EXPECT_EQ(n.OriginalBegin(0), 0u);
  EXPECT_EQ(n.OriginalEnd(3), 5u) << "the span of 'Zoe' ends after its diaeresis";
  EXPECT_EQ(n.OriginalEnd(n.text().size()), decomposed.size());
  EXPECT_EQ(NormalizeForScan("\xC3\x85ngstr\xC3\xB6m \xC5\x81ukasz \xC5\xA0imek \xC3\x87" "elik").text(),
            "Angstrom Lukasz Simek Celik");
}

// Cyrillic in any case reads as one lower-case form, but for the letters that look Latin: those
// become the Latin letter in the case typed, as a Latin name spelled with a few of them must read.
// "й" and "ё" lose their marks, as decomposed text does ("и" + U+0306 reads "и").
TEST(PhiNormalize, FoldsCyrillicToLowerCaseAndItsLookAlikesToLatin) {
  // "дмитpии ивaнoв", the p, a and o Latin.
  const std::string lower =
      "\xD0\xB4\xD0\xBC\xD0\xB8\xD1\x82" "p" "\xD0\xB8\xD0\xB8 \xD0\xB8\xD0\xB2" "a" "\xD0\xBD" "o" "\xD0\xB2";
  EXPECT_EQ(NormalizeForScan("Дмитрий Иванов").text(), lower);
  EXPECT_EQ(NormalizeForScan("дмитрий иванов").text(), lower);
  EXPECT_EQ(NormalizeForScan("дмитрии\xCC\x86 иванов").text(), lower);  // decomposed й
  // In capitals the look-alikes are Latin capitals: "дмитPии ивAнOв".
  EXPECT_EQ(NormalizeForScan("ДМИТРИЙ ИВАНОВ").text(),
            "\xD0\xB4\xD0\xBC\xD0\xB8\xD1\x82" "P" "\xD0\xB8\xD0\xB8 "
            "\xD0\xB8\xD0\xB2" "A" "\xD0\xBD" "O" "\xD0\xB2");
  EXPECT_EQ(NormalizeForScan("Сёмин").text(), "C" "e" "\xD0\xBC\xD0\xB8\xD0\xBD");  // "Ceмин"
  EXPECT_EQ(NormalizeForScan("ЁЛКА ёлка").text(), "E\xD0\xBB\xD0\xBA" "A e\xD0\xBB\xD0\xBA" "a");
  // Cyrillic beyond Russian's letters: Ukrainian Ї, Serbian Ђ, Kazakh Ә.
  EXPECT_EQ(NormalizeForScan("\xD0\x87 \xD0\x82 \xD3\x98").text(), "\xD1\x96 \xD1\x92 \xD3\x99");
}

// Greek capitals, the accents that words in capitals leave out, and the final sigma: "Δημήτρης
// Παπαδόπουλος" in any case reads "δημητρησ παπαδοπουλοσ".
TEST(PhiNormalize, FoldsGreekToLowerCaseWithoutAccentsOrFinalSigma) {
  const std::string folded =
      "\xCE\xB4\xCE\xB7\xCE\xBC\xCE\xB7\xCF\x84\xCF\x81\xCE\xB7\xCF\x83 "
      "\xCF\x80\xCE\xB1\xCF\x80\xCE\xB1\xCE\xB4\xCE\xBF\xCF\x80\xCE\xBF\xCF\x85\xCE\xBB\xCE\xBF\xCF\x83";
  for (const std::string& name : {std::string("Δημήτρης Παπαδόπουλος"), std::string("ΔΗΜΗΤΡΗΣ ΠΑΠΑΔΟΠΟΥΛΟΣ"),
                                  std::string("δημήτρης παπαδόπουλος"), std::string("δημητρης παπαδοπουλος"),
                                  std::string("Δημη\xCC\x81τρης Παπαδο\xCC\x81πουλος")}) {
    EXPECT_EQ(NormalizeForScan(name).text(), folded) << name;
  }
  // Tonos and dialytika on capitals and small letters alike.
  EXPECT_EQ(NormalizeForScan("Άά Ώώ Ϊϊ ΐ ΰ").text(), NormalizeForScan("αα ωω ιι ι υ").text());
  // The ano teleia (U+0387) is punctuation, not a letter.
  EXPECT_EQ(NormalizeForScan("\xCE\x87").text(), "\xCE\x87");
}

// Folded letters keep their two bytes, look-alikes take one, emoji and other bytes are copied: each
// span still ends where its text does.
TEST(PhiNormalize, MapsSpansBackThroughGreekCyrillicEmojiAndLatinAccents) {
  const std::string text = "\xF0\x9F\x98\x80 Zo\xC3\xAB, ДМИТРИЙ and ΔΗΜΗΤΡΗΣ \xF0\x9F\x98\x80 ok";
  const NormalizedText n = NormalizeForScan(text);
  const std::string_view folded = n.text();
  const std::size_t zoe = folded.find("Zoe");
  ASSERT_NE(zoe, std::string_view::npos);
  EXPECT_EQ(n.OriginalBegin(zoe), text.find("Zo"));
  EXPECT_EQ(n.OriginalEnd(zoe + 3), text.find(","));
  const std::size_t dmitri = zoe + 5;  // after "Zoe, "
  const std::size_t dmitri_end = folded.find(" and");
  EXPECT_EQ(dmitri_end - dmitri, 13u) << "six letters of two bytes and a Latin P";
  EXPECT_EQ(n.OriginalBegin(dmitri), text.find("ДМИТРИЙ"));
  EXPECT_EQ(n.OriginalEnd(dmitri_end), text.find(" and"));
  const std::size_t greek = dmitri_end + 5;
  const std::size_t greek_end = folded.find(" \xF0", greek);
  EXPECT_EQ(greek_end - greek, std::string_view("ΔΗΜΗΤΡΗΣ").size());
  EXPECT_EQ(n.OriginalBegin(greek), text.find("ΔΗΜΗΤΡΗΣ"));
  EXPECT_EQ(n.OriginalEnd(greek_end), text.find(" \xF0", text.find("ΔΗΜΗΤΡΗΣ")));
  EXPECT_EQ(folded.substr(greek_end), " \xF0\x9F\x98\x80 ok");
  EXPECT_EQ(n.OriginalEnd(folded.size()), text.size());
}

// Whether each space-separated word of `text` began with a capital, as known after folding.
std::vector<bool> WordCapitals(std::string_view text) {
  const NormalizedText n = NormalizeForScan(text);
  const std::string_view folded = n.text();
  std::vector<bool> capitals;
  for (std::size_t i = 0; i < folded.size(); ++i) {
    if (i == 0 || folded[i - 1] == ' ') capitals.push_back(n.CapitalAt(i));
  }
  return capitals;
}

// What the writer capitalized is still known after folding lower-cased it.
TEST(PhiNormalize, KnowsWhichLettersWereTypedAsCapitals) {
  const std::string text = "Дмитрий дмитрий Δημήτρης δημήτρης Сергей сергей \xC3\x89mile \xC3\xA9mile Ab ab";
  EXPECT_EQ(WordCapitals(text), (std::vector<bool>{true, false, true, false, true, false, true, false, true, false}));
}

// Armenian capitals read as their small letters, Georgian Mtavruli as Mkhedruli and Asomtavruli
// as Nuskhuri; small letters alone need no copy.
TEST(PhiNormalize, FoldsArmenianAndGeorgianCapitalsToTheirSmallLetters) {
  for (const char* name : {"ՀԱՅԿ ՊԵՏՐՈՍՅԱՆ", "Հայկ Պետրոսյան", "հայկ պետրոսյան"}) {
    EXPECT_EQ(NormalizeForScan(name).text(), "հայկ պետրոսյան") << name;
  }
  for (const char* name : {"ᲜᲘᲜᲝ ᲑᲔᲠᲘᲫᲔ", "Ნინო Ბერიძე", "ნინო ბერიძე"}) {
    EXPECT_EQ(NormalizeForScan(name).text(), "ნინო ბერიძე") << name;
  }
  EXPECT_EQ(NormalizeForScan("\xE1\x82\xA0\xE1\x83\x87\xE1\x83\x8D").text(),
            "\xE2\xB4\x80\xE2\xB4\xA7\xE2\xB4\xAD");  // Ⴀ Ⴧ Ⴭ: ⴀ ⴧ ⴭ
  EXPECT_TRUE(NormalizeForScan("հայկ պետրոսյան ნინო ბერიძე").identity());
}

// A Georgian letter folds to three bytes and an Armenian one to two, as many as they were: every
// byte maps back to its letter, and a finding after them (past a dash folded from three bytes to
// one) still maps to its own bytes.
TEST(PhiNormalize, MapsSpansBackThroughArmenianAndGeorgianCapitals) {
  const std::string text = "ᲜᲘᲜᲝ Ბერიძე ՀԱՅԿ, call 617\xE2\x80\x91" "555\xE2\x80\x91" "0142 today";
  const NormalizedText n = NormalizeForScan(text);
  const std::string_view folded = n.text();
  EXPECT_EQ(folded, "ნინო ბერიძე հայկ, call 617-555-0142 today");
  for (std::size_t i = 0; i < std::string_view("ნინო").size(); ++i) {
    EXPECT_EQ(n.OriginalBegin(i), i / 3 * 3) << i;
  }
  const std::size_t beridze = folded.find("ბერიძე");
  EXPECT_EQ(n.OriginalBegin(beridze), text.find("Ბ"));
  EXPECT_EQ(n.OriginalBegin(beridze + 2), text.find("Ბ")) << "the capital's last byte";
  EXPECT_EQ(n.OriginalBegin(beridze + 3), text.find("ე"));
  const std::size_t hayk = folded.find("հայկ");
  EXPECT_EQ(n.OriginalBegin(hayk), text.find("ՀԱՅԿ"));
  EXPECT_EQ(n.OriginalEnd(folded.find(',')), text.find(','));
  const std::size_t phone = folded.find("617-555-0142");
  ASSERT_NE(phone, std::string_view::npos);
  EXPECT_EQ(n.OriginalBegin(phone), text.find("617"));
  EXPECT_EQ(n.OriginalEnd(phone + 12), text.find(" today"));
  EXPECT_EQ(n.OriginalEnd(folded.size()), text.size());
}

// Armenian capitals and Georgian Mtavruli and Asomtavruli were capitals, as typed.
TEST(PhiNormalize, KnowsArmenianAndGeorgianCapitals) {
  const std::string text = "Հայկ հայկ ᲜᲘᲜᲝ ნინო \xE1\x82\xA0 \xE2\xB4\x80 Δημήτρης δημήτρης";
  EXPECT_EQ(WordCapitals(text), (std::vector<bool>{true, false, true, false, true, false, true, false}));
}

TEST(PhiNormalize, ReusedBuffersMapLongAndShortTextsAlike) {
  // A long text with a folded character after a long ASCII run (the eight-byte skip), then a
  // shorter one into the same buffers, then plain ASCII.
  const std::string long_text =
      std::string(37, 'a') + " call \xEF\xBC\x96\xEF\xBC\x91\xEF\xBC\x97 " + std::string(20, 'b');
  NormalizedText n = NormalizeForScan(long_text);
  EXPECT_EQ(n.text(), std::string(37, 'a') + " call 617 " + std::string(20, 'b'));
  EXPECT_EQ(n.OriginalBegin(43), 43u);                     // the first folded digit
  EXPECT_EQ(n.OriginalEnd(46), 52u);                       // after the third
  EXPECT_EQ(n.OriginalEnd(n.text().size()), long_text.size());

  const std::string short_text = "x\xE2\x80\x93y";
  n = NormalizeForScan(short_text, std::move(n));
  EXPECT_EQ(n.text(), "x-y");
  EXPECT_EQ(n.OriginalEnd(3), short_text.size());

  const std::string ascii = "plain";
  n = NormalizeForScan(ascii, std::move(n));
  EXPECT_TRUE(n.identity());
  EXPECT_EQ(n.text(), "plain");
}

}  // namespace
}  // namespace rounds::governance::phi
