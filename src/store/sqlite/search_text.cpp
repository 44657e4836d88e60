#include "store/sqlite/search_text.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>

namespace rounds::store::sqlite {
namespace {

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

char Fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

struct Token {
  std::size_t begin = 0;
  std::size_t end = 0;
};

std::vector<Token> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t begin = i;
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    if (i > begin) tokens.push_back({begin, i});
  }
  return tokens;
}

// The query's one rule for prefixes: the last word matches as a prefix when it has more than one
// character; every other word matches whole.
bool IsPrefix(const std::vector<std::string>& words, std::size_t w) {
  return w + 1 == words.size() && words[w].size() > 1;
}

// `token` equals `word` (or begins with it, for a prefix), ignoring ASCII case.
bool Matches(std::string_view token, std::string_view word, bool prefix) {
  if (prefix ? token.size() < word.size() : token.size() != word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (Fold(token[i]) != Fold(word[i])) return false;
  }
  return true;
}

bool MatchesAny(std::string_view token, const std::vector<std::string>& words) {
  for (std::size_t w = 0; w < words.size(); ++w) {
    if (Matches(token, words[w], IsPrefix(words, w))) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> SearchWords(std::string_view text) {
  std::vector<std::string> words;
  for (const Token& t : Tokenize(text)) {
    if (static_cast<int>(words.size()) == kMaxSearchWords) break;
    words.emplace_back(text.substr(t.begin, t.end - t.begin));
  }
  return words;
}

std::string BuildFtsQuery(std::string_view text) { return BuildFtsQuery(SearchWords(text)); }

std::string BuildFtsQuery(const std::vector<std::string>& words) {
  std::string query;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) query.push_back(' ');
    // A double-quoted string is a phrase in FTS5, and a word holds no '"' that could close it.
    query += '"';
    query += words[i];
    query += '"';
    if (IsPrefix(words, i)) query.push_back('*');
  }
  return query;
}

std::optional<TermRange> CompletionRange(std::string_view word) {
  if (word.size() <= kIndexedPrefixLength) return std::nullopt;
  TermRange range;
  for (char c : word) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80) return std::nullopt;
    range.first.push_back(Fold(c));
  }
  range.past = range.first;
  range.past.back() = static_cast<char>(range.past.back() + 1);  // an ASCII letter or digit: no overflow
  // Longer than the word: its own term sorts before every term it begins.
  range.first.push_back('\x01');
  return range;
}

std::string BuildFtsQuery(const std::vector<std::string>& words, const std::vector<std::string>& completions) {
  if (words.empty()) return "";
  std::string query;
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    // FTS5 joins a phrase to a parenthesized group only with an explicit AND.
    query += '"';
    query += words[i];
    query += "\" AND ";
  }
  query += "(\"";
  query += words.back();
  query += '"';
  for (const std::string& term : completions) {
    // Index terms come from the tokenizer: letters and digits, never a '"'.
    query += " OR \"";
    query += term;
    query += '"';
  }
  query += ')';
  return query;
}

bool HasSearchMatch(std::string_view text, const std::vector<std::string>& words) {
  for (const Token& t : Tokenize(text)) {
    if (MatchesAny(text.substr(t.begin, t.end - t.begin), words)) return true;
  }
  return false;
}

std::string Snippet(std::string_view text, const std::vector<std::string>& words, int window) {
  const std::vector<Token> tokens = Tokenize(text);
  std::vector<char> hit(tokens.size(), 0);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    hit[i] = MatchesAny(text.substr(tokens[i].begin, tokens[i].end - tokens[i].begin), words) ? 1 : 0;
  }
  const std::size_t size = static_cast<std::size_t>(std::max(1, window));
  // The first window with the most matches (a sliding count).
  std::size_t first = 0;
  if (tokens.size() > size) {
    int count = 0;
    for (std::size_t i = 0; i < size; ++i) count += hit[i];
    int best = count;
    for (std::size_t start = 1; start + size <= tokens.size(); ++start) {
      count += hit[start + size - 1] - hit[start - 1];
      if (count > best) best = count, first = start;
    }
  }
  const std::size_t last = std::min(tokens.size(), first + size);  // one past the window
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t at = 0;  // copied up to here
  if (first > 0) {
    out += "…";
    at = tokens[first].begin;
  }
  for (std::size_t i = first; i < last; ++i) {
    out.append(text.substr(at, tokens[i].begin - at));
    if (hit[i]) out += "[[";
    out.append(text.substr(tokens[i].begin, tokens[i].end - tokens[i].begin));
    if (hit[i]) out += "]]";
    at = tokens[i].end;
  }
  if (last < tokens.size()) {
    out += "…";
  } else {
    out.append(text.substr(at));
  }
  return out;
}

std::vector<double> RankTexts(const std::vector<RankedText>& texts, const std::vector<std::string>& words) {
  constexpr double kK1 = 1.2;
  constexpr double kB = 0.75;
  // Per text: its length in words and how often each word of the query occurs in it.
  std::vector<std::size_t> lengths(texts.size(), 0);
  std::vector<std::vector<int>> counts(texts.size(), std::vector<int>(words.size(), 0));
  for (std::size_t t = 0; t < texts.size(); ++t) {
    for (std::string_view part : {texts[t].title, texts[t].body}) {
      for (const Token& token : Tokenize(part)) {
        ++lengths[t];
        const std::string_view word_text = part.substr(token.begin, token.end - token.begin);
        for (std::size_t w = 0; w < words.size(); ++w) {
          if (Matches(word_text, words[w], IsPrefix(words, w))) ++counts[t][w];
        }
      }
    }
  }
  std::vector<double> scores(texts.size(), 0.0);
  if (texts.empty()) return scores;
  const double mean_length =
      std::max(1.0, static_cast<double>(std::accumulate(lengths.begin(), lengths.end(), std::size_t{0})) /
                        static_cast<double>(texts.size()));
  for (std::size_t t = 0; t < texts.size(); ++t) {
    const double norm = kK1 * (1.0 - kB + kB * static_cast<double>(lengths[t]) / mean_length);
    double score = 0.0;
    for (int count : counts[t]) {
      if (count > 0) score += count * (kK1 + 1.0) / (count + norm);
    }
    scores[t] = -score;
  }
  return scores;
}

}  // namespace rounds::store::sqlite
