// The clamd client against a real ClamAV daemon started for these tests (av/test_clamd.hpp).
#include "av/malware_scanner.hpp"

#include "av/test_clamd.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

namespace rounds::av {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Eicar;
using testing::TestClamd;

class ClamdTest : public ::testing::Test {
 protected:
  // One daemon for the suite, with a 1 MiB stream limit.
  static void SetUpTestSuite() { clamd_ = new TestClamd("1M"); }
  static void TearDownTestSuite() {
    delete clamd_;
    clamd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(clamd_->ready()) << "clamd did not start (scripts/setup.sh installs clamav-daemon); see "
                                 << clamd_->log();
    socket_ = clamd_->socket();
  }

  static inline TestClamd* clamd_ = nullptr;
  std::string socket_;
};

TEST_F(ClamdTest, CleanContentPassesAndTheTestVirusIsNamed) {
  const auto scanner = MakeClamdScanner(socket_, 10s);
  auto clean = scanner->Scan("bed,callback\n4,ward clerk\n");
  ASSERT_TRUE(clean) << clean.error().internal_message;
  EXPECT_TRUE(clean->clean);

  auto infected = scanner->Scan(Eicar());
  ASSERT_TRUE(infected) << infected.error().internal_message;
  EXPECT_FALSE(infected->clean);
  EXPECT_EQ(infected->signature, testing::kEicarSignature);

  // Past the first chunk of the stream, and in many chunks: the whole file is scanned.
  std::string large(700 * 1024, 'a');
  large += Eicar();
  auto deep = scanner->Scan(large);
  ASSERT_TRUE(deep) << deep.error().internal_message;
  EXPECT_FALSE(deep->clean);
}

TEST_F(ClamdTest, ManyScansAtOnceEachGetTheirOwnVerdict) {
  const auto scanner = MakeClamdScanner(socket_, 10s);
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const bool bad = (t + i) % 3 == 0;
        auto v = scanner->Scan(bad ? "note " + Eicar() : "note " + std::to_string(i));
        if (!v || v->clean == bad) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ClamdTest, AStreamPastTheDaemonsLimitIsAnErrorNotAVerdict) {
  // StreamMaxLength is 1 MiB here: clamd stops reading and says so; the file is not known clean.
  auto over = MakeClamdScanner(socket_, 10s)->Scan(std::string(2 * 1024 * 1024, 'x'));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(over.error().problem, "antivirus_unavailable");
}

TEST(Clamd, NoDaemonIsUnavailableNeverClean) {
  auto missing = MakeClamdScanner("/nonexistent/clamd.sock", 1s)->Scan("x");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kUnavailable);
  auto refused = MakeClamdScanner("127.0.0.1:1", 1s)->Scan("x");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(MakeClamdScanner("no-port", 1s)->Scan("x"));
}

TEST(Clamd, ADaemonThatNeverAnswersTimesOut) {
  // A listening socket nobody accepts from: the connection completes, the answer never comes.
  const std::string path = (fs::temp_directory_path() / ("rounds-silent-" + std::to_string(::getpid()))).string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  auto silent = MakeClamdScanner(path, 300ms)->Scan("x");
  ASSERT_FALSE(silent);
  EXPECT_EQ(silent.error().code, ErrorCode::kUnavailable);
  ::close(fd);
  ::unlink(path.c_str());
}

TEST(Clamd, RepliesAreReadStrictly) {
  EXPECT_TRUE(ParseClamdReply("stream: OK")->clean);
  EXPECT_TRUE(ParseClamdReply("1: stream: OK\n")->clean);
  auto found = ParseClamdReply("stream: Win.Test.EICAR_HDB-1 FOUND");
  ASSERT_TRUE(found);
  EXPECT_FALSE(found->clean);
  EXPECT_EQ(found->signature, "Win.Test.EICAR_HDB-1");
  for (const char* bad : {"", "stream:", "INSTREAM size limit exceeded. ERROR", "stream: FOUND", "stream: OKAY",
                          "UNKNOWN COMMAND"}) {
    EXPECT_FALSE(ParseClamdReply(bad)) << bad;
  }
}

}  // namespace
}  // namespace rounds::av
