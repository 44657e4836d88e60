// Search text handling for the SQLite store, shared by the query builder, the ranking and the
// snippet maker: which words a search has, the FTS5 query they make, the score of each match and
// the highlighted excerpt shown with a hit. Pure functions of tokens the index's own tokenizer
// made (SearchTokenizer), so that they agree with what FTS5 matched; no SQLite.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rounds::store::sqlite {

// One word of a text as the search index sees it: where it is (byte offsets into the text) and
// the term the index stores for it (lower case, diacritics removed: "Café" is "cafe").
struct TextToken {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string term;
};

// Words of a search beyond this are ignored: each one is another term lookup and intersection.
inline constexpr int kMaxSearchWords = 16;

// The words of a search: the terms of its tokens, at most kMaxSearchWords. The tokenizer leaves
// out every character that is not a letter or a digit, so no FTS5 operator, column filter or
// quote survives.
std::vector<std::string> SearchWords(const std::vector<TextToken>& query);

// Characters (not bytes) in a UTF-8 term.
std::size_t CharacterCount(std::string_view term);

// The FTS5 query for `words`: every word as a quoted phrase, all of them required. The last word
// also matches as a prefix (results follow what is being typed) when it has more than one
// character; the others match whole words only, which keeps a query's cost to one term lookup
// each instead of a scan of every term they begin. Empty when there are no words.
std::string BuildFtsQuery(const std::vector<std::string>& words);

// Prefixes up to this many characters have an index of their own (migration 0002: prefix = '2 3').
// A longer one makes FTS5 build the whole list of matches of every term it begins before reading
// the newest, which for a common word ("this") is most of a search's time.
inline constexpr std::size_t kIndexedPrefixLength = 3;

// The range of index terms that begin with `word` (a term) and are longer than it, for a lookup
// in the index's vocabulary: [first, past). Terms compare byte by byte, and UTF-8 keeps every
// term that begins with `word` inside the range. Empty when the word has kIndexedPrefixLength
// characters or fewer: its prefix index is cheap.
struct TermRange {
  std::string first;
  std::string past;
};
std::optional<TermRange> CompletionRange(std::string_view word);

// BuildFtsQuery with the last word's prefix spelled out: the last word matches itself or one of
// `completions` (the longer terms it begins), each a whole term. Reading a few whole terms newest
// first stops after the newest matches; a prefix of four or more letters reads every match.
std::string BuildFtsQuery(const std::vector<std::string>& words, const std::vector<std::string>& completions);

// An excerpt of `text` (whose tokens are `tokens`) of about `window` words around the stretch
// with the most of `words` in it, each match between "[[" and "]]", with "…" where text was cut
// off. A token matches as the query matches it: the same term, the last word also as a prefix.
std::string Snippet(std::string_view text, const std::vector<TextToken>& tokens,
                    const std::vector<std::string>& words, int window = 16);

// Whether any of `tokens` holds one of `words` as BuildFtsQuery would match it.
bool HasSearchMatch(const std::vector<TextToken>& tokens, const std::vector<std::string>& words);

// What the ranking needs of one matched text (title and body together): its length in words and
// how often each word of the search occurs in it.
struct TextMatches {
  std::size_t length = 0;
  std::vector<int> counts;  // one per word of the search
};

// Counts one token of a text, by its term, into `matches`: each word as the query matches it
// (the last also as a prefix).
void CountTerm(std::string_view term, const std::vector<std::string>& words, TextMatches& matches);

// A score for each of `texts` (the newest matches of a search; lower is better, as with FTS5's
// bm25()): Okapi BM25 (k1 1.2, b 0.75), the mean length taken over `texts`. Every word weighs the
// same: each text matched the query, which requires all of its words, so every word's document
// frequency within the texts is the same. FTS5's bm25() counted every match of every word in the
// whole index for its weights, which for a common word read hundreds of thousands of entries to
// rank a few hundred.
std::vector<double> RankTexts(const std::vector<TextMatches>& texts);

}  // namespace rounds::store::sqlite
