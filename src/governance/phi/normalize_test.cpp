#include "governance/phi/normalize.hpp"

#include <gtest/gtest.h>

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
  const std::string text = "\xCE\xA9\xCE\xBC\xCE\xB5\xCE\xB3\xCE\xB1 \xE6\x9D\x8E \xFF ok \xC3\x97";  // Greek, CJK, bad byte, ×
  const NormalizedText n = NormalizeForScan(text);
  EXPECT_EQ(n.text(), text);
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
