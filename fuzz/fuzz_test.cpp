// Every fuzz target over every committed input of its corpus (fuzz/corpus/<target>/: seeds and
// the inputs that once broke it), then over a fixed set of mutations of them: the same inputs on
// every run, so a failure here is reproducible. A broken invariant aborts the test binary with
// the target's message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz/targets.hpp"

namespace rounds::fuzz {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

std::vector<Bytes> Corpus(std::string_view target) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(ROUNDS_FUZZ_CORPUS) / target)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());  // a fixed order, so that the mutations are too
  std::vector<Bytes> corpus;
  for (const fs::path& file : files) {
    std::ifstream in(file, std::ios::binary);
    corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return corpus;
}

// Pieces the mutations insert: what the targets' code looks for, and what breaks text handling.
const std::vector<std::string>& Pieces() {
  static const std::vector<std::string> pieces = {
      "DOB ", "MRN ", "SSN ", "pt ", "born ", "Garcia", "Maria ", "O'Brien", "@", "://", "www.", ".com",
      "617-555-0142", "03/14/1962", "987-65-4321", "4111 1111 1111 1111", "192.0.2.17", " St", "02139",
      "\xC3\xA9", "\xEF\xBC\x91", "\xE2\x80\x8B", "\xE2\x80\x93", "\xE2\x80\x99", "\xF0\x9F\x98\x80",
      "\xC3", "\xE2\x80", "\xFF", std::string("\0", 1), "\n", "\t", " ", "\"", "\\", "\\u0000", "\\ud800",
      "{", "}", "[", "]", ":", ",", "null", "true", "1e999", "-0", "\"phi\"", "\"retention_days\"", "*",
      "(", ")", "AND", "OR", "NOT", "NEAR", "^", "-", "/", ".", "#", "[[", "]]", "\xE2\x80\xA6",
      " at ", " dot ", "[at]", "Garica", " family", "00-1A-2B-3C-4D-5E", "+44 ", "92F ", "04MAR1961",
      " five five ", " oh ", "MBI ", "1EG4 TE5 ", "-05T14", "T1425Z", "PO Box ", "x4021", "-XY"};
  return pieces;
}

Bytes Mutate(const std::vector<Bytes>& corpus, std::mt19937_64& random) {
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % std::max<std::size_t>(n, 1)); };
  Bytes b = corpus[pick(corpus.size())];
  const int steps = 1 + static_cast<int>(pick(4));
  for (int s = 0; s < steps; ++s) {
    switch (pick(6)) {
      case 0:  // change a byte
        if (!b.empty()) b[pick(b.size())] = static_cast<std::uint8_t>(random());
        break;
      case 1: {  // insert a piece
        const std::string& piece = Pieces()[pick(Pieces().size())];
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size() + 1)), piece.begin(), piece.end());
        break;
      }
      case 2: {  // delete a run
        if (b.empty()) break;
        const std::size_t at = pick(b.size());
        const std::size_t n = std::min(b.size() - at, 1 + pick(16));
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 3: {  // repeat a run
        if (b.empty() || b.size() > 4096) break;
        const std::size_t at = pick(b.size());
        const std::size_t n = std::min(b.size() - at, 1 + pick(32));
        const Bytes run(b.begin() + static_cast<std::ptrdiff_t>(at), b.begin() + static_cast<std::ptrdiff_t>(at + n));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), run.begin(), run.end());
        break;
      }
      case 4: {  // splice in part of another input
        const Bytes& other = corpus[pick(corpus.size())];
        if (other.empty()) break;
        const std::size_t from = pick(other.size());
        const std::size_t n = std::min(other.size() - from, 1 + pick(64));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size() + 1)),
                 other.begin() + static_cast<std::ptrdiff_t>(from), other.begin() + static_cast<std::ptrdiff_t>(from + n));
        break;
      }
      default:  // cut the end
        if (!b.empty()) b.resize(pick(b.size() + 1));
        break;
    }
  }
  return b;
}

class FuzzTargetTest : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzTargetTest, HoldsOnItsCorpus) {
  const std::vector<Bytes> corpus = Corpus(GetParam().name);
  ASSERT_FALSE(corpus.empty()) << "fuzz/corpus/" << GetParam().name << " holds no input";
  for (const Bytes& input : corpus) GetParam().run(input);
  GetParam().run({});  // nothing at all
}

TEST_P(FuzzTargetTest, HoldsOnMutationsOfItsCorpus) {
  const std::vector<Bytes> corpus = Corpus(GetParam().name);
  ASSERT_FALSE(corpus.empty());
  std::mt19937_64 random(20261202);
  // ROUNDS_FUZZ_MUTATIONS runs more of them (the same first ones, then further ones).
  const char* more = std::getenv("ROUNDS_FUZZ_MUTATIONS");
  const long count = more != nullptr ? std::atol(more) : 4000;
  for (long i = 0; i < count; ++i) GetParam().run(Mutate(corpus, random));
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzTargetTest, ::testing::ValuesIn(Targets().begin(), Targets().end()),
                         [](const ::testing::TestParamInfo<Target>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace rounds::fuzz
