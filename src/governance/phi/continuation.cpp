#include "governance/phi/continuation.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace rounds::governance::phi {
namespace {

bool Blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

bool Digit(char c) { return c >= '0' && c <= '9'; }

// Whether the word of `text` at [begin, end) is digits alone after another word of digits: a
// group of a number typed spaced ("9 8 7 6 5 4 3 2 1", "617 555 0142"), which the word count of a
// message's end does not count, so as not to cut the number (ScanJoined counts its start so too).
bool GroupOfSpacedNumber(std::string_view text, std::size_t begin, std::size_t end) {
  if (begin == end || !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(begin),
                                   text.begin() + static_cast<std::ptrdiff_t>(end), Digit)) {
    return false;
  }
  while (begin > 0 && (text[begin - 1] == ' ' || text[begin - 1] == '\t')) --begin;
  return begin > 0 && Digit(text[begin - 1]);
}

// Where CarriedTail's text lies in `previous`: [first, second).
std::pair<std::size_t, std::size_t> TailRange(std::string_view previous) {
  std::size_t end = previous.size();
  while (end > 0 && Blank(previous[end - 1])) --end;
  if (end == 0) return {0, 0};
  std::size_t begin = previous.find_last_of("\r\n", end - 1);
  begin = begin == std::string_view::npos ? 0 : begin + 1;
  while (begin < end && Blank(previous[begin])) ++begin;
  // The last kMaxCarriedWords words.
  std::size_t words = 0;
  for (std::size_t i = end; i > begin; --i) {
    if (!Blank(previous[i - 1]) || Blank(previous[i])) continue;
    std::size_t word_end = i;
    while (word_end < end && !Blank(previous[word_end])) ++word_end;
    if (GroupOfSpacedNumber(previous, i, word_end)) continue;
    if (++words == kMaxCarriedWords) {
      begin = i;
      break;
    }
  }
  if (end - begin > kMaxCarriedBytes) {
    const std::size_t from = end - kMaxCarriedBytes;
    // At the start of a word when one starts in the window, else of a character.
    std::size_t at = from;
    while (at < end && !Blank(previous[at])) ++at;
    while (at < end && Blank(previous[at])) ++at;
    if (at == end || (from > 0 && Blank(previous[from - 1]))) at = from;
    while (at < end && Continuation(previous[at])) ++at;
    begin = at;
  }
  return {begin, end};
}

// Whether `carried` ends on an abbreviation's full stop, which ends no sentence: a title ("Mrs.",
// "Dr.", "pt."), an initial ("J.") or letters with stops between them ("P.O.", "a.m.").
bool EndsOnAbbreviation(std::string_view carried) {
  if (carried.empty() || carried.back() != '.') return false;
  std::size_t begin = carried.size() - 1;
  while (begin > 0 && !Blank(carried[begin - 1])) --begin;
  std::string word;
  for (char c : carried.substr(begin, carried.size() - 1 - begin)) {
    word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (word.empty()) return false;
  if (word.size() == 1) return std::isalpha(static_cast<unsigned char>(word[0])) != 0;
  if (word.find('.') != std::string::npos) {
    return std::all_of(word.begin(), word.end(), [](char c) { return c == '.' || std::isalpha(static_cast<unsigned char>(c)); });
  }
  for (std::string_view title : {"dr", "mr", "mrs", "ms", "mx", "pt", "prof", "rev"}) {
    if (word == title) return true;
  }
  return false;
}

// One scan of `carried` and the start of `text` as the two would read together.
struct Joined {
  std::vector<Finding> findings;  // offsets into the joined text
  std::size_t carried_end = 0;    // where `carried` ends in it
  std::size_t boundary = 0;       // where `text` (after `start`) begins in it
  std::size_t start = 0;          // blanks skipped at the start of `text`
  bool sentence_ended = false;    // `carried` ends on . ? !
};

// Whether `carried` ends in a word with a digit and `text` starts, with no blank, with one: an
// identifier cut where it has no mark ("member ID MCD11" and "32680", "Triage: 1" and "04yo F"),
// which may also be one word typed in two (ScanJoined's `glue`).
bool DigitsMeet(std::string_view carried, std::string_view text) {
  const auto word_char = [](char c) { return Digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (carried.empty() || text.empty() || !word_char(carried.back()) || !word_char(text.front())) return false;
  bool digit_before = false;
  for (std::size_t i = carried.size(); i > 0 && word_char(carried[i - 1]) && !digit_before; --i) digit_before = Digit(carried[i - 1]);
  if (!digit_before) return false;
  for (std::size_t i = 0; i < text.size() && word_char(text[i]); ++i) {
    if (Digit(text[i])) return true;
  }
  return false;
}

// `join`: a `carried` that stops on a joining mark may run on into `text` as one word (one
// author's); false: the two are always apart (two authors'). `glue`: they are read as one word
// whatever `carried` stops on (DigitsMeet).
std::optional<Joined> ScanJoined(std::string_view carried, std::string_view text, const ScanFunction& scan,
                                 bool join = true, bool glue = false) {
  if (carried.empty() || text.empty()) return std::nullopt;
  // The new message's first words: an identifier or a context word that the previous message
  // began ends close to the new one's start.
  std::size_t lead = text.find_first_of("\r\n");
  if (lead == std::string_view::npos) lead = text.size();
  std::size_t words = 0;
  bool in_word = false;
  bool digits_only = true;
  for (std::size_t i = 0; i < lead; ++i) {
    const char c = text[i];
    if (!Blank(c)) {
      digits_only = (digits_only || !in_word) && Digit(c);
      in_word = true;
      continue;
    }
    if (!in_word) continue;
    in_word = false;
    if (digits_only) {  // a group of a number typed spaced runs on into the next one
      std::size_t next = i;
      while (next < lead && (text[next] == ' ' || text[next] == '\t')) ++next;
      if (next < lead && Digit(text[next])) continue;
    }
    if (++words == kMaxLeadWords) {
      lead = i;
      break;
    }
  }
  if (lead > kMaxLeadBytes) {
    std::size_t at = kMaxLeadBytes;
    while (at < lead && !Blank(text[at])) ++at;
    lead = at;
  }
  // Blanks that open the new message stand for the break between the two; a message that stops
  // on a joining mark ("987-65-", "3/", "jdoe@", "patients.") and one that goes on without a blank
  // are one word typed in two, and are joined as typed.
  Joined j;
  while (j.start < lead && (text[j.start] == ' ' || text[j.start] == '\t')) ++j.start;
  if (j.start == lead) return std::nullopt;
  const char last = carried.back();
  const bool joining = last == '-' || last == '/' || last == '@' || last == '.';
  const auto first = static_cast<unsigned char>(text[j.start]);
  // An SSN masked but for its last digits, cut inside its mask ("***-*" and "*-4321").
  const bool masking = (last == '*' || last == '#') && (first == '*' || first == '#' || first == '-');
  const bool one_word =
      join && j.start == 0 && (glue || masking || (joining && (std::isalnum(first) || first >= 0x80)));
  std::string joined;
  joined.reserve(carried.size() + 1 + lead);
  joined.append(carried);
  if (!one_word) joined.push_back(' ');
  joined.append(text.substr(j.start, lead - j.start));
  j.carried_end = carried.size();
  j.boundary = joined.size() - (lead - j.start);
  // A previous message that ended its sentence ("tips for sleeping after surgery?") says nothing
  // of what the next one starts: only an identifier it began carries over, not its context words.
  // An abbreviation's stop ends none ("mail it to P.O." and "Box 80, Manchester").
  j.sentence_ended = (last == '.' && !EndsOnAbbreviation(carried)) || last == '?' || last == '!';
  j.findings = scan(joined);
  return j;
}

void SortByBegin(std::vector<Finding>& findings) {
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
}

// The findings that lie wholly in `text` read after `carried` (offsets into `text`): the author's
// own next message (`reply` false: a finished sentence lends it nothing) or another author's
// answer (`reply`: the two never join, and a question lends its words whatever it ended with).
std::vector<Finding> WhollyAfter(std::string_view carried, std::string_view text, bool reply,
                                 const ScanFunction& scan) {
  std::optional<Joined> j = ScanJoined(carried, text, scan, /*join=*/!reply);
  if (!j || (!reply && j->sentence_ended)) return {};
  std::vector<Finding> out;
  for (Finding& f : j->findings) {
    if (f.begin < j->boundary) continue;
    f.begin = j->start + (f.begin - j->boundary);
    f.end = j->start + (f.end - j->boundary);
    out.push_back(std::move(f));
  }
  return out;
}

bool OverlapsAny(const Finding& f, const std::vector<Finding>& others) {
  return std::any_of(others.begin(), others.end(), [&](const Finding& o) { return o.begin < f.end && f.begin < o.end; });
}

}  // namespace

std::string CarriedTail(std::string_view previous) {
  const auto [begin, end] = TailRange(previous);
  return std::string(previous.substr(begin, end - begin));
}

std::vector<Finding> FindingsAcross(std::string_view carried, std::string_view text, const ScanFunction& scan) {
  // Read with a space between the two, and where digits meet also as one word: what the second
  // reading adds (MergeAcross).
  std::vector<Finding> out;
  for (const bool glue : {false, true}) {
    if (glue && !DigitsMeet(carried, text)) break;
    std::optional<Joined> j = ScanJoined(carried, text, scan, true, glue);
    if (!j) return out;
    std::vector<Finding> read;
    for (Finding& f : j->findings) {
      if (f.end <= j->boundary) continue;  // the previous message's own
      if (j->sentence_ended && f.begin >= j->boundary) continue;
      f.begin = j->start + (f.begin < j->boundary ? 0 : f.begin - j->boundary);
      f.end = j->start + (f.end - j->boundary);
      f.across_messages = true;
      read.push_back(std::move(f));
    }
    SortByBegin(read);
    if (glue) MergeAcross(out, std::move(read)); else out = std::move(read);
  }
  return out;
}

std::vector<Finding> FindingsIntoNext(std::string_view text, std::string_view next, const ScanFunction& scan) {
  const auto [tail_begin, tail_end] = TailRange(text);
  const std::string_view tail = text.substr(tail_begin, tail_end - tail_begin);
  std::vector<Finding> out;
  for (const bool glue : {false, true}) {  // as FindingsAcross reads the two
    if (glue && !DigitsMeet(tail, next)) break;
    std::optional<Joined> j = ScanJoined(tail, next, scan, true, glue);
    if (!j) return out;
    for (Finding& f : j->findings) {
      if (f.begin >= j->carried_end || f.end <= j->boundary) continue;  // not begun in `text` and run on
      f.begin = tail_begin + f.begin;
      f.end = tail_end;
      f.across_messages = true;
      f.before_next = true;
      if (!glue || !OverlapsAny(f, out)) out.push_back(std::move(f));  // what the other reading adds
    }
  }
  SortByBegin(out);
  return out;
}

std::vector<Finding> FindingsLentToNext(std::string_view before, std::string_view text, std::string_view next,
                                        bool reply, const ScanFunction& scan) {
  const auto [tail_begin, tail_end] = TailRange(text);
  if (tail_begin == tail_end) return {};
  std::vector<Finding> lent = WhollyAfter(text.substr(tail_begin, tail_end - tail_begin), next, reply, scan);
  if (lent.empty()) return {};
  std::vector<Finding> held = scan(next);
  for (Finding& f : WhollyAfter(CarriedTail(before), next, reply, scan)) held.push_back(std::move(f));
  // One span of `text` says it: the first value it lends a context to.
  auto first = std::find_if(lent.begin(), lent.end(), [&](const Finding& f) { return !OverlapsAny(f, held); });
  if (first == lent.end()) return {};
  Finding f = std::move(*first);
  f.begin = tail_begin;
  f.end = tail_end;
  f.across_messages = true;
  f.before_next = true;
  return {std::move(f)};
}

std::vector<Finding> FindingsInReply(std::string_view asked, std::string_view text, const ScanFunction& scan) {
  // What begins in what was asked is its author's.
  std::vector<Finding> out = WhollyAfter(asked, text, /*reply=*/true, scan);
  for (Finding& f : out) {
    f.across_messages = true;
    f.in_reply = true;
  }
  SortByBegin(out);
  return out;
}

std::vector<Finding> ScanBetween(std::string_view previous, std::string_view text, std::string_view next,
                                 const ScanFunction& scan, std::string_view asked) {
  std::vector<Finding> findings = scan(text);
  if (!previous.empty()) MergeAcross(findings, FindingsAcross(previous, text, scan));
  if (!asked.empty()) MergeAcross(findings, FindingsInReply(asked, text, scan));
  if (!next.empty()) MergeAcross(findings, FindingsIntoNext(text, next, scan));
  return findings;
}

void MergeAcross(std::vector<Finding>& own, std::vector<Finding> across) {
  const std::size_t before = own.size();
  std::vector<std::pair<std::size_t, std::size_t>> taken;  // spans of `own` that `f` overlaps
  for (Finding& f : across) {
    taken.clear();
    for (const Finding& o : own) {
      if (o.begin < f.end && f.begin < o.end) taken.emplace_back(o.begin, o.end);
    }
    if (taken.empty()) {
      own.push_back(std::move(f));
      continue;
    }
    // A span the text's own findings cover in part ("https://portal.example." and
    // "org/patient/14990680", whose number alone is an MRN): the rest of it, in as many pieces.
    std::sort(taken.begin(), taken.end());
    std::size_t at = f.begin;
    const std::size_t end = f.end;
    auto piece = [&](std::size_t from, std::size_t to) {
      Finding p = f;
      p.begin = from;
      p.end = to;
      own.push_back(std::move(p));
    };
    for (const auto& [begin, stop] : taken) {
      if (begin > at) piece(at, begin);
      at = std::max(at, stop);
    }
    if (at < end) piece(at, end);
  }
  if (own.size() != before) {
    std::stable_sort(own.begin(), own.end(), [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
  }
}

}  // namespace rounds::governance::phi
