#include "governance/phi/patient_index.hpp"

#include <algorithm>
#include <array>

#include "governance/phi/normalize.hpp"

namespace rounds::governance::phi {

std::uint64_t NameKey::Extend(std::uint64_t key, std::string_view text) {
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<unsigned char>(c - 'A' + 'a');
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80)) {
      continue;
    }
    key = (key ^ c) * 1099511628211ull;
  }
  return key;
}

std::string NormalizeMrn(std::string_view mrn) {
  std::string out;
  out.reserve(mrn.size());
  for (char c : mrn) {
    if (c >= 'a' && c <= 'z') {
      out.push_back(static_cast<char>(c - 'a' + 'A'));
    } else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      out.push_back(c);
    }
  }
  return out;
}

KeySet::KeySet(std::size_t expected) {
  std::size_t capacity = 16;
  while (capacity < expected * 2 + 1) capacity *= 2;
  slots_.assign(capacity, 0);
  mask_ = capacity - 1;
}

void KeySet::Insert(std::uint64_t key) {
  key = key == 0 ? 1 : key;
  if ((size_ + 1) * 2 > slots_.size()) {
    KeySet bigger((size_ + 1) * 2);
    for (std::uint64_t k : slots_) {
      if (k != 0) bigger.Insert(k);
    }
    *this = std::move(bigger);
  }
  for (std::size_t i = Mix(key) & mask_;; i = (i + 1) & mask_) {
    if (slots_[i] == key) return;
    if (slots_[i] == 0) {
      slots_[i] = key;
      ++size_;
      return;
    }
  }
}

KeyIds::KeyIds(std::span<const std::pair<std::uint64_t, std::uint32_t>> entries) {
  std::size_t capacity = 16;
  while (capacity < entries.size() * 2 + 1) capacity *= 2;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  for (const auto& [key, id] : entries) {
    const std::uint64_t k = key == 0 ? 1 : key;
    std::size_t i = static_cast<std::size_t>((k ^ (k >> 29)) * 0xbf58476d1ce4e5b9ull) & mask_;
    while (slots_[i].key != 0) i = (i + 1) & mask_;
    slots_[i] = Slot{k, id};
  }
}

void KeyIds::Find(std::uint64_t key, std::vector<std::uint32_t>& out) const {
  if (slots_.empty()) return;
  const std::uint64_t k = key == 0 ? 1 : key;
  for (std::size_t i = static_cast<std::size_t>((k ^ (k >> 29)) * 0xbf58476d1ce4e5b9ull) & mask_; slots_[i].key != 0;
       i = (i + 1) & mask_) {
    if (slots_[i].key == k) out.push_back(slots_[i].id);
  }
}

void KeySet::ShrinkToFit() {
  KeySet fitted(size_);
  if (fitted.slots_.size() >= slots_.size()) return;
  for (std::uint64_t k : slots_) {
    if (k != 0) fitted.Insert(k);
  }
  *this = std::move(fitted);
}

namespace {

// Mixes a form's key to a slot.
std::size_t SlotOf(std::uint64_t form) {
  form ^= form >> 31;
  form *= 0xbf58476d1ce4e5b9ull;
  form ^= form >> 29;
  return static_cast<std::size_t>(form);
}

// The forms a name or a typed word is filed under: itself, and itself with one letter after the
// first left out (a doubled letter gives one form). `emit` gets each distinct form's key.
template <class Emit>
void ForEachForm(std::string_view word, Emit&& emit) {
  emit(NameKey::Of(word));
  std::array<char, NearNames::kMaxLength + 1> buffer{};
  for (std::size_t k = 1; k < word.size(); ++k) {
    if (k >= 2 && word[k] == word[k - 1]) continue;  // the form of leaving out word[k - 1]
    std::copy(word.begin(), word.begin() + static_cast<std::ptrdiff_t>(k), buffer.begin());
    std::copy(word.begin() + static_cast<std::ptrdiff_t>(k) + 1, word.end(),
              buffer.begin() + static_cast<std::ptrdiff_t>(k));
    emit(NameKey::Of(std::string_view(buffer.data(), word.size() - 1)));
  }
}

// A name as NearNames files it: lower-case ASCII letters, punctuation and spaces left out; empty
// when it holds anything else (a digit, a letter NormalizeForScan did not fold to ASCII).
std::string FoldForNear(std::string_view name) {
  std::string out;
  for (char ch : name) {
    if (ch >= 'A' && ch <= 'Z') {
      out.push_back(static_cast<char>(ch - 'A' + 'a'));
    } else if (ch >= 'a' && ch <= 'z') {
      out.push_back(ch);
    } else if ((ch >= '0' && ch <= '9') || static_cast<unsigned char>(ch) >= 0x80) {
      return {};
    }
  }
  return out;
}

}  // namespace

NearNames::NearNames(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<std::pair<std::uint64_t, std::uint32_t>> filed;  // (form, name id)
  offsets_.push_back(0);
  for (const std::string& name : names) {
    if (name.size() < kMinLength || name.size() > kMaxLength) continue;
    const auto id = static_cast<std::uint32_t>(keys_.size());
    text_ += name;
    offsets_.push_back(static_cast<std::uint32_t>(text_.size()));
    keys_.push_back(NameKey::Of(name));
    ForEachForm(name, [&](std::uint64_t form) { filed.emplace_back(form == 0 ? 1 : form, id); });
  }
  std::sort(filed.begin(), filed.end());
  filed.erase(std::unique(filed.begin(), filed.end()), filed.end());
  std::size_t forms = 0;
  for (std::size_t i = 0; i < filed.size(); ++i) forms += i == 0 || filed[i].first != filed[i - 1].first;
  std::size_t capacity = 16;
  while (capacity < forms * 2 + 1) capacity *= 2;
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  unsigned log2_bits = 6;
  while ((std::size_t{1} << log2_bits) < forms * 8 && log2_bits < 40) ++log2_bits;
  filter_ = KeyFilter(log2_bits);
  ids_.reserve(filed.size());
  for (std::size_t i = 0; i < filed.size();) {
    const std::uint64_t form = filed[i].first;
    const auto begin = static_cast<std::uint32_t>(ids_.size());
    for (; i < filed.size() && filed[i].first == form; ++i) ids_.push_back(filed[i].second);
    std::size_t s = SlotOf(form) & mask_;
    while (slots_[s].form != 0) s = (s + 1) & mask_;
    slots_[s] = Slot{form, begin, static_cast<std::uint32_t>(ids_.size())};
    filter_.Add(form);
  }
}

const NearNames::Slot* NearNames::Lookup(std::uint64_t form) const {
  form = form == 0 ? 1 : form;
  if (slots_.empty() || !filter_.MayContain(form)) return nullptr;
  for (std::size_t s = SlotOf(form) & mask_;; s = (s + 1) & mask_) {
    if (slots_[s].form == form) return &slots_[s];
    if (slots_[s].form == 0) return nullptr;
  }
}

bool NearNames::OneSlip(std::string_view typed, std::string_view name) {
  if (typed.empty() || name.empty() || typed[0] != name[0] || typed == name) return false;
  std::size_t i = 0;
  while (i < typed.size() && i < name.size() && typed[i] == name[i]) ++i;
  if (typed.size() == name.size()) {
    if (typed.substr(i + 1) == name.substr(i + 1)) return true;  // one letter changed
    return i + 1 < typed.size() && typed[i] == name[i + 1] && typed[i + 1] == name[i] &&
           typed.substr(i + 2) == name.substr(i + 2);  // two neighbours swapped
  }
  if (typed.size() + 1 == name.size()) return typed.substr(i) == name.substr(i + 1);  // left out
  if (typed.size() == name.size() + 1) return typed.substr(i + 1) == name.substr(i);  // added
  return false;
}

std::size_t NearNames::Find(std::string_view word, std::span<std::uint64_t> out) const {
  if (keys_.empty() || word.size() < kMinTyped || word.size() > kMaxLength + 1) return 0;
  std::size_t count = 0;
  ForEachForm(word, [&](std::uint64_t form) {
    const Slot* slot = Lookup(form);
    if (slot == nullptr) return;
    for (std::uint32_t k = slot->begin; k < slot->end && count < out.size(); ++k) {
      const std::uint32_t id = ids_[k];
      const std::string_view name(text_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
      if (!OneSlip(word, name)) continue;
      if (std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(count), keys_[id]) !=
          out.begin() + static_cast<std::ptrdiff_t>(count)) {
        continue;
      }
      out[count++] = keys_[id];
    }
  });
  return count;
}

PatientIndexSnapshot::PatientIndexSnapshot(const std::vector<const PatientRecord*>& records)
    : first_(records.size() / 8), last_(records.size() / 4), pairs_(records.size()),
      mrns_(records.size()), size_(records.size()) {
  unsigned log2_bits = 6;
  while ((std::size_t{1} << log2_bits) < records.size() * 8 && log2_bits < 40) ++log2_bits;
  pairs_filter_ = KeyFilter(log2_bits);
  std::vector<std::string> near_first;
  std::vector<std::string> near_last;
  patients_.reserve(records.size());
  std::vector<std::pair<std::uint64_t, std::uint32_t>> patient_of_pair;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> patient_of_mrn;
  patient_of_pair.reserve(records.size());
  patient_of_mrn.reserve(records.size());
  for (const PatientRecord* r : records) {
    const auto id = static_cast<std::uint32_t>(patients_.size());
    patients_.push_back(NormalizeMrn(r->mrn));
    // Keyed as the scanner keys the text it reads: folded by NormalizeForScan, so that "Zoë",
    // "ZOË" and a decomposed "Zoë", or "Δημήτρης" and "ΔΗΜΗΤΡΗΣ", all meet the patient's name.
    NormalizedText first_text = NormalizeForScan(r->first);
    NormalizedText last_text = NormalizeForScan(r->last);
    const std::uint64_t first = NameKey::Of(first_text.text());
    const std::uint64_t last = NameKey::Of(last_text.text());
    near_first.push_back(FoldForNear(first_text.text()));
    near_last.push_back(FoldForNear(last_text.text()));
    if (first != NameKey::kSeed) {
      first_.Insert(first);
      names_filter_.Add(first);
    }
    if (last != NameKey::kSeed) {
      last_.Insert(last);
      names_filter_.Add(last);
    }
    if (first != NameKey::kSeed && last != NameKey::kSeed) {
      pairs_.Insert(PairKey(first, last));
      pairs_filter_.Add(PairKey(first, last));
      patient_of_pair.emplace_back(PairKey(first, last), id);
    }
    // "Anne Marie", "De La Cruz", and "Anna Lise" for "Anna-Lise": a scan starts from the first
    // word of a name of several.
    for (const std::string_view name : {first_text.text(), last_text.text()}) {
      const std::size_t space = name.find_first_of(" -");
      if (space != std::string_view::npos) {
        names_filter_.Add(NameKey::Of(name.substr(0, space)));
        longer_starts_.Insert(NameKey::Of(name.substr(0, space)));
      }
    }
    // Each part of a double surname is the patient's name too: Siobhan McAllister-Reyes is
    // "Siobhan McAllister" on one form and "Siobhan Reyes" on another.
    if (const std::string_view name = last_text.text(); name.find('-') != std::string_view::npos) {
      for (std::size_t from = 0; from < name.size();) {
        std::size_t to = name.find('-', from);
        if (to == std::string_view::npos) to = name.size();
        const std::uint64_t part = NameKey::Of(name.substr(from, to - from));
        if (to - from >= 2 && part != last && part != NameKey::kSeed) {
          last_.Insert(part);
          names_filter_.Add(part);
          if (first != NameKey::kSeed) {
            pairs_.Insert(PairKey(first, part));
            pairs_filter_.Add(PairKey(first, part));
            patient_of_pair.emplace_back(PairKey(first, part), id);
          }
        }
        from = to + 1;
      }
    }
    const std::string& mrn = patients_.back();
    if (!mrn.empty()) {
      mrns_.Insert(NameKey::Of(mrn));
      patient_of_mrn.emplace_back(NameKey::Of(mrn), id);
      mrn_min_length_ = std::min(mrn_min_length_, mrn.size());
      mrn_max_length_ = std::max(mrn_max_length_, mrn.size());
    }
  }
  // A few thousand distinct first names would otherwise sit in a set sized for 12,500.
  for (KeySet* set : {&first_, &last_, &pairs_, &mrns_, &longer_starts_}) set->ShrinkToFit();
  near_first_ = NearNames(std::move(near_first));
  near_last_ = NearNames(std::move(near_last));
  patient_of_pair_ = KeyIds(patient_of_pair);
  patient_of_mrn_ = KeyIds(patient_of_mrn);
}

namespace {

// A byte of a name's word in folded text: a letter or digit, an apostrophe or hyphen inside a
// name ("O'Brien", "Garcia-Lopez"), or any byte of a non-ASCII letter. Spaces, commas, dots and
// underscores ("maria.garcia", "Garcia, Maria") part words.
bool NameByte(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'' ||
         c == '-';
}

}  // namespace

void PatientIndexSnapshot::PatientsWithPair(std::uint64_t pair, std::vector<std::uint32_t>& ids) const {
  // Most pairs tried are no one's: the filter and the hash set answer those without a search.
  if (!pairs_filter_.MayContain(pair) || !pairs_.Contains(pair)) return;
  patient_of_pair_.Find(pair, ids);
}

void PatientIndexSnapshot::PatientsNamed(std::string_view span, bool slipped, std::vector<std::uint32_t>& ids) const {
  const NormalizedText folded = NormalizeForScan(span);
  const std::string_view text = folded.text();
  // A finding holds a name of a few words (a first name of two, a surname of three, an initial):
  // the words of a longer span past the eighth are not read.
  constexpr std::size_t kMaxWords = 8;
  constexpr std::size_t kMaxRun = 3;
  std::array<std::string_view, kMaxWords> words;
  std::size_t word_count = 0;
  for (std::size_t i = 0; i < text.size() && word_count < kMaxWords;) {
    if (!NameByte(text[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && NameByte(text[j])) ++j;
    words[word_count++] = text.substr(i, j - i);
    i = j;
  }
  // Every run of up to three words, as a first name and as a last name: its key when the index
  // has it as one, each part of a hyphenated word, and (`near`) the names one slip from a word.
  struct Keys {
    std::array<std::uint64_t, 12> key;  // [0, size) set: left uninitialized, as most runs hold none
    std::size_t size = 0;
    void Add(std::uint64_t k) {
      if (size < key.size()) key[size++] = k;
    }
  };
  struct Run {
    std::size_t begin = 0, end = 0;
    Keys firsts, lasts;
  };
  std::array<Run, kMaxWords * kMaxRun> runs;
  std::array<std::uint64_t, 8> near_keys{};
  const auto read = [&](bool near) {
    std::size_t run_count = 0;
    for (std::size_t b = 0; b < word_count; ++b) {
      std::uint64_t key = NameKey::kSeed;
      for (std::size_t e = b + 1; e <= word_count && e - b <= kMaxRun; ++e) {
        key = NameKey::Extend(key, words[e - 1]);
        Run& run = runs[run_count];
        run.begin = b;
        run.end = e;
        run.firsts.size = run.lasts.size = 0;
        if (IsFirstName(key)) run.firsts.Add(key);
        if (IsLastName(key)) run.lasts.Add(key);
        if (e - b == 1) {
          const std::string_view word = words[b];
          for (std::size_t from = 0; word.find('-') != std::string_view::npos && from < word.size();) {
            std::size_t to = word.find('-', from);
            if (to == std::string_view::npos) to = word.size();
            if (to > from) run.lasts.Add(NameKey::Of(word.substr(from, to - from)));
            from = to + 1;
          }
        }
        // A name of several words is one slip from the run's words joined ("Maary Ann").
        if (near) {
          std::string typed;
          bool folds = true;
          for (std::size_t w = b; w < e && folds; ++w) {
            const std::string part = FoldForNear(words[w]);
            folds = !part.empty();
            typed += part;
          }
          if (folds) {
            for (std::size_t k = 0, n = NearFirstNames(typed, near_keys); k < n; ++k) run.firsts.Add(near_keys[k]);
            for (std::size_t k = 0, n = NearLastNames(typed, near_keys); k < n; ++k) run.lasts.Add(near_keys[k]);
          }
        }
        if (run.firsts.size > 0 || run.lasts.size > 0) ++run_count;
      }
    }
    const std::size_t before = ids.size();
    for (std::size_t f = 0; f < run_count; ++f) {
      for (std::size_t l = 0; l < run_count; ++l) {
        const Run& first = runs[f];
        const Run& last = runs[l];
        if (first.begin < last.end && last.begin < first.end) continue;  // the same words
        for (std::size_t i = 0; i < first.firsts.size; ++i) {
          for (std::size_t j = 0; j < last.lasts.size; ++j) PatientsWithPair(PairKey(first.firsts.key[i], last.lasts.key[j]), ids);
        }
      }
    }
    return ids.size() > before;
  };
  // The words as typed first; names one slip away only for a name the scanner found so (`slipped`),
  // and only when the words as typed name no one: looking them up costs more than the rest.
  if (!read(false) && slipped) read(true);
}

void PatientIndexSnapshot::PatientWithMrn(std::string_view span, std::vector<std::uint32_t>& ids) const {
  std::string mrn = NormalizeMrn(span);
  // "MRN48213377", "MR-0012345": the index may hold the number without the letters before it.
  std::vector<std::uint32_t> keyed;
  for (int attempt = 0; attempt < 2 && !mrn.empty(); ++attempt) {
    keyed.clear();
    patient_of_mrn_.Find(NameKey::Of(mrn), keyed);
    bool found = false;
    for (std::uint32_t id : keyed) {
      if (patients_[id] != mrn) continue;  // another MRN with the same key
      ids.push_back(id);
      found = true;
    }
    if (found) return;
    const std::size_t digits = mrn.find_first_of("0123456789");
    if (digits == 0 || digits == std::string::npos) return;
    mrn.erase(0, digits);
  }
}

std::vector<std::string> PatientIndexSnapshot::PatientsIn(std::string_view text,
                                                           std::span<const Finding> findings) const {
  std::vector<std::uint32_t> ids;
  for (const Finding& f : findings) {
    if (f.begin >= f.end || f.end > text.size()) continue;
    const std::string_view span = text.substr(f.begin, f.end - f.begin);
    if (f.type == PhiType::kName) {
      PatientsNamed(span, f.rule_id == "name.near", ids);
    } else if (f.type == PhiType::kMrn) {
      PatientWithMrn(span, ids);
    }
  }
  std::vector<std::string> mrns;
  mrns.reserve(ids.size());
  for (std::uint32_t id : ids) {
    if (!patients_[id].empty()) mrns.push_back(patients_[id]);
  }
  std::sort(mrns.begin(), mrns.end());
  mrns.erase(std::unique(mrns.begin(), mrns.end()), mrns.end());
  return mrns;
}

PatientIndex::PatientIndex() : current_(std::make_shared<PatientIndexSnapshot>()) {}

namespace {

// Splits one CSV record starting at `pos`; advances `pos` past its line end. Returns false on an
// unterminated quote.
bool ReadCsvRecord(std::string_view csv, std::size_t& pos, std::vector<std::string>& fields) {
  fields.assign(1, std::string());
  bool quoted = false;
  while (pos < csv.size()) {
    const char c = csv[pos++];
    if (quoted) {
      if (c == '"') {
        if (pos < csv.size() && csv[pos] == '"') {
          fields.back().push_back('"');
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      fields.back().push_back(c);
    }
  }
  return !quoted;
}

std::string Trim(std::string s) {
  const auto not_space = [](unsigned char c) { return c != ' ' && c != '\t'; };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace

Result<std::vector<PatientRecord>> PatientIndex::ParseCsv(std::string_view csv) {
  std::size_t pos = 0;
  std::vector<std::string> fields;
  if (!ReadCsvRecord(csv, pos, fields)) {
    return InvalidArgument("invalid_csv", "The patient CSV header has an unterminated quote.");
  }
  int mrn_col = -1;
  int first_col = -1;
  int last_col = -1;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string name = Lower(Trim(fields[i]));
    const int col = static_cast<int>(i);
    if (name == "mrn") mrn_col = col;
    if (name == "first" || name == "first_name" || name == "given") first_col = col;
    if (name == "last" || name == "last_name" || name == "family") last_col = col;
  }
  if (mrn_col < 0 || first_col < 0 || last_col < 0) {
    return InvalidArgument("invalid_csv",
                           "The patient CSV header must name the columns mrn, first and last.");
  }
  const auto needed = static_cast<std::size_t>(std::max({mrn_col, first_col, last_col}));
  std::vector<PatientRecord> records;
  int line = 1;
  while (pos < csv.size()) {
    ++line;
    if (!ReadCsvRecord(csv, pos, fields)) {
      return InvalidArgument("invalid_csv",
                             "Line " + std::to_string(line) + " has an unterminated quote.");
    }
    if (fields.size() == 1 && Trim(fields[0]).empty()) continue;  // blank line
    if (fields.size() <= needed) {
      return InvalidArgument("invalid_csv",
                             "Line " + std::to_string(line) + " has too few columns.");
    }
    PatientRecord record{Trim(fields[static_cast<std::size_t>(mrn_col)]),
                         Trim(fields[static_cast<std::size_t>(first_col)]),
                         Trim(fields[static_cast<std::size_t>(last_col)])};
    if (NormalizeMrn(record.mrn).empty()) {
      return InvalidArgument("invalid_csv", "Line " + std::to_string(line) + " has no MRN.");
    }
    records.push_back(std::move(record));
  }
  return records;
}

void PatientIndex::Replace(std::span<const PatientRecord> records) {
  std::lock_guard lock(write_mu_);
  by_mrn_.clear();
  for (const PatientRecord& r : records) by_mrn_[NormalizeMrn(r.mrn)] = r;
  PublishLocked();
}

void PatientIndex::Apply(std::span<const PatientRecord> upserts,
                         std::span<const std::string> removed_mrns) {
  std::lock_guard lock(write_mu_);
  for (const std::string& mrn : removed_mrns) by_mrn_.erase(NormalizeMrn(mrn));
  for (const PatientRecord& r : upserts) by_mrn_[NormalizeMrn(r.mrn)] = r;
  PublishLocked();
}

std::shared_ptr<const PatientIndexSnapshot> PatientIndex::Snapshot() const {
  std::lock_guard lock(read_mu_);
  return current_;
}

void PatientIndex::PublishLocked() {
  std::vector<const PatientRecord*> records;
  records.reserve(by_mrn_.size());
  for (const auto& [mrn, record] : by_mrn_) records.push_back(&record);
  // Built outside read_mu_ so scans keep reading the previous snapshot meanwhile.
  auto next = std::make_shared<const PatientIndexSnapshot>(records);
  std::lock_guard lock(read_mu_);
  current_.swap(next);
  // After the swap: a reader that saw the old version and then took a snapshot holds this one
  // or a newer one, never an older one under a newer version.
  version_.fetch_add(1, std::memory_order_release);
}

}  // namespace rounds::governance::phi
