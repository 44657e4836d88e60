// The search words, the FTS5 query built from them and the highlighted excerpt.
#include "store/sqlite/search_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace rounds::store::sqlite {
namespace {

TEST(SearchText, QueriesAreQuotedWordsWithTheLastOneAPrefix) {
  EXPECT_EQ(BuildFtsQuery("sepsis bundle"), "\"sepsis\" \"bundle\"*");
  // Operators, column filters and quotes are word separators, never syntax.
  EXPECT_EQ(BuildFtsQuery("NEAR(ab \"cd\") -ef body:gh"), "\"NEAR\" \"ab\" \"cd\" \"ef\" \"body\" \"gh\"*");
  EXPECT_EQ(BuildFtsQuery("vitamin d"), "\"vitamin\" \"d\"");  // one letter: no prefix expansion
  EXPECT_EQ(BuildFtsQuery("  *** "), "");
  EXPECT_EQ(BuildFtsQuery("\"\"\"\""), "");
  EXPECT_EQ(BuildFtsQuery("café"), "\"café\"*");
  EXPECT_EQ(BuildFtsQuery("a\"b"), "\"a\" \"b\"");
  std::string many;
  for (int i = 0; i < 40; ++i) many += "w" + std::to_string(i) + " ";
  std::string query = BuildFtsQuery(many);
  EXPECT_EQ(std::count(query.begin(), query.end(), '"'), 2 * kMaxSearchWords);
  EXPECT_EQ(SearchWords(many).size(), static_cast<std::size_t>(kMaxSearchWords));
}

TEST(SearchText, ALongLastWordCanBeSpelledOutAsTheTermsItBegins) {
  auto range = CompletionRange("Sepsis");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, std::string("sepsis\x01"));  // after "sepsis" itself, before every longer term
  EXPECT_EQ(range->past, "sepsit");
  EXPECT_LT(std::string("sepsis"), range->first);
  EXPECT_LE(range->first, std::string("sepsis0"));
  EXPECT_LT(std::string("sepsiszzz"), range->past);
  ASSERT_TRUE(CompletionRange("hb19"));
  EXPECT_EQ(CompletionRange("hb19")->past, std::string("hb1:"));
  EXPECT_FALSE(CompletionRange("sep"));    // three letters: the prefix index answers
  EXPECT_FALSE(CompletionRange("caf\xc3\xa9s"));  // non-ASCII: the index folds what a range cannot
  EXPECT_EQ(BuildFtsQuery(SearchWords("heparin drip"), {"dripping", "drips"}),
            "\"heparin\" AND (\"drip\" OR \"dripping\" OR \"drips\")");
  EXPECT_EQ(BuildFtsQuery(SearchWords("this"), {}), "(\"this\")");
  EXPECT_EQ(BuildFtsQuery(std::vector<std::string>{}, {"x"}), "");
}

TEST(SearchText, SnippetMarksWholeWordsAndTheLastWordAsAPrefix) {
  const auto words = SearchWords("Heparin drip");
  EXPECT_EQ(Snippet("Start the heparin dripping now; heparinised line", words),
            "Start the [[heparin]] [[dripping]] now; heparinised line");
  EXPECT_TRUE(HasSearchMatch("HEPARIN", words));
  // Only the last word matches as a prefix.
  EXPECT_FALSE(HasSearchMatch("heparinised", SearchWords("heparin x")));
  EXPECT_TRUE(HasSearchMatch("heparinised", SearchWords("x heparin")));
  EXPECT_FALSE(HasSearchMatch("nothing here", words));
  // Text is never interpreted: markup stays as it was.
  EXPECT_EQ(Snippet("<b>heparin</b>", words), "<b>[[heparin]]</b>");
}

TEST(SearchText, RankingPrefersMoreMatchesThenShorterTexts) {
  const auto words = SearchWords("sepsis bun");
  const std::vector<RankedText> texts = {
      {"", "sepsis bundle reviewed on the ward round with the team today"},
      {"", "sepsis sepsis sepsis bundle"},
      {"", "sepsis bundles"},
      {"Sepsis", "bundle"},  // the title counts as much as the body
      {"", "nothing that matches"},
  };
  const std::vector<double> scores = RankTexts(texts, words);
  ASSERT_EQ(scores.size(), texts.size());
  EXPECT_LT(scores[1], scores[0]);  // more occurrences, lower (better) score
  EXPECT_LT(scores[2], scores[0]);  // the same matches in fewer words
  EXPECT_DOUBLE_EQ(scores[2], scores[3]);
  EXPECT_LT(scores[0], 0.0);
  EXPECT_EQ(scores[4], 0.0);  // no match: the worst score
  // The last word is a prefix, the others whole words only.
  const std::vector<double> whole = RankTexts({{"", "sepsisbundle bundle"}}, words);
  const std::vector<double> both = RankTexts({{"", "sepsis bundle"}}, words);
  EXPECT_GT(whole[0], both[0]);
  EXPECT_TRUE(RankTexts({}, words).empty());
}

TEST(SearchText, SnippetCutsAWindowAroundTheMostMatches) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "filler" + std::to_string(i) + " ";
  text += "sepsis bundle started sepsis";
  for (int i = 0; i < 40; ++i) text += " tail" + std::to_string(i);
  const std::string snippet = Snippet(text, SearchWords("sepsis"), 8);
  EXPECT_EQ(snippet.rfind("…", 0), 0u) << snippet;  // cut at the start
  EXPECT_NE(snippet.find("[[sepsis]] bundle started [[sepsis]]"), std::string::npos) << snippet;
  EXPECT_EQ(snippet.substr(snippet.size() - std::string("…").size()), "…") << snippet;
  // A short text is whole, punctuation included.
  EXPECT_EQ(Snippet("(sepsis?)", SearchWords("sepsis")), "([[sepsis]]?)");
  EXPECT_EQ(Snippet("", SearchWords("sepsis")), "");
}

}  // namespace
}  // namespace rounds::store::sqlite
