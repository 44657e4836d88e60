// PHI typed across two messages. Chat is sent a line at a time: "ssn 987-65-" then "4321", "her
// dob is" then "3/4/1950", "pt is Maria" then "Garcia". Neither message alone holds an identifier
// the scanner can see, so a space's PHI rule would let both through, and splitting a refused
// message in two would get round the rule. A new message is therefore also scanned after the end
// of the same author's previous message in the same conversation (the caller keeps it, for a short
// while), and what only shows that way is the new message's finding: an identifier begun before
// is reported from the new message's first character, and a value whose context word was sent
// before over its own span. A message is also read as a reply to the last one another author sent
// there: "what's her dob?" from one, "3/4/1950" from the next, gives the reply's date its context.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "governance/phi/types.hpp"

namespace rounds::governance::phi {

// What is carried of the previous message: the last words of its last line, at most this many
// bytes (a value's context words are the five before it).
inline constexpr std::size_t kMaxCarriedWords = 8;
inline constexpr std::size_t kMaxCarriedBytes = 96;
// What of the new message is scanned after it: the first words of its first line (a number typed
// spaced counting as one).
inline constexpr std::size_t kMaxLeadWords = 8;
inline constexpr std::size_t kMaxLeadBytes = 96;

// The end of `previous` that a next message may continue: the last kMaxCarriedWords words of
// its last line without trailing blanks (a number typed spaced, "9 8 7 6", counting as one), cut to at most kMaxCarriedBytes at the start of a word
// (or of a character, in a word that long). Empty when nothing but blanks ends it.
std::string CarriedTail(std::string_view previous);

using ScanFunction = std::function<std::vector<Finding>(std::string_view)>;

// The findings of `scan` over `carried`, a space and the start of `text` that end inside `text`,
// with offsets into `text` (a span begun in `carried` starts where `text` does, after any blanks),
// sorted by begin and each marked `across_messages`. A `carried` that stops on a joining mark
// (- / @ .) before a `text` that starts with no blank is joined without the space: "987-65-" and
// "4320", "jdoe@patients." and "example.org" are one identifier typed in two; where a word with
// a digit meets one ("MRN 4821" and "3377"), the two are read both ways, apart and as one word.
// Includes what `text` alone would show; MergeAcross keeps the rest.
// After a `carried` that ends a sentence (. ? !) only spans begun in it count: its words are no
// longer the context of what follows.
std::vector<Finding> FindingsAcross(std::string_view carried, std::string_view text, const ScanFunction& scan);

// The other way round, for an edit of a message its author has already followed with `next`:
// what begins in the end of `text` and runs on into the start of `next` ("her ssn is 987-65-"
// edited into a message followed by "4320"), as a finding of `text` from where it begins to the
// end of its last line, marked `across_messages`. Only identifiers begun in `text` count: a value
// in `next` that `text` would give context to is `next`'s, which was screened when sent.
std::vector<Finding> FindingsIntoNext(std::string_view text, std::string_view next, const ScanFunction& scan);

// The other way round again, for an edit that gives what follows it a context it did not have
// when it was sent: "ok" edited into "her dob is" above the author's own "3/4/1950", or "anything
// new?" edited into "what's her dob?" above a colleague's answer "3/4/1950" (`reply`: `next` is
// another author's, read after `text` as FindingsInReply reads it; otherwise as FindingsAcross
// reads the author's own next message). The values that lie wholly in `next` read after the end of
// `text` and did not read after the end of `before` (the text the message had when `next` was
// screened against it) nor alone, as findings of `text` over the end it lends (CarriedTail's part
// of it, to the end of its last line), each marked `across_messages` and `before_next`. What
// `next` already held was its author's, screened when they sent it.
std::vector<Finding> FindingsLentToNext(std::string_view before, std::string_view text, std::string_view next,
                                        bool reply, const ScanFunction& scan);
// A reply: `text` sent after `asked`, the end of another author's message in the same conversation
// (CarriedTail of it). The findings of `scan` over `asked`, a space and the start of `text` that lie
// wholly in `text`, with offsets into it and each marked `across_messages`: a value given its
// context by the words asked ("what's her dob?" / "3/4/1950", "MRN please" / "4471203"). Whatever
// `asked` ended with, a question mark above all, its words are what the reply answers. Nothing
// begun in `asked` counts, and the two are never joined into one word: what another author began
// is theirs, screened when they sent it.
std::vector<Finding> FindingsInReply(std::string_view asked, std::string_view text, const ScanFunction& scan);

// What a post or an edit is screened for: `scan` of `text`, with what it shows only after
// `previous` (CarriedTail of the author's post before; FindingsAcross), as a reply to `asked`
// (CarriedTail of another author's post before; FindingsInReply) and, for an edit, before `next`
// (the author's post after; FindingsIntoNext) merged in. Empty neighbours add nothing.
std::vector<Finding> ScanBetween(std::string_view previous, std::string_view text, std::string_view next,
                                 const ScanFunction& scan, std::string_view asked = {});

// Adds to `own` (findings of the text alone, sorted, not overlapping) those of `across` that
// overlap none of them, and of one that overlaps some the parts they leave uncovered (an MRN
// alone in a URL typed across two messages: the rest of the URL); `own` stays sorted by begin
// and without overlaps.
void MergeAcross(std::vector<Finding>& own, std::vector<Finding> across);

}  // namespace rounds::governance::phi
