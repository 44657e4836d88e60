#include "store/sqlite/search_tokenizer.hpp"

#include <algorithm>
#include <new>
#include <string>

namespace rounds::store::sqlite {
namespace {

Error TokenizerError(std::string detail) {
  return Error{ErrorCode::kInternal, "internal", "Something went wrong on the server.",
               "search tokenizer: " + std::move(detail)};
}

// The connection's FTS5 interface, handed out by the fts5() SQL function (documented way).
Result<fts5_api*> Fts5Api(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    rc = sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (api == nullptr) return tl::unexpected(TokenizerError("no FTS5 interface (" + std::to_string(rc) + ")"));
  return api;
}

}  // namespace

Result<std::unique_ptr<SearchTokenizer>> SearchTokenizer::Create(sqlite3* db) {
  ROUNDS_ASSIGN_OR_RETURN(fts5_api * fts5, Fts5Api(db));
  // kSearchTokenize split into the tokenizer's name and its arguments.
  std::vector<std::string> words;
  for (std::size_t at = 0; at < kSearchTokenize.size();) {
    const std::size_t space = std::min(kSearchTokenize.find(' ', at), kSearchTokenize.size());
    words.emplace_back(kSearchTokenize.substr(at, space - at));
    at = space + 1;
  }
  void* user_data = nullptr;
  fts5_tokenizer api{};
  if (fts5->xFindTokenizer(fts5, words[0].c_str(), &user_data, &api) != SQLITE_OK) {
    return tl::unexpected(TokenizerError("no tokenizer " + words[0]));
  }
  std::vector<const char*> args;
  for (std::size_t i = 1; i < words.size(); ++i) args.push_back(words[i].c_str());
  Fts5Tokenizer* tokenizer = nullptr;
  if (api.xCreate(user_data, args.data(), static_cast<int>(args.size()), &tokenizer) != SQLITE_OK) {
    return tl::unexpected(TokenizerError("cannot create " + std::string(kSearchTokenize)));
  }
  return std::unique_ptr<SearchTokenizer>(new SearchTokenizer(api, tokenizer));
}

SearchTokenizer::~SearchTokenizer() { api_.xDelete(tokenizer_); }

Status SearchTokenizer::Run(std::string_view text, void* context, Callback callback) {
  // A text longer than an int can say is cut there (a message is far shorter).
  const int size = static_cast<int>(std::min<std::size_t>(text.size(), 0x7fffffff));
  const int rc = api_.xTokenize(tokenizer_, context, FTS5_TOKENIZE_DOCUMENT, text.data(), size, callback);
  if (rc != SQLITE_OK) return tl::unexpected(TokenizerError("tokenize failed (" + std::to_string(rc) + ")"));
  return Ok();
}

Status SearchTokenizer::Tokenize(std::string_view text, std::vector<TextToken>& out) {
  auto on_token = [](void* context, int /*flags*/, const char* term, int term_size, int begin, int end) {
    try {
      static_cast<std::vector<TextToken>*>(context)->push_back(
          TextToken{static_cast<std::size_t>(begin), static_cast<std::size_t>(end),
                    std::string(term, static_cast<std::size_t>(term_size))});
    } catch (const std::bad_alloc&) {
      return SQLITE_NOMEM;  // no exception may cross SQLite's C frames
    }
    return SQLITE_OK;
  };
  return Run(text, &out, on_token);
}

Result<std::vector<TextToken>> SearchTokenizer::Tokenize(std::string_view text) {
  std::vector<TextToken> tokens;
  ROUNDS_RETURN_IF_ERROR(Tokenize(text, tokens));
  return tokens;
}

}  // namespace rounds::store::sqlite
