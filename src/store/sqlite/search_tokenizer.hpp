// The search index's own tokenizer, for the code that has to agree with what the index matched:
// the words of a search, the ranking of its hits and the words marked in their excerpts.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/result.hpp"
#include "store/sqlite/search_text.hpp"

namespace rounds::store::sqlite {

// The tokenize option of message_search (migration 0002). A test checks the migrated table
// declares exactly this.
inline constexpr std::string_view kSearchTokenize = "unicode61 remove_diacritics 2";

// FTS5's unicode61 tokenizer configured as message_search's: Unicode letters and digits make
// words (an apostrophe, a dash or a curly quote separates them), folded to lower case with
// diacritics removed. Tokens and terms are byte for byte what the index stores, so a search word
// matches a text's word here exactly when FTS5 matched them. Belongs to one connection and, like
// it, is used by one thread at a time (it folds into a buffer of its own).
class SearchTokenizer {
 public:
  static Result<std::unique_ptr<SearchTokenizer>> Create(sqlite3* db);
  ~SearchTokenizer();
  SearchTokenizer(const SearchTokenizer&) = delete;
  SearchTokenizer& operator=(const SearchTokenizer&) = delete;

  // Appends the tokens of `text` to `out`, their offsets into `text`.
  Status Tokenize(std::string_view text, std::vector<TextToken>& out);
  Result<std::vector<TextToken>> Tokenize(std::string_view text);

  // Calls on_term(term) for each token of `text`, in order, without keeping any: the term is
  // valid during the call only. An exception from on_term ends the tokenizing as an error (it
  // may not cross SQLite's C frames).
  template <class F>
  Status ForEachTerm(std::string_view text, F&& on_term) {
    auto call = [](void* context, int, const char* term, int size, int, int) {
      try {
        (*static_cast<std::remove_reference_t<F>*>(context))(std::string_view(term, static_cast<std::size_t>(size)));
      } catch (...) {
        return SQLITE_ERROR;
      }
      return SQLITE_OK;
    };
    return Run(text, &on_term, call);
  }

 private:
  using Callback = int (*)(void* context, int flags, const char* term, int size, int begin, int end);
  SearchTokenizer(fts5_tokenizer api, Fts5Tokenizer* tokenizer) : api_(api), tokenizer_(tokenizer) {}
  Status Run(std::string_view text, void* context, Callback callback);
  fts5_tokenizer api_;
  Fts5Tokenizer* tokenizer_;
};

}  // namespace rounds::store::sqlite
