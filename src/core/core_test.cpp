#include <gtest/gtest.h>

#include <sodium.h>
#include <pthread.h>
#include <sys/timex.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/clock_sync.hpp"
#include "core/config.hpp"
#include "core/text_fold.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/open_file.hpp"
#include "core/thread_name.hpp"

namespace rounds {
namespace {

TEST(Clock, FormatsIso8601WithMilliseconds) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
}

TEST(Clock, ParsesTheTimesOperatorsTypeAndNothingElse) {
  EXPECT_EQ(ParseIso8601("1700000000123"), 1'700'000'000'123);
  EXPECT_EQ(ParseIso8601("2023-11-14"), 1'699'920'000'000);
  EXPECT_EQ(ParseIso8601("2023-11-14T22:13:20Z"), 1'700'000'000'000);
  EXPECT_EQ(ParseIso8601("2023-11-14T22:13:20.123Z"), 1'700'000'000'123);
  EXPECT_EQ(ParseIso8601("2023-11-14T22:13:20.5Z"), 1'700'000'000'500);
  // The zone counts: 13:39 at +05:00 is 08:39 UTC.
  EXPECT_EQ(ParseIso8601("2023-11-15T03:13:20+05:00"), 1'700'000'000'000);
  EXPECT_EQ(ParseIso8601("2023-11-14T17:13:20-05:00"), 1'700'000'000'000);
  EXPECT_EQ(ParseIso8601("2024-02-29"), 1'709'164'800'000);
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2025-02-29", "2026-11-24T25:00:00Z", "2026-11-24T10:60:00Z",
                          "2026-11-24T10:00:60Z", "2026-11-24garbage", "2026-11-24T10:00:00", "2026-11-24T10:00Z",
                          "2026-11-24T10:00:00.1234Z", "2026-11-24T10:00:00.Z", "2026-11-24T10:00:00+5:00",
                          "2026-11-24T10:00:00+05:00x", "99999999999999999999", "-5", "2026-1-24", "26-11-24",
                          "2026-11-24 10:00:00Z"}) {
    EXPECT_FALSE(ParseIso8601(bad)) << bad;
  }
}

TEST(TextFold, FoldsCaseAccentsAndTypedPunctuationAndNothingElse) {
  EXPECT_EQ(FoldForMatching("\xC3\x89" "CLAIR"), "eclair");
  EXPECT_EQ(FoldForMatching("\xC3\xA9" "clair"), "eclair");
  EXPECT_EQ(FoldForMatching("e\xCC\x81" "clair"), "eclair");  // decomposed
  EXPECT_EQ(FoldForMatching("BR\xC3\x9B" "L\xC3\x89" "E"), "brulee");
  EXPECT_EQ(FoldForMatching("C++ and $5,000"), "c++ and $5,000");
  // Greek and Cyrillic in any case, "ß" as capitals spell it, and what phones and word
  // processors type for ASCII quotes, dashes and spaces.
  EXPECT_EQ(FoldForMatching("\xCE\xA9 \xD0\x94\xD0\x98\xD0\x90\xD0\x93\xD0\x9D\xD0\x9E\xD0\x97"),
            "\xCF\x89 \xD0\xB4\xD0\xB8\xD0\xB0\xD0\xB3\xD0\xBD\xD0\xBE\xD0\xB7");  // Ω ДИАГНОЗ: ω диагноз
  EXPECT_EQ(FoldForMatching("Stra\xC3\x9F" "e"), FoldForMatching("STRASSE"));
  EXPECT_EQ(FoldForMatching("patient\xE2\x80\x99s \xE2\x80\x9C" "dose\xE2\x80\x9D 5\xC2\xA0mg \xE2\x80\x93 ok"),
            "patient's \"dose\" 5 mg - ok");
  // Other scripts, signs and invalid bytes are kept as they are.
  EXPECT_EQ(FoldForMatching("\xD7\x90 \xC3\x97 \xFF"), "\xD7\x90 \xC3\x97 \xFF");
  EXPECT_EQ(LatinBaseLetter(0xD8), 'O');
  EXPECT_EQ(LatinBaseLetter(0xF7), 0);
  EXPECT_EQ(LatinBaseLetter('e'), 0);
}

TEST(TextFold, FoldsGreekAndCyrillicLettersToTheirSmallBaseLetter) {
  struct Case {
    char32_t code_point;
    char32_t letter;
    bool capital;
  };
  for (const Case& c : std::initializer_list<Case>{
           {U'Д', U'д', true},  {U'д', U'д', false}, {U'Ё', U'е', true},  {U'ё', U'е', false},
           {U'Й', U'и', true},  {U'Ї', U'і', true},  {U'Ґ', U'ґ', true},  {U'Ӂ', U'ж', true},
           {U'ӂ', U'ж', false}, {U'Ӏ', U'ӏ', true},  {U'ӏ', U'ӏ', false}, {U'Ә', U'ә', true},
           {U'Σ', U'σ', true},  {U'ς', U'σ', false}, {U'Ή', U'η', true},  {U'ΐ', U'ι', false},
           {U'Ϋ', U'υ', true},  {U'ώ', U'ω', false}}) {
    const FoldedLetter folded = FoldGreekOrCyrillic(c.code_point);
    EXPECT_EQ(folded.letter, c.letter) << static_cast<unsigned>(c.code_point);
    EXPECT_EQ(folded.capital, c.capital) << static_cast<unsigned>(c.code_point);
  }
  // Punctuation, unassigned code points and everything outside the two ranges are no letters.
  for (const char32_t other :
       {U'\u0387', U'\u0483', char32_t{0x38B}, char32_t{0x3A2}, U'ϐ', U'A', U'é', U'א'}) {
    EXPECT_EQ(FoldGreekOrCyrillic(other).letter, 0u) << static_cast<unsigned>(other);
  }
}

// Armenian and Georgian capitals fold to their small letters as Unicode's simple case folding
// has them; each folded letter takes as many bytes as the capital did.
TEST(TextFold, FoldsArmenianAndGeorgianCapitalsToTheirSmallLetters) {
  EXPECT_EQ(FoldForMatching("ՀԱՅԿ ՊԵՏՐՈՍՅԱՆ"), "հայկ պետրոսյան");
  EXPECT_EQ(FoldForMatching("Հայկ Պետրոսյան"), "հայկ պետրոսյան");
  EXPECT_EQ(FoldForMatching("ᲜᲘᲜᲝ ᲑᲔᲠᲘᲫᲔ"), "ნინო ბერიძე");  // Mtavruli as Mkhedruli
  EXPECT_EQ(FoldForMatching("ნინო ბერიძე"), "ნინო ბერიძე");
  EXPECT_EQ(FoldForMatching("\xE1\x82\xA0\xE1\x83\x87\xE1\x83\x8D"), "\xE2\xB4\x80\xE2\xB4\xA7\xE2\xB4\xAD");  // Asomtavruli Ⴀ Ⴧ Ⴭ: Nuskhuri
  // Beside Latin, Greek and Cyrillic capitals, each folded in place.
  EXPECT_EQ(FoldForMatching("MRI \xC3\x89 ΩΔ ДА ՀԱՅԿ ᲒᲐ ok"), "mri e ωδ да հայկ გა ok");
  struct Case {
    char32_t code_point;
    char32_t letter;
    bool capital;
  };
  for (const Case& c : std::initializer_list<Case>{
           {0x0531, 0x0561, true},   {0x0556, 0x0586, true},   {0x0561, 0x0561, false},  {0x0586, 0x0586, false},
           {0x0587, 0x0587, false},  {0x10A0, 0x2D00, true},   {0x10C5, 0x2D25, true},   {0x10C7, 0x2D27, true},
           {0x10CD, 0x2D2D, true},   {0x10D0, 0x10D0, false},  {0x10FF, 0x10FF, false},  {0x1C90, 0x10D0, true},
           {0x1CBA, 0x10FA, true},   {0x1CBD, 0x10FD, true},   {0x1CBF, 0x10FF, true},   {0x2D00, 0x2D00, false},
           {0x2D2D, 0x2D2D, false}}) {
    const FoldedLetter folded = FoldArmenianOrGeorgian(c.code_point);
    EXPECT_EQ(folded.letter, c.letter) << std::hex << static_cast<unsigned>(c.code_point);
    EXPECT_EQ(folded.capital, c.capital) << std::hex << static_cast<unsigned>(c.code_point);
  }
  // Punctuation (Armenian full stop, Georgian paragraph separator), unassigned code points and
  // other scripts are no letters, and are kept as they are.
  for (const char32_t other : {char32_t{0x0557}, char32_t{0x055D}, char32_t{0x0589}, char32_t{0x10C6},
                               char32_t{0x10FB}, char32_t{0x1CBB}, char32_t{0x1CBC}, char32_t{0x2D26},
                               U'Д', U'A', U'א'}) {
    EXPECT_EQ(FoldArmenianOrGeorgian(other).letter, 0u) << std::hex << static_cast<unsigned>(other);
  }
  EXPECT_EQ(FoldForMatching("\xD5\x9D \xE1\x83\xBB \xE1\xB2\xBB"), "\xD5\x9D \xE1\x83\xBB \xE1\xB2\xBB");
}

std::string NameOf(std::thread& t) {
  char name[32] = {};
  pthread_getname_np(t.native_handle(), name, sizeof name);
  return name;
}

TEST(ThreadName, NamesTheCallingThreadAndCutsALongNameToWhatTheKernelKeeps) {
  std::mutex mu;
  std::condition_variable cv;
  int named = 0;
  bool done = false;
  auto run = [&](std::string_view name) {
    NameThisThread(name);
    std::unique_lock lock(mu);
    ++named;
    cv.notify_all();
    cv.wait(lock, [&] { return done; });
  };
  std::thread a(run, "store-writer");
  std::thread b(run, "a-name-longer-than-fifteen-bytes");
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return named == 2; });
  }
  EXPECT_EQ(NameOf(a), "store-writer");
  EXPECT_EQ(NameOf(b), "a-name-longer-t");
  {
    std::lock_guard lock(mu);
    done = true;
  }
  cv.notify_all();
  a.join();
  b.join();
}

TEST(Crypto, RandomTokensAreLongAndDistinct) {
  ASSERT_TRUE(crypto::InitCrypto());
  std::string a = crypto::RandomToken();
  std::string b = crypto::RandomToken();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 43u);  // 256 bits in unpadded base64url
}

TEST(Crypto, Sha256MatchesKnownVector) {
  EXPECT_EQ(crypto::Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(crypto::Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(crypto::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(crypto::Sha256Hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// RFC 4648 section 10's vectors.
TEST(Crypto, Base64MatchesRfc4648) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, out] : vectors) EXPECT_EQ(crypto::Base64(in), out) << in;
  EXPECT_EQ(crypto::Base64(std::string("\xfb\xff", 2)), "+/8=");
}

// RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
TEST(Crypto, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(crypto::HmacSha256Hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(crypto::HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(crypto::HmacSha256Hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// RFC 2202 test cases 1 and 2.
TEST(Crypto, HexRoundTripsAndRefusesWhatIsNotHex) {
  EXPECT_EQ(crypto::ToHex(std::string("\x00\x9f\xff", 3)), "009fff");
  EXPECT_EQ(crypto::FromHex("009fff"), std::string("\x00\x9f\xff", 3));
  EXPECT_EQ(crypto::FromHex("009FFF"), std::string("\x00\x9f\xff", 3));
  EXPECT_EQ(crypto::FromHex(""), std::string());
  EXPECT_EQ(crypto::FromHex("009ff"), std::nullopt) << "odd length";
  EXPECT_EQ(crypto::FromHex("00 9f"), std::nullopt);
  EXPECT_EQ(crypto::FromHex("zz"), std::nullopt);
}

TEST(Crypto, HmacSha1MatchesRfc2202) {
  auto hex = [](const std::string& raw) { return crypto::ToHex(raw); };
  EXPECT_EQ(hex(crypto::HmacSha1(std::string(20, '\x0b'), "Hi There")), "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex(crypto::HmacSha1("Jefe", "what do ya want for nothing?")), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

// RFC 4648 section 10, both ways; decoding takes either case, spaces and padding.
TEST(Crypto, Base32MatchesRfc4648) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""}, {"f", "MY"}, {"fo", "MZXQ"}, {"foo", "MZXW6"}, {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(crypto::Base32Encode(plain), encoded);
    EXPECT_EQ(crypto::Base32Decode(encoded), plain);
  }
  EXPECT_EQ(crypto::Base32Decode("mzxw 6ytb oi======"), "foobar");
  EXPECT_EQ(crypto::Base32Decode("MZXW1"), std::nullopt) << "1 is not in the alphabet";
  EXPECT_EQ(crypto::Base32Decode("MZXW7"), std::nullopt) << "leftover bits must be zero";
  const std::string random = crypto::RandomBytes(20);
  EXPECT_EQ(crypto::Base32Decode(crypto::Base32Encode(random)), random);
}

// RFC 6238 appendix B, SHA-1 rows (8 digits), and the 6-digit codes apps show.
TEST(Crypto, TotpMatchesRfc6238) {
  const std::string secret = "12345678901234567890";
  const std::pair<std::int64_t, std::string> vectors[] = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& [time, code] : vectors) EXPECT_EQ(crypto::TotpCode(secret, time / 30, 8), code) << time;
  EXPECT_EQ(crypto::TotpCode(secret, 59 / 30), "287082");
  EXPECT_EQ(crypto::TotpCode(secret, 1111111109 / 30), "081804") << "leading zeros kept";
}

TEST(Crypto, SealedSecretsOpenOnlyUnderTheirKeyAndUnaltered) {
  const std::string key = crypto::RandomBytes(crypto::kSecretKeyBytes);
  const std::string sealed = crypto::SealSecret(key, "a totp seed");
  EXPECT_EQ(crypto::OpenSecret(key, sealed), "a totp seed");
  EXPECT_NE(crypto::SealSecret(key, "a totp seed"), sealed) << "a fresh nonce each time";
  EXPECT_EQ(sealed.find("a totp seed"), std::string::npos);
  EXPECT_EQ(crypto::OpenSecret(crypto::RandomBytes(crypto::kSecretKeyBytes), sealed), std::nullopt);
  for (std::size_t i = 0; i < sealed.size(); i += 7) {
    std::string altered = sealed;
    altered[i] = altered[i] == '0' ? '1' : '0';
    EXPECT_EQ(crypto::OpenSecret(key, altered), std::nullopt) << i;
  }
  EXPECT_EQ(crypto::OpenSecret(key, sealed.substr(0, 20)), std::nullopt);
  EXPECT_EQ(crypto::OpenSecret(key, "not hex"), std::nullopt);
}

// libsodium's portable SHA-256: the digest Sha256 (OpenSSL's) must agree with.
std::string PortableSha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

TEST(Crypto, Sha256AgreesWithThePortableDigestAtEveryLength) {
  // Every length around the 64-byte block and its padding boundary (55/56 bytes), then larger
  // inputs as an audit record or an exported file has.
  std::string data;
  for (std::size_t n = 0; n <= 300; ++n) {
    data.assign(n, '\0');
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>((i * 131 + n * 7) & 0xFF);
    ASSERT_EQ(crypto::Sha256(data), PortableSha256(data)) << "length " << n;
  }
  for (std::size_t n : {4095u, 4096u, 65'537u, 3'000'001u}) {
    data.assign(n, static_cast<char>(n & 0x7F));
    ASSERT_EQ(crypto::Sha256(data), PortableSha256(data)) << "length " << n;
  }
}

TEST(Crypto, Sha256InPiecesIsTheDigestOfTheWhole) {
  std::string whole;
  crypto::Sha256Stream stream;
  for (std::size_t n = 0; n < 200; ++n) {  // pieces of every size from empty to past two blocks
    std::string piece(n % 131, static_cast<char>('a' + n % 26));
    stream.Update(piece);
    whole += piece;
  }
  EXPECT_EQ(stream.FinishHex(), crypto::Sha256Hex(whole));
  crypto::Sha256Stream empty;
  EXPECT_EQ(empty.FinishHex(), crypto::Sha256Hex(""));
}

// Saved under a name: all of it, owner-only, never over a file that is there, and no partial file
// left behind either way; a partial file a killed save left is written over.
TEST(OpenFile, SavedUnderANameWholeOrNotAtAllAndNeverOverAnotherFile) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::temp_directory_path() / ("rounds-save-as-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  auto file = OpenFile::Anonymous(folder.string());
  ASSERT_TRUE(file);
  const std::string content = "archive " + std::string(200'000, 'z');
  ASSERT_TRUE(file->Append(content));
  std::ofstream(folder / "a.zip.partial") << "left by a killed save";
  ASSERT_TRUE(file->SaveAs((folder / "a.zip").string()));
  auto saved = OpenFile::ForReading((folder / "a.zip").string());
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->ReadAll().value(), content);
  EXPECT_EQ(fs::status(folder / "a.zip").permissions(), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(folder / "a.zip.partial"));

  std::ofstream(folder / "b.zip") << "theirs";
  auto refused = file->SaveAs((folder / "b.zip").string());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_EQ(refused.error().problem, "file_exists");
  EXPECT_EQ(OpenFile::ForReading((folder / "b.zip").string())->ReadAll().value(), "theirs");
  EXPECT_FALSE(fs::exists(folder / "b.zip.partial"));
  auto nowhere = file->SaveAs((folder / "missing-folder" / "c.zip").string());
  EXPECT_FALSE(nowhere);
  fs::remove_all(folder);
}

TEST(OpenFile, AnAnonymousFileHasNoNameAndReadsBackWhatWasWritten) {
  const std::filesystem::path folder = std::filesystem::temp_directory_path() / ("rounds-open-file-" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  {
    auto file = OpenFile::Anonymous(folder.string());
    ASSERT_TRUE(file) << file.error().internal_message;
    EXPECT_TRUE(std::filesystem::is_empty(folder)) << "unlinked as soon as it is made";
    ASSERT_TRUE(file->Append("first piece, "));
    ASSERT_TRUE(file->Append(std::string(100'000, 'x')));
    EXPECT_EQ(file->Size().value(), 13u + 100'000u);
    auto text = file->ReadAll();
    ASSERT_TRUE(text);
    EXPECT_EQ(text->substr(0, 13), "first piece, ");
    EXPECT_EQ(text->size(), 100'013u);
    OpenFile moved = std::move(*file);
    EXPECT_FALSE(file->valid());
    EXPECT_TRUE(moved.valid());
  }
  std::ofstream(folder / "named.txt") << "named";
  auto named = OpenFile::ForReading((folder / "named.txt").string());
  ASSERT_TRUE(named);
  EXPECT_EQ(named->ReadAll().value(), "named");
  auto missing = OpenFile::ForReading((folder / "missing.txt").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  std::filesystem::remove_all(folder);
}

TEST(Log, TheRequestLineIsTheLineWriteGivesForTheSameFields) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() / ("rounds-log-" + std::to_string(::getpid()));
  std::filesystem::remove(file);
  log::SetOutputFile(file.string());
  const std::string route = "/api/v1/\"quoted\"\\back\tslash/{id}";
  log::Request("GET", route, 200, 3, "192.0.2.7");
  log::Info("http_request", {{"method", "GET"}, {"route", route}, {"status", 200}, {"ms", 3}, {"address", "192.0.2.7"}});
  log::Request("PO\xFFST", "/x", 404, 0, "");  // bytes that are not UTF-8 become U+FFFD
  log::SetMinimumLevel(log::Level::kWarn);
  log::Request("GET", "/not-logged", 200, 0, "");
  log::SetMinimumLevel(log::Level::kInfo);
  log::SetOutputFile("");
  std::ifstream in(file);
  std::string fast, generic, invalid, extra;
  ASSERT_TRUE(std::getline(in, fast));
  ASSERT_TRUE(std::getline(in, generic));
  ASSERT_TRUE(std::getline(in, invalid));
  EXPECT_FALSE(std::getline(in, extra)) << "below the minimum level nothing is written";
  std::filesystem::remove(file);
  // The same bytes but for the time, which may have moved on by a millisecond.
  auto without_time = [](std::string line) { return line.substr(0, line.find(",\"time\":")); };
  EXPECT_EQ(without_time(fast), without_time(generic));
  EXPECT_EQ(nlohmann::json::parse(fast)["route"], route);
  EXPECT_EQ(nlohmann::json::parse(invalid)["method"], "PO\xEF\xBF\xBDST");
}

std::vector<std::string> Lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Request lines are written in batches by the log's own thread; any other line goes out at once,
// after the request lines logged before it.
TEST(Log, RequestLinesArriveInOrderBeforeTheNextOtherLineAndOnTheirOwnSoonAfter) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("rounds-log-order-" + std::to_string(::getpid()));
  std::filesystem::remove(file);
  log::SetOutputFile(file.string());
  for (int i = 0; i < 3; ++i) log::Request("GET", "/r" + std::to_string(i), 200, 0, "");
  log::Warn("after_requests");
  std::vector<std::string> lines = Lines(file);  // no flush asked for: the warning wrote them
  ASSERT_EQ(lines.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(nlohmann::json::parse(lines[i])["route"], "/r" + std::to_string(i));
  EXPECT_EQ(nlohmann::json::parse(lines[3])["event"], "after_requests");
  // A request line with nothing after it is written by the log's thread within moments.
  log::Request("GET", "/alone", 200, 0, "");
  for (int i = 0; i < 500 && Lines(file).size() < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  lines = Lines(file);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(nlohmann::json::parse(lines[4])["route"], "/alone");
  log::SetOutputFile("");
  std::filesystem::remove(file);
}

// The request lines still waiting when the process exits are written by exit itself.
TEST(Log, RequestLinesWaitingAtExitAreWritten) {
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("rounds-log-exit-" + std::to_string(::getpid()));
  std::filesystem::remove(file);
  EXPECT_EXIT(
      {
        log::SetOutputFile(file.string());
        for (int i = 0; i < 100; ++i) log::Request("GET", "/at-exit", 200, 0, "");
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EQ(Lines(file).size(), 100u);
  std::filesystem::remove(file);
}

TEST(Crypto, PasswordHashVerifiesOnlyTheRightPassword) {
  ASSERT_TRUE(crypto::InitCrypto());
  auto hash = crypto::HashPassword("correct horse battery", /*fast=*/true);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$"));
  EXPECT_TRUE(crypto::VerifyPassword("correct horse battery", *hash));
  EXPECT_FALSE(crypto::VerifyPassword("correct horse batterz", *hash));
}

TEST(Config, EnvironmentOverridesDefaults) {
  Config config;
  ASSERT_TRUE(ApplyEnvironment({{"ROUNDS_PORT", "9191"}, {"ROUNDS_DEMO", "true"}}, config));
  EXPECT_EQ(config.port, 9191);
  EXPECT_TRUE(config.demo);
}

TEST(Config, RejectsNonNumericPort) {
  Config config;
  auto status = ApplyEnvironment({{"ROUNDS_PORT", "80a"}}, config);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(config.port, 8080);
}

TEST(Config, MfaRequiredTakesOnlyItsFourValues) {
  Config config;
  EXPECT_EQ(config.mfa_required, "none");
  for (const char* value : {"none", "privileged", "staff", "all"}) {
    ASSERT_TRUE(ApplyEnvironment({{"ROUNDS_MFA_REQUIRED", value}}, config)) << value;
    EXPECT_EQ(config.mfa_required, value);
  }
  auto status = ApplyEnvironment({{"ROUNDS_MFA_REQUIRED", "admins"}}, config);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().problem, "bad_config");
  EXPECT_EQ(config.mfa_required, "all") << "a bad value changes nothing";
}

// A batch is one write unit, and the store selects at most kMaxRetentionBatchSize purge
// Live reads are recorded within the interval: 0 would never record them, and a day is the
// longest a reader's trail may lag.
TEST(Config, LiveReadIntervalIsBetweenASecondAndADay) {
  Config config;
  EXPECT_EQ(config.audit_live_read_seconds, 60);
  ASSERT_TRUE(ApplyEnvironment({{"ROUNDS_AUDIT_LIVE_READ_SECONDS", "1"}}, config));
  EXPECT_EQ(config.audit_live_read_seconds, 1);
  for (const char* value : {"0", "-1", "86401", "soon"}) {
    auto status = ApplyEnvironment({{"ROUNDS_AUDIT_LIVE_READ_SECONDS", value}}, config);
    ASSERT_FALSE(status) << value;
    EXPECT_EQ(status.error().problem, "bad_config") << value;
    EXPECT_EQ(status.error().field, "audit_live_read_seconds") << value;
    EXPECT_EQ(config.audit_live_read_seconds, 1) << "a bad value changes nothing";
  }
}

// candidates at a time: a larger setting would purge less than it says and still report the run
// complete.
TEST(Config, RetentionBatchSizeIsBoundedByWhatOneBatchCanSelect) {
  Config config;
  EXPECT_EQ(config.retention_batch_size, 500);
  for (const char* value : {"1", "500", "10000"}) {
    ASSERT_TRUE(ApplyEnvironment({{"ROUNDS_RETENTION_BATCH_SIZE", value}}, config)) << value;
    EXPECT_EQ(config.retention_batch_size, std::stoi(value));
  }
  for (const char* value : {"10001", "50000", "0", "-5", "4294967796"}) {
    auto status = ApplyEnvironment({{"ROUNDS_RETENTION_BATCH_SIZE", value}}, config);
    ASSERT_FALSE(status) << value;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument) << value;
    EXPECT_EQ(status.error().problem, "bad_config") << value;
    EXPECT_EQ(status.error().field, "retention_batch_size") << value;
    EXPECT_NE(status.error().public_message.find("retention_batch_size"), std::string::npos);
    EXPECT_NE(status.error().public_message.find("1 to 10000"), std::string::npos) << status.error().public_message;
    EXPECT_EQ(config.retention_batch_size, 10000) << "a bad value changes nothing";
  }
  // The file takes the same keys through the same check.
  std::string path = ::testing::TempDir() + "/rounds-config-batch-test.toml";
  {
    std::ofstream out(path);
    out << "retention_batch_size = 20000\n";
  }
  auto from_file = ApplyConfigFile(path, config);
  ASSERT_FALSE(from_file);
  EXPECT_EQ(from_file.error().field, "retention_batch_size");
  std::remove(path.c_str());
}

TEST(Config, FileRejectsUnknownKeys) {
  std::string path = ::testing::TempDir() + "/rounds-config-test.toml";
  {
    std::ofstream out(path);
    out << "port = 9000\nallowed_origins = [\"https://a.example\", \"https://b.example\"]\n";
  }
  Config config;
  ASSERT_TRUE(ApplyConfigFile(path, config));
  EXPECT_EQ(config.port, 9000);
  EXPECT_EQ(config.allowed_origins.size(), 2u);
  {
    std::ofstream out(path);
    out << "prot = 9000\n";
  }
  auto status = ApplyConfigFile(path, config);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().field, "prot");
  std::remove(path.c_str());
}

TEST(ClockSyncTest, AnUnsynchronizedClockOrOneThatMayBeASecondOffIsAnAlarm) {
  ClockSync good = ClockSyncFrom(TIME_OK, 12'000, 300);
  EXPECT_TRUE(good.synchronized);
  EXPECT_DOUBLE_EQ(good.max_error_seconds, 0.012);
  EXPECT_DOUBLE_EQ(good.estimated_error_seconds, 0.0003);
  EXPECT_FALSE(ClockSkewAlarm(good));
  // A leap second pending is still a synchronized clock.
  EXPECT_FALSE(ClockSkewAlarm(ClockSyncFrom(TIME_INS, 12'000, 300)));
  // The kernel's bound grows while no time source corrects it.
  EXPECT_TRUE(ClockSkewAlarm(ClockSyncFrom(TIME_OK, 1'500'000, 300)));
  ClockSync lost = ClockSyncFrom(TIME_ERROR, 16'000'000, 16'000'000);
  EXPECT_FALSE(lost.synchronized);
  EXPECT_TRUE(ClockSkewAlarm(lost));
  // The kernel answers on any Linux machine, synchronized or not.
  auto now = ReadClockSync();
  ASSERT_TRUE(now.has_value());
  EXPECT_GE(now->max_error_seconds, 0);
}

}  // namespace
}  // namespace rounds
