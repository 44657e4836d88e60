// Word lists behind the password policy (rules.hpp CheckPassword). Pure data; thread-safe.
#pragma once

#include <string_view>

namespace rounds::domain::passwords {

// True when `lower` (already lower-cased) is one of the few hundred passwords of at least 12
// characters that top the public breach-derived lists.
bool IsCommonLongPassword(std::string_view lower);

// True when `core` (lower-cased, with leading/trailing digits and symbols and inner separators
// removed, and common letter-for-digit swaps undone) is one of the commonest short passwords or
// words people decorate to reach a length rule ("Password2024!!", "monkey-monkey-1").
bool IsCommonBaseWord(std::string_view core);

// Keyboard and alphabet walks ("qwertyuiop", "1qaz2wsx...", "abcdef..."), in both directions.
// True when `lower` is a substring of one of them.
bool IsKeyboardOrAlphabetWalk(std::string_view lower);

}  // namespace rounds::domain::passwords
