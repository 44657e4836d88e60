#include "governance/phi/continuation.hpp"

#include <algorithm>
#include <cctype>

namespace rounds::governance::phi {
namespace {

bool Blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string CarriedTail(std::string_view previous) {
  std::size_t end = previous.size();
  while (end > 0 && Blank(previous[end - 1])) --end;
  std::size_t begin = previous.find_last_of("\r\n", end == 0 ? 0 : end - 1);
  begin = begin == std::string_view::npos || end == 0 ? 0 : begin + 1;
  while (begin < end && Blank(previous[begin])) ++begin;
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
  return std::string(previous.substr(begin, end - begin));
}

std::vector<Finding> FindingsAcross(std::string_view carried, std::string_view text, const ScanFunction& scan) {
  if (carried.empty() || text.empty()) return {};
  // The new message's first line, cut after about kMaxLeadBytes at a blank: an identifier or a
  // context word that the previous message began ends close to the new one's start.
  std::size_t lead = text.find_first_of("\r\n");
  if (lead == std::string_view::npos) lead = text.size();
  if (lead > kMaxLeadBytes) {
    std::size_t at = kMaxLeadBytes;
    while (at < lead && !Blank(text[at])) ++at;
    lead = at;
  }
  // Blanks that open the new message stand for the break between the two; a message that stops
  // on a joining mark ("987-65-", "3/", "jdoe@", "patients.") and one that goes on without a blank
  // are one word typed in two, and are joined as typed.
  std::size_t start = 0;
  while (start < lead && (text[start] == ' ' || text[start] == '\t')) ++start;
  if (start == lead) return {};
  const char last = carried.back();
  const bool joining = last == '-' || last == '/' || last == '@' || last == '.';
  const auto first = static_cast<unsigned char>(text[start]);
  const bool one_word = start == 0 && joining && (std::isalnum(first) || first >= 0x80);
  std::string joined;
  joined.reserve(carried.size() + 1 + lead);
  joined.append(carried);
  if (!one_word) joined.push_back(' ');
  joined.append(text.substr(start, lead - start));
  // Offsets past `boundary` in `joined` are offsets past `start` in `text`.
  const std::size_t boundary = joined.size() - (lead - start);
  // A previous message that ended its sentence ("tips for sleeping after surgery?") says nothing
  // of what the next one starts: only an identifier it began carries over, not its context words.
  const bool sentence_ended = last == '.' || last == '?' || last == '!';
  std::vector<Finding> out;
  for (Finding& f : scan(joined)) {
    if (f.end <= boundary) continue;  // the previous message's own
    if (sentence_ended && f.begin >= boundary) continue;
    f.begin = start + (f.begin < boundary ? 0 : f.begin - boundary);
    f.end = start + (f.end - boundary);
    f.across_messages = true;
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
  return out;
}

void MergeAcross(std::vector<Finding>& own, std::vector<Finding> across) {
  const std::size_t before = own.size();
  for (Finding& f : across) {
    const bool overlaps = std::any_of(own.begin(), own.end(), [&](const Finding& o) {
      return o.begin < f.end && f.begin < o.end;
    });
    if (!overlaps) own.push_back(std::move(f));
  }
  if (own.size() != before) {
    std::stable_sort(own.begin(), own.end(), [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
  }
}

}  // namespace rounds::governance::phi
