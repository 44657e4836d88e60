// Test support: a real ClamAV daemon (Debian's clamav-daemon, installed by scripts/setup.sh) in a
// temporary folder, with a signature database of its own holding one signature, for the EICAR test
// file: the industry's harmless stand-in for a virus. Included only by *_test.cpp files.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "av/malware_scanner.hpp"

namespace rounds::av::testing {

// The EICAR test file, built from two halves so that no scanner flags the source holding it.
inline std::string Eicar() {
  return std::string("X5O!P%@AP[4\\PZX54(P^)7CC)7}$") + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
}

// The signature clamd reports for Eicar() with this database.
inline constexpr const char* kEicarSignature = "Rounds-Test-EICAR.UNOFFICIAL";

class TestClamd {
 public:
  // Starts clamd and waits until it answers (loading one signature takes about a second).
  // `stream_max` is clamd's StreamMaxLength.
  explicit TestClamd(const std::string& stream_max = "30M") {
    namespace fs = std::filesystem;
    using namespace std::chrono_literals;
    dir_ = fs::temp_directory_path() / ("rounds-clamd-" + std::to_string(::getpid()) + "-" + std::to_string(++Count()));
    fs::create_directories(dir_ / "db");
    std::string hex;
    for (unsigned char c : std::string("EICAR-STANDARD-ANTIVIRUS-TEST-FILE")) {
      static constexpr char kDigits[] = "0123456789abcdef";
      hex += kDigits[c >> 4];
      hex += kDigits[c & 15];
    }
    std::ofstream(dir_ / "db" / "rounds-test.ndb") << "Rounds-Test-EICAR:0:*:" << hex << "\n";
    socket_ = (dir_ / "clamd.sock").string();
    std::ofstream(dir_ / "clamd.conf") << "Foreground yes\nLocalSocket " << socket_ << "\nDatabaseDirectory "
                                       << (dir_ / "db").string() << "\nLogFile " << log() << "\nStreamMaxLength "
                                       << stream_max << "\n";
    const std::string conf = (dir_ / "clamd.conf").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Its log file has what it says; the test's own output stays the test's.
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      // Debian installs it in /usr/sbin, which is not on an ordinary user's PATH.
      if (::access("/usr/sbin/clamd", X_OK) == 0) {
        ::execl("/usr/sbin/clamd", "clamd", "-c", conf.c_str(), static_cast<char*>(nullptr));
      }
      ::execlp("clamd", "clamd", "-c", conf.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (fs::exists(socket_) && MakeClamdScanner(socket_, 5s)->Scan("ping")) {
        ready_ = true;
        return;
      }
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {  // it exited: not installed, or failed
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  ~TestClamd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestClamd(const TestClamd&) = delete;
  TestClamd& operator=(const TestClamd&) = delete;

  bool ready() const { return ready_; }
  const std::string& socket() const { return socket_; }
  std::string log() const { return (dir_ / "clamd.log").string(); }

 private:
  static int& Count() {
    static int count = 0;
    return count;
  }
  std::filesystem::path dir_;
  std::string socket_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace rounds::av::testing
