// The organization's patient index as the PHI scanner sees it: names and medical record numbers.
//
// PatientIndex holds the records and publishes immutable snapshots. Scans read a snapshot
// (Snapshot() is a cheap shared_ptr copy), updates build a new one and swap it in, so readers
// never wait for writers and never see a half-applied change. Thread-safe: any number of
// concurrent readers and writers; writers are serialized. An update costs O(records) (the lookup
// tables are rebuilt), so bulk changes should go through Apply() in one batch.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "governance/phi/types.hpp"

namespace rounds::governance::phi {

struct PatientRecord {
  std::string mrn;
  std::string first;  // given name(s), e.g. "Mary Ann"
  std::string last;   // family name(s), e.g. "De La Cruz"
};

// Hashing that makes name matching tolerant of case and punctuation: ASCII letters are
// lower-cased, digits and non-ASCII bytes kept, everything else (spaces, apostrophes, hyphens,
// dots) skipped. "O'Brien", "OBRIEN" and "o brien" have one key. Extend() continues a key over
// the next token, so "de la cruz" typed as three tokens meets the key of "De La Cruz". Keys are
// taken of text folded by NormalizeForScan, on both sides: the index's names and the scanned text,
// so accented Latin letters, composed or decomposed, in either case, meet their plain letter
// ("Zoë", "ZOË", "Zoe" + U+0308 and "Zoe" have one key), and Greek, Cyrillic, Armenian and
// Georgian names meet themselves in any case ("Дмитрий", "ДМИТРИЙ", "дмитрий"; "ՀԱՅԿ", "Հայկ";
// Georgian in Mtavruli and in Mkhedruli).
class NameKey {
 public:
  static constexpr std::uint64_t kSeed = 14695981039346656037ull;
  static std::uint64_t Of(std::string_view text) { return Extend(kSeed, text); }
  static std::uint64_t Extend(std::uint64_t key, std::string_view text);
};

// Normalized MRN: upper-case ASCII letters and digits only ("mr-0012 345" -> "MR0012345").
std::string NormalizeMrn(std::string_view mrn);

// An open-addressing set of 64-bit keys (never empty-key 0; 0 is remapped). Lookups touch one
// cache line in the common case.
class KeySet {
 public:
  explicit KeySet(std::size_t expected = 0);
  void Insert(std::uint64_t key);
  // Rebuilds at the smallest capacity for the keys held (half full): sets sized for the worst
  // case waste cache on every probe.
  void ShrinkToFit();
  bool Contains(std::uint64_t key) const {
    if (slots_.empty()) return false;
    key = key == 0 ? 1 : key;
    for (std::size_t i = Mix(key) & mask_;; i = (i + 1) & mask_) {
      const std::uint64_t slot = slots_[i];
      if (slot == key) return true;
      if (slot == 0) return false;
    }
  }
  std::size_t size() const { return size_; }

 private:
  static std::size_t Mix(std::uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return static_cast<std::size_t>(key);
  }
  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

// An open-addressing multimap from 64-bit keys to 32-bit ids (a key may have several), built once:
// a lookup touches one cache line in the common case, where a search of a sorted array of 100,000
// keys misses the cache at most of its steps.
class KeyIds {
 public:
  KeyIds() = default;
  explicit KeyIds(std::span<const std::pair<std::uint64_t, std::uint32_t>> entries);
  // Appends the ids filed under `key` to `out`.
  void Find(std::uint64_t key, std::vector<std::uint32_t>& out) const;

 private:
  struct Slot {
    std::uint64_t key = 0;  // 0: empty (key 0 is filed as 1)
    std::uint32_t id = 0;
  };
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

// A filter of 64-bit keys, two bits a key in 2^log2_bits bits: false means the key was never
// added; true, that it may have been. One or two cache lines a question, where the exact sets it
// stands in front of are megabytes.
class KeyFilter {
 public:
  explicit KeyFilter(unsigned log2_bits = 6)
      : words_(std::size_t{1} << (log2_bits - 6), 0), shift_(64 - log2_bits) {}
  void Add(std::uint64_t key) {
    const auto [a, b] = Bits(key);
    words_[a >> 6] |= 1ull << (a & 63);
    words_[b >> 6] |= 1ull << (b & 63);
  }
  bool MayContain(std::uint64_t key) const {
    const auto [a, b] = Bits(key);
    return ((words_[a >> 6] >> (a & 63)) & (words_[b >> 6] >> (b & 63)) & 1u) != 0;
  }

 private:
  struct Pair {
    std::size_t a, b;
  };
  // Two positions from different bits of one multiplicative hash.
  Pair Bits(std::uint64_t key) const {
    const std::uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return {static_cast<std::size_t>(h >> shift_), static_cast<std::size_t>((h << 20) >> shift_)};
  }
  std::vector<std::uint64_t> words_;
  unsigned shift_;
};

// Names one typing slip away from a word, for names typed in a hurry: "Maria Garica", "Keisha
// Washingon", "dmitri kowalczik". A slip is one letter left out, added or changed, or two
// neighbours swapped, never the first letter (which typists rarely get wrong, and whose change
// turns "Hill" into "will"). Built by symmetric deletion: each name is filed under itself and
// under every form of it with one letter after the first left out, and a typed word looks itself
// and its own such forms up; a candidate so found is then checked letter by letter. Names and
// words are NameKey-folded: lower-case ASCII letters, nothing else. Immutable once built.
class NearNames {
 public:
  static constexpr std::size_t kMinLength = 4;   // shorter names are one slip from too many words
  static constexpr std::size_t kMaxLength = 24;
  // A typed word may be one letter shorter than the shortest name: "Sar" for Sara.
  static constexpr std::size_t kMinTyped = kMinLength - 1;

  NearNames() = default;
  // `names`: distinct folded names; those that are not kMinLength..kMaxLength letters are left out.
  explicit NearNames(std::vector<std::string> names);

  // The NameKeys of the names one slip from `word` (folded), at most out.size() of them; returns
  // how many were written. A word that is itself a name is not one slip from it.
  std::size_t Find(std::string_view word, std::span<std::uint64_t> out) const;
  std::size_t size() const { return keys_.size(); }

  // Is `typed` one slip from `name` (both folded, the first letters equal)?
  static bool OneSlip(std::string_view typed, std::string_view name);

 private:
  struct Slot {
    std::uint64_t form = 0;  // NameKey of the form; 0 for an empty slot
    std::uint32_t begin = 0;  // its names: ids_[begin, end)
    std::uint32_t end = 0;
  };
  const Slot* Lookup(std::uint64_t form) const;

  std::string text_;                    // the names, one after another
  std::vector<std::uint32_t> offsets_;  // name i is text_[offsets_[i], offsets_[i + 1])
  std::vector<std::uint64_t> keys_;     // NameKey of name i
  std::vector<Slot> slots_;             // open addressing by form
  std::size_t mask_ = 0;
  std::vector<std::uint32_t> ids_;      // names grouped by form
  KeyFilter filter_{6};                 // the forms: most words have no form in the table
};

// One immutable state of the index (thread-safe: const only).
class PatientIndexSnapshot {
 public:
  PatientIndexSnapshot() = default;
  explicit PatientIndexSnapshot(const std::vector<const PatientRecord*>& records);

  // A fast filter: false means the key is neither a first nor a last name in the index. Checked
  // for every word of every message before the exact sets, and small enough to stay in L1.
  bool MaybeName(std::uint64_t key) const { return names_filter_.MayContain(key); }
  // Is `key` the first word of a first or last name of several ("Mary" of "Mary Ann", "De" of
  // "De La Cruz")?
  bool StartsLongerName(std::uint64_t key) const { return MaybeName(key) && longer_starts_.Contains(key); }
  // The exact sets are large (the pair set of 100,000 patients is megabytes): every probe is
  // filtered first, since every first and last name key is in the filter.
  bool IsFirstName(std::uint64_t key) const { return MaybeName(key) && first_.Contains(key); }
  bool IsLastName(std::uint64_t key) const { return MaybeName(key) && last_.Contains(key); }
  // Is (first, last) one patient's name?
  bool IsNamePair(std::uint64_t first_key, std::uint64_t last_key) const {
    if (!MaybeName(last_key) || !MaybeName(first_key)) return false;
    const std::uint64_t pair = PairKey(first_key, last_key);
    return pairs_filter_.MayContain(pair) && pairs_.Contains(pair);
  }
  bool HasMrn(std::string_view normalized_mrn) const {
    return normalized_mrn.size() >= mrn_min_length_ && normalized_mrn.size() <= mrn_max_length_ &&
           mrns_.Contains(NameKey::Of(normalized_mrn));
  }
  // The same for a key already made (NameKey of the MRN as typed: it skips punctuation and case)
  // of `length` letters and digits.
  bool HasMrnKey(std::uint64_t key, std::size_t length) const {
    return length >= mrn_min_length_ && length <= mrn_max_length_ && mrns_.Contains(key);
  }
  std::size_t size() const { return size_; }

  // First and last names one typing slip from a word (see NearNames): keys written to `out`.
  std::size_t NearFirstNames(std::string_view folded, std::span<std::uint64_t> out) const {
    return near_first_.Find(folded, out);
  }
  std::size_t NearLastNames(std::string_view folded, std::span<std::uint64_t> out) const {
    return near_last_.Find(folded, out);
  }

  static std::uint64_t PairKey(std::uint64_t first_key, std::uint64_t last_key) {
    return first_key * 0x9E3779B97F4A7C15ull ^ (last_key + 0x632BE59BD9B4E019ull);
  }

  // The patients `findings` of `text` name: the normalized MRNs of the patients whose first and
  // last names a NAME finding holds (in either order, typed with one slip as the scanner allows,
  // a part of a double surname for the whole), and of those whose MRN an MRN finding is (with or
  // without a prefix of letters: "MRN48213377"). Sorted and distinct. A finding names no one it
  // cannot tell apart: a surname alone is many patients' and names none here, and so does a
  // value of another type (a phone number, a date), which the index does not hold. Called after
  // a scan, outside its loop: it costs a few lookups per NAME or MRN finding.
  std::vector<std::string> PatientsIn(std::string_view text, std::span<const Finding> findings) const;

 private:
  // The patients whose name pair is `pair` (PairKey), or whose MRN has NameKey `mrn_key`: ids
  // into patients_.
  void PatientsWithPair(std::uint64_t pair, std::vector<std::uint32_t>& ids) const;
  // `slipped`: the scanner found the name one typing slip away ("name.near").
  void PatientsNamed(std::string_view span, bool slipped, std::vector<std::uint32_t>& ids) const;
  void PatientWithMrn(std::string_view span, std::vector<std::uint32_t>& ids) const;

  KeyFilter names_filter_{17};  // 2^17 bits, 16 KB: stays in L1
  KeySet longer_starts_;
  // Many pairs asked about are two names of different patients ("Ahmed Day", "Maria Nowak"): a
  // filter of eight to sixteen bits per patient, small enough for L2, answers most of them
  // without a probe of the pair set (megabytes, a miss in the last-level cache).
  KeyFilter pairs_filter_;
  KeySet first_;
  KeySet last_;
  KeySet pairs_;
  KeySet mrns_;
  NearNames near_first_;
  NearNames near_last_;
  // Who is who, for PatientsIn only (never probed by a scan): each patient's normalized MRN, and
  // the patients of each name pair (PairKey) and of each MRN (NameKey).
  std::vector<std::string> patients_;
  KeyIds patient_of_pair_;
  KeyIds patient_of_mrn_;
  std::size_t mrn_min_length_ = SIZE_MAX;  // normalized lengths present in the index
  std::size_t mrn_max_length_ = 0;
  std::size_t size_ = 0;
};

class PatientIndex {
 public:
  PatientIndex();

  // Parses CSV text with a header naming the columns mrn, first (or first_name, given) and last
  // (or last_name, family), in any order; quoted fields may hold commas and doubled quotes.
  // Errors: kInvalidArgument naming the line (never the line's content, which is PHI).
  static Result<std::vector<PatientRecord>> ParseCsv(std::string_view csv);

  // Replaces the whole index.
  void Replace(std::span<const PatientRecord> records);
  // Adds or updates records (keyed by normalized MRN) and removes the given MRNs, as one change.
  void Apply(std::span<const PatientRecord> upserts, std::span<const std::string> removed_mrns);
  void Upsert(const PatientRecord& record) { Apply({&record, 1}, {}); }
  void Remove(const std::string& mrn) { Apply({}, {&mrn, 1}); }

  // The current state; stays valid and unchanged for as long as the caller holds it.
  std::shared_ptr<const PatientIndexSnapshot> Snapshot() const;
  // Changes with every published snapshot. A caller that read Version() before Snapshot() may
  // keep that snapshot for as long as Version() still returns the same value, and so skip the
  // lock and the reference count on a hot path.
  std::uint64_t Version() const { return version_.load(std::memory_order_acquire); }

 private:
  void PublishLocked();  // requires write_mu_

  std::mutex write_mu_;                                     // serializes writers
  std::unordered_map<std::string, PatientRecord> by_mrn_;   // guarded by write_mu_
  mutable std::mutex read_mu_;                              // held only to copy or swap current_
  std::shared_ptr<const PatientIndexSnapshot> current_;     // guarded by read_mu_
  std::atomic<std::uint64_t> version_{0};                   // bumped after current_ changes
};

}  // namespace rounds::governance::phi
