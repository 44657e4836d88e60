// Search text handling for the SQLite store, shared by the query builder and the snippet maker:
// which words a search has, the FTS5 query they make, and the highlighted excerpt shown with a hit.
// Pure functions of their input; no SQLite.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rounds::store::sqlite {

// Words of a search beyond this are ignored: each one is another term lookup and intersection.
inline constexpr int kMaxSearchWords = 16;

// The words of a search: runs of ASCII letters and digits and of bytes >= 0x80 (every byte of a
// multi-byte UTF-8 character; the tokenizer decides which of those are letters). Everything else
// separates words, so no FTS5 operator, column filter or quote survives. At most kMaxSearchWords.
std::vector<std::string> SearchWords(std::string_view text);

// The FTS5 query for `text`: every word as a quoted phrase (plain text whatever it holds), all of
// them required. The last word also matches as a prefix (results follow what is being typed) when
// it has more than one character; the others match whole words only, which keeps a query's cost to
// one term lookup each instead of a scan of every term they begin. Empty when there are no words.
std::string BuildFtsQuery(const std::vector<std::string>& words);
// The same for the words of `text` (SearchWords).
std::string BuildFtsQuery(std::string_view text);

// Prefixes up to this length have an index of their own (migration 0002: prefix = '2 3'). A
// longer one makes FTS5 build the whole list of matches of every term it begins before reading the
// newest, which for a common word ("this") is most of a search's time.
inline constexpr std::size_t kIndexedPrefixLength = 3;

// The range of index terms that begin with `word` and are longer than it, for a lookup in the
// index's vocabulary: [first, past). Empty when the last word cannot be expanded that way: one of
// kIndexedPrefixLength letters or fewer (its prefix index is cheap), or a word with bytes outside
// ASCII letters and digits (the index folds diacritics, which a byte range cannot follow).
struct TermRange {
  std::string first;
  std::string past;
};
std::optional<TermRange> CompletionRange(std::string_view word);

// BuildFtsQuery with the last word's prefix spelled out: the last word matches itself or one of
// `completions` (the longer terms it begins), each a whole term. Reading a few whole terms newest
// first stops after the newest matches; a prefix of four or more letters reads every match.
std::string BuildFtsQuery(const std::vector<std::string>& words, const std::vector<std::string>& completions);

// An excerpt of `text` of about `window` words around the stretch with the most of `words` in it,
// each match between "[[" and "]]", with "…" where text was cut off. Matching is the query's:
// letters without regard to ASCII case, the last word also as a prefix (see BuildFtsQuery).
std::string Snippet(std::string_view text, const std::vector<std::string>& words, int window = 16);

// Whether `text` holds any of `words` as BuildFtsQuery would match them.
bool HasSearchMatch(std::string_view text, const std::vector<std::string>& words);

// One matched message as the ranking sees it.
struct RankedText {
  std::string_view title;
  std::string_view body;
};

// A score for each of `texts` (the newest matches of a search; lower is better, as with FTS5's
// bm25()): Okapi BM25 (k1 1.2, b 0.75) over title and body together, each word counted as the
// query matches it (the last also as a prefix), the mean length taken over `texts`. Every word
// weighs the same: each text matched the query, which requires all of its words, so every word's
// document frequency within the texts is the same. FTS5's bm25() counted every match of every word
// in the whole index for its weights, which for a common word read hundreds of thousands of entries
// to rank a few hundred.
std::vector<double> RankTexts(const std::vector<RankedText>& texts, const std::vector<std::string>& words);

}  // namespace rounds::store::sqlite
