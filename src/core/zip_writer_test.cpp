// The ZIP writer's archives are read back by Info-ZIP's unzip, not by code of ours.
#include "core/zip_writer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/crypto.hpp"

namespace rounds {
namespace {

namespace fs = std::filesystem;

struct Folder {
  fs::path path = fs::temp_directory_path() / ("rounds-zip-" + std::to_string(::getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  Folder() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Folder() { fs::remove_all(path); }
};

// The command's standard output, and its exit status in `status`. unzip runs in a UTF-8 locale:
// in the C locale it spells names that are not ASCII in escapes.
std::string RunCommand(const std::string& command, int& status) {
  std::string out;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return out;
  }
  char buffer[4096];
  std::size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
  status = ::pclose(pipe);
  return out;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Bytes that deflate cannot shrink much, and a text that it can.
std::string Noise(std::size_t n) {
  std::string s(n, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xFF);
  }
  return s;
}

constexpr std::int64_t kWhen = 1'764'000'000;  // 2025-11-24T16:00:00Z

Result<std::string> WriteArchive(const fs::path& zip, const fs::path& source, ZipOptions options) {
  ROUNDS_ASSIGN_OR_RETURN(OpenFile out, OpenFile::Anonymous(zip.parent_path().string()));
  ZipWriter writer(out, options);
  ROUNDS_RETURN_IF_ERROR(writer.AddBytes("export-1/manifest.json", "{\"files\": []}\n", kWhen));
  ROUNDS_ASSIGN_OR_RETURN(ZipWriter::Entry noise, writer.AddFile("export-1/noise.bin", source.string(), kWhen + 60));
  // Each entry is described by what was read into it, not by its deflated form.
  if (noise.bytes != fs::file_size(source) || noise.sha256 != crypto::Sha256Hex(Read(source))) {
    return Internal("entry digest differs");
  }
  ROUNDS_RETURN_IF_ERROR(writer.AddBytes("export-1/empty.txt", "", kWhen));
  ROUNDS_RETURN_IF_ERROR(writer.AddBytes("export-1/Überweisung – ward 7.txt", std::string(200'000, 'a'), kWhen));
  ROUNDS_RETURN_IF_ERROR(writer.Finish());
  ROUNDS_RETURN_IF_ERROR(out.Rewind());
  ROUNDS_ASSIGN_OR_RETURN(std::string bytes, out.ReadAll());
  if (bytes.size() != writer.bytes()) return Internal("size differs");
  if (crypto::Sha256Hex(bytes) != writer.sha256()) return Internal("digest differs");
  std::ofstream(zip, std::ios::binary) << bytes;
  return bytes;
}

void ExpectUnzipReadsIt(const Folder& folder, const fs::path& zip, const std::string& noise) {
  int status = 0;
  const std::string tested = RunCommand("LC_ALL=C.UTF-8 unzip -t '" + zip.string() + "' 2>&1", status);
  EXPECT_EQ(status, 0) << tested;
  EXPECT_NE(tested.find("No errors detected"), std::string::npos) << tested;
  const fs::path into = folder.path / "out";
  RunCommand("LC_ALL=C.UTF-8 unzip -q -o '" + zip.string() + "' -d '" + into.string() + "' 2>&1", status);
  ASSERT_EQ(status, 0);
  EXPECT_EQ(Read(into / "export-1/manifest.json"), "{\"files\": []}\n");
  EXPECT_EQ(Read(into / "export-1/noise.bin"), noise);
  EXPECT_TRUE(fs::exists(into / "export-1/empty.txt"));
  EXPECT_EQ(fs::file_size(into / "export-1/empty.txt"), 0u);
  EXPECT_EQ(Read(into / "export-1/Überweisung – ward 7.txt"), std::string(200'000, 'a'));
  // The time each entry was given, to the second (the Unix time field, not the DOS one).
  struct stat st{};
  ASSERT_EQ(::stat((into / "export-1/noise.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, kWhen + 60);
}

TEST(ZipWriter, UnzipReadsBackEveryEntryAsWrittenWithItsTime) {
  Folder folder;
  const std::string noise = Noise(300'000);
  std::ofstream(folder.path / "noise.bin", std::ios::binary) << noise;
  auto bytes = WriteArchive(folder.path / "a.zip", folder.path / "noise.bin", {});
  ASSERT_TRUE(bytes) << bytes.error().internal_message;
  ExpectUnzipReadsIt(folder, folder.path / "a.zip", noise);
  // Deflated: the repeated text costs next to nothing.
  EXPECT_LT(bytes->size(), 300'000u + 10'000u);

  // The same entries give the same bytes.
  auto again = WriteArchive(folder.path / "b.zip", folder.path / "noise.bin", {});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *bytes);
}

TEST(ZipWriter, Zip64SizesAndOffsetsAreReadBackToo) {
  Folder folder;
  const std::string noise = Noise(100'000);
  std::ofstream(folder.path / "noise.bin", std::ios::binary) << noise;
  // Every entry and the directory past the limit: ZIP64 fields everywhere.
  auto bytes = WriteArchive(folder.path / "a.zip", folder.path / "noise.bin", {.zip64_from = 0});
  ASSERT_TRUE(bytes) << bytes.error().internal_message;
  ExpectUnzipReadsIt(folder, folder.path / "a.zip", noise);
  EXPECT_NE(bytes->find(std::string("PK\x06\x06", 4)), std::string::npos);  // the ZIP64 end record
  // Only the later offsets past it.
  auto mixed = WriteArchive(folder.path / "b.zip", folder.path / "noise.bin", {.zip64_from = 1'000});
  ASSERT_TRUE(mixed);
  ExpectUnzipReadsIt(folder, folder.path / "b.zip", noise);
}

TEST(ZipWriter, RefusesNamesThatLeaveTheArchiveAndFilesThatAreNotThere) {
  Folder folder;
  auto out = OpenFile::Anonymous(folder.path.string());
  ASSERT_TRUE(out);
  ZipWriter writer(*out);
  for (const char* bad : {"", "/etc/passwd", "a/../b", "..", "a\\b", "dir/", "a//b", "./a"}) {
    auto added = writer.AddBytes(bad, "x", kWhen);
    ASSERT_FALSE(added) << bad;
    EXPECT_EQ(added.error().problem, "invalid_entry_name") << bad;
  }
  auto missing = writer.AddFile("a.txt", (folder.path / "missing").string(), kWhen);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  // Nothing refused was written: the archive holds the one good entry.
  ASSERT_TRUE(writer.AddBytes("a.txt", "fine", kWhen));
  ASSERT_TRUE(writer.Finish());
  EXPECT_FALSE(writer.AddBytes("b.txt", "late", kWhen));
  ASSERT_TRUE(out->Rewind());
  auto bytes = out->ReadAll();
  ASSERT_TRUE(bytes);
  std::ofstream(folder.path / "a.zip", std::ios::binary) << *bytes;
  int status = 0;
  const std::string listed = RunCommand("LC_ALL=C.UTF-8 unzip -Z1 '" + (folder.path / "a.zip").string() + "'", status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(listed, "a.txt\n");
}

}  // namespace
}  // namespace rounds
