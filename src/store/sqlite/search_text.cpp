#include "store/sqlite/search_text.hpp"

#include <algorithm>
#include <cstddef>

namespace rounds::store::sqlite {
namespace {

// The query's one rule for prefixes: the last word matches as a prefix when it has more than one
// character; every other word matches whole.
bool IsPrefix(const std::vector<std::string>& words, std::size_t w) {
  return w + 1 == words.size() && CharacterCount(words[w]) > 1;
}

// The term `token` equals `word` (or begins with it, for a prefix). Both are the index's terms,
// already folded.
bool Matches(std::string_view token, std::string_view word, bool prefix) {
  return prefix ? token.starts_with(word) : token == word;
}

bool MatchesAny(std::string_view token, const std::vector<std::string>& words) {
  for (std::size_t w = 0; w < words.size(); ++w) {
    if (Matches(token, words[w], IsPrefix(words, w))) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> SearchWords(const std::vector<TextToken>& query) {
  std::vector<std::string> words;
  for (const TextToken& t : query) {
    if (static_cast<int>(words.size()) == kMaxSearchWords) break;
    words.push_back(t.term);
  }
  return words;
}

std::size_t CharacterCount(std::string_view term) {
  std::size_t count = 0;
  for (char c : term) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

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
  if (CharacterCount(word) <= kIndexedPrefixLength) return std::nullopt;
  // No UTF-8 byte is 0xFF, so the last byte can always be raised by one.
  if (static_cast<unsigned char>(word.back()) == 0xFF) return std::nullopt;
  TermRange range;
  range.first = std::string(word);
  range.past = range.first;
  range.past.back() = static_cast<char>(range.past.back() + 1);
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

bool HasSearchMatch(const std::vector<TextToken>& tokens, const std::vector<std::string>& words) {
  for (const TextToken& t : tokens) {
    if (MatchesAny(t.term, words)) return true;
  }
  return false;
}

std::string Snippet(std::string_view text, const std::vector<TextToken>& tokens,
                    const std::vector<std::string>& words, int window) {
  std::vector<char> hit(tokens.size(), 0);
  for (std::size_t i = 0; i < tokens.size(); ++i) hit[i] = MatchesAny(tokens[i].term, words) ? 1 : 0;
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

void CountTerm(std::string_view term, const std::vector<std::string>& words, TextMatches& matches) {
  if (matches.counts.size() != words.size()) matches.counts.resize(words.size(), 0);
  ++matches.length;
  for (std::size_t w = 0; w < words.size(); ++w) {
    if (Matches(term, words[w], IsPrefix(words, w))) ++matches.counts[w];
  }
}

std::vector<double> RankTexts(const std::vector<TextMatches>& texts) {
  constexpr double kK1 = 1.2;
  constexpr double kB = 0.75;
  std::vector<double> scores(texts.size(), 0.0);
  if (texts.empty()) return scores;
  std::size_t total_length = 0;
  for (const TextMatches& text : texts) total_length += text.length;
  const double mean_length =
      std::max(1.0, static_cast<double>(total_length) / static_cast<double>(texts.size()));
  for (std::size_t t = 0; t < texts.size(); ++t) {
    const double norm = kK1 * (1.0 - kB + kB * static_cast<double>(texts[t].length) / mean_length);
    double score = 0.0;
    for (int count : texts[t].counts) {
      if (count > 0) score += count * (kK1 + 1.0) / (count + norm);
    }
    scores[t] = -score;
  }
  return scores;
}

}  // namespace rounds::store::sqlite
