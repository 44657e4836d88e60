// The search words, the FTS5 query built from them, the ranking and the highlighted excerpt, all
// from the index's own tokenizer (SearchTokenizer on an in-memory connection).
#include "store/sqlite/search_text.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "store/sqlite/search_tokenizer.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace rounds::store::sqlite {
namespace {

class SearchText : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Connection::Open(":memory:", false);
    ASSERT_TRUE(db);
    db_ = std::move(*db);
    auto tokenizer = db_->search_tokenizer();
    ASSERT_TRUE(tokenizer);
    tokenizer_ = *tokenizer;
  }
  std::vector<TextToken> Tokens(std::string_view text) {
    auto tokens = tokenizer_->Tokenize(text);
    EXPECT_TRUE(tokens);
    return tokens ? *tokens : std::vector<TextToken>{};
  }
  std::vector<std::string> Words(std::string_view text) { return SearchWords(Tokens(text)); }
  std::string Query(std::string_view text) { return BuildFtsQuery(Words(text)); }
  std::string Excerpt(std::string_view text, std::string_view search, int window = 16) {
    return Snippet(text, Tokens(text), Words(search), window);
  }
  bool Has(std::string_view text, std::string_view search) { return HasSearchMatch(Tokens(text), Words(search)); }
  std::vector<double> Rank(const std::vector<std::pair<std::string, std::string>>& texts, std::string_view search) {
    const std::vector<std::string> words = Words(search);
    std::vector<TextMatches> matches(texts.size());
    for (std::size_t i = 0; i < texts.size(); ++i) {
      for (const TextToken& t : Tokens(texts[i].first)) CountTerm(t.term, words, matches[i]);
      for (const TextToken& t : Tokens(texts[i].second)) CountTerm(t.term, words, matches[i]);
    }
    return RankTexts(matches);
  }

  std::unique_ptr<Connection> db_;
  SearchTokenizer* tokenizer_ = nullptr;
};

TEST_F(SearchText, TheTokenizerIsTheIndexs) {
  // Letters and digits make words, folded to lower case without diacritics; everything else,
  // a curly apostrophe or a dash included, separates them.
  const auto tokens = Tokens("Café—patient\xE2\x80\x99s ÉCOLE x2 naïve");
  std::vector<std::string> terms;
  for (const auto& t : tokens) terms.push_back(t.term);
  EXPECT_EQ(terms, (std::vector<std::string>{"cafe", "patient", "s", "ecole", "x2", "naive"}));
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(tokens[0].begin, 0u);
  EXPECT_EQ(tokens[0].end, 5u);  // "Café": five bytes
  EXPECT_EQ(tokens[1].begin, 8u);  // after the three bytes of the dash
}

TEST_F(SearchText, QueriesAreQuotedWordsWithTheLastOneAPrefix) {
  EXPECT_EQ(Query("sepsis bundle"), "\"sepsis\" \"bundle\"*");
  // Operators, column filters and quotes are word separators, never syntax.
  EXPECT_EQ(Query("NEAR(ab \"cd\") -ef body:gh"), "\"near\" \"ab\" \"cd\" \"ef\" \"body\" \"gh\"*");
  EXPECT_EQ(Query("vitamin d"), "\"vitamin\" \"d\"");  // one letter: no prefix expansion
  EXPECT_EQ(Query("vitamin é"), "\"vitamin\" \"e\"");
  EXPECT_EQ(Query("  *** "), "");
  EXPECT_EQ(Query("\"\"\"\""), "");
  EXPECT_EQ(Query("Café"), "\"cafe\"*");
  EXPECT_EQ(Query("a\"b"), "\"a\" \"b\"");
  EXPECT_EQ(Query("жк"), "\"жк\"*");  // two characters, four bytes
  EXPECT_EQ(Query("ж"), "\"ж\"");
  std::string many;
  for (int i = 0; i < 40; ++i) many += "w" + std::to_string(i) + " ";
  std::string query = Query(many);
  EXPECT_EQ(std::count(query.begin(), query.end(), '"'), 2 * kMaxSearchWords);
  EXPECT_EQ(Words(many).size(), static_cast<std::size_t>(kMaxSearchWords));
}

TEST_F(SearchText, ALongLastWordCanBeSpelledOutAsTheTermsItBegins) {
  auto range = CompletionRange("sepsis");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, std::string("sepsis\x01"));  // after "sepsis" itself, before every longer term
  EXPECT_EQ(range->past, "sepsit");
  EXPECT_LT(std::string("sepsis"), range->first);
  EXPECT_LE(range->first, std::string("sepsis0"));
  EXPECT_LT(std::string("sepsiszzz"), range->past);
  ASSERT_TRUE(CompletionRange("hb19"));
  EXPECT_EQ(CompletionRange("hb19")->past, std::string("hb1:"));
  EXPECT_FALSE(CompletionRange("sep"));  // three letters: the prefix index answers
  EXPECT_FALSE(CompletionRange("жкх"));  // three characters, six bytes: the same
  // A term outside ASCII: every term it begins sorts inside the byte range.
  auto straße = CompletionRange("straß");
  ASSERT_TRUE(straße);
  EXPECT_LT(straße->first, std::string("straße"));
  EXPECT_LT(straße->first, std::string("straßenbahn"));
  EXPECT_LT(std::string("straßenbahn"), straße->past);
  EXPECT_GT(std::string("straÿ"), straße->past);  // a term that does not begin with it
  EXPECT_EQ(BuildFtsQuery(Words("heparin drip"), {"dripping", "drips"}),
            "\"heparin\" AND (\"drip\" OR \"dripping\" OR \"drips\")");
  EXPECT_EQ(BuildFtsQuery(Words("this"), {}), "(\"this\")");
  EXPECT_EQ(BuildFtsQuery(std::vector<std::string>{}, {"x"}), "");
}

TEST_F(SearchText, SnippetMarksWholeWordsAndTheLastWordAsAPrefix) {
  EXPECT_EQ(Excerpt("Start the heparin dripping now; heparinised line", "Heparin drip"),
            "Start the [[heparin]] [[dripping]] now; heparinised line");
  EXPECT_TRUE(Has("HEPARIN", "Heparin drip"));
  // Only the last word matches as a prefix.
  EXPECT_FALSE(Has("heparinised", "heparin x"));
  EXPECT_TRUE(Has("heparinised", "x heparin"));
  EXPECT_FALSE(Has("nothing here", "Heparin drip"));
  // Text is never interpreted: markup stays as it was.
  EXPECT_EQ(Excerpt("<b>heparin</b>", "heparin"), "<b>[[heparin]]</b>");
  // What FTS5 folded is marked as it was written, and a curly apostrophe ends a word.
  EXPECT_EQ(Excerpt("Café au lait; the patient\xE2\x80\x99s chart", "cafe patient"),
            "[[Café]] au lait; the [[patient]]\xE2\x80\x99s chart");
  EXPECT_EQ(Excerpt("ÉCOLE and école", "école"), "[[ÉCOLE]] and [[école]]");
}

TEST_F(SearchText, RankingPrefersMoreMatchesThenShorterTexts) {
  const std::vector<double> scores = Rank(
      {
          {"", "sepsis bundle reviewed on the ward round with the team today"},
          {"", "sepsis sepsis sepsis bundle"},
          {"", "sepsis bundles"},
          {"Sepsis", "bundle"},  // the title counts as much as the body
          {"", "nothing that matches"},
      },
      "sepsis bun");
  ASSERT_EQ(scores.size(), 5u);
  EXPECT_LT(scores[1], scores[0]);  // more occurrences, lower (better) score
  EXPECT_LT(scores[2], scores[0]);  // the same matches in fewer words
  EXPECT_DOUBLE_EQ(scores[2], scores[3]);
  EXPECT_LT(scores[0], 0.0);
  EXPECT_EQ(scores[4], 0.0);  // no match: the worst score
  // The last word is a prefix, the others whole words only.
  EXPECT_GT(Rank({{"", "sepsisbundle bundle"}}, "sepsis bun")[0], Rank({{"", "sepsis bundle"}}, "sepsis bun")[0]);
  EXPECT_TRUE(RankTexts({}).empty());
  // Words FTS5 matched through folding count like any other.
  const std::vector<double> folded = Rank({{"", "café café crème"}, {"", "cafe with a long tail of other words"}}, "cafe");
  EXPECT_LT(folded[0], folded[1]);
  // "patient’s" holds the whole word "patient" (the curly apostrophe separates), twice here.
  const std::vector<double> apostrophe =
      Rank({{"", "the patient\xE2\x80\x99s patient\xE2\x80\x99s file"}, {"", "the patient file, read by the whole team at the morning huddle"}},
           "patient file");
  EXPECT_LT(apostrophe[0], apostrophe[1]);
}

TEST_F(SearchText, SnippetCutsAWindowAroundTheMostMatches) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "filler" + std::to_string(i) + " ";
  text += "sepsis bundle started sepsis";
  for (int i = 0; i < 40; ++i) text += " tail" + std::to_string(i);
  const std::string snippet = Excerpt(text, "sepsis", 8);
  EXPECT_EQ(snippet.rfind("…", 0), 0u) << snippet;  // cut at the start
  EXPECT_NE(snippet.find("[[sepsis]] bundle started [[sepsis]]"), std::string::npos) << snippet;
  EXPECT_EQ(snippet.substr(snippet.size() - std::string("…").size()), "…") << snippet;
  // A short text is whole, punctuation included.
  EXPECT_EQ(Excerpt("(sepsis?)", "sepsis"), "([[sepsis]]?)");
  EXPECT_EQ(Excerpt("", "sepsis"), "");
}

}  // namespace
}  // namespace rounds::store::sqlite
