// The audit witness against a real collector: a TCP listener on the loopback that reads RFC 6587
// octet-counted frames, as rsyslog's imtcp does, and can be stopped and started again on its port.
#include "app/audit_witness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "app/audit_log.hpp"
#include "app/audit_service.hpp"
#include "app/service_test_support.hpp"

namespace rounds::app {
namespace {

using namespace std::chrono_literals;
using governance::audit::Checkpoint;

class Collector {
 public:
  Collector() { Listen(0); }
  ~Collector() { Shutdown(); }
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Stops listening and closes every connection, as a collector that goes down.
  void Shutdown() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
  }
  // Listens again on the same port.
  void Restart() { Listen(port_); }

  // The messages received so far, once at least `n` have arrived (or 10 s have passed).
  std::vector<std::string> WaitFor(std::size_t n) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard lock(mutex_);
        if (messages_.size() >= n) return messages_;
      }
      std::this_thread::sleep_for(10ms);
    }
    return messages();
  }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  // The checkpoint lines received, as a collector's file would hold them (one message a line).
  std::string AsFile() const {
    std::string text = "Dec  6 05:00:00 collector rsyslogd: start\n";
    for (const auto& m : messages()) text += m + "\n";
    return text;
  }

 private:
  void Listen(int port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int yes = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(listener_, 16), 0);
    socklen_t len = sizeof sa;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    stop_ = false;
    thread_ = std::thread([this] { Serve(); });
  }

  void Serve() {
    std::map<int, std::string> clients;  // fd -> bytes not yet framed
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const auto& [fd, _] : clients) fds.push_back({fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) clients[fd];
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buffer[4096];
        const ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
          ::close(fds[i].fd);
          clients.erase(fds[i].fd);
          continue;
        }
        std::string& pending = clients[fds[i].fd];
        pending.append(buffer, static_cast<std::size_t>(n));
        for (;;) {  // "<length> <message>"
          const std::size_t space = pending.find(' ');
          if (space == std::string::npos) break;
          const std::size_t length = std::stoul(pending.substr(0, space));
          if (pending.size() < space + 1 + length) break;
          std::lock_guard lock(mutex_);
          messages_.push_back(pending.substr(space + 1, length));
          pending.erase(0, space + 1 + length);
        }
      }
    }
    for (const auto& [fd, _] : clients) ::close(fd);
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
};

Checkpoint Signed(std::int64_t seq, const governance::audit::SigningKey& key) {
  return governance::audit::SignCheckpoint(seq, std::string(64, 'a'), 1'000 * seq, key);
}

std::string Line(const Checkpoint& c) { return std::string(kWitnessMarker) + c.ToLine(); }

TEST(SyslogFrameTest, IsAnOctetCountedRfc5424MessageOnOneLine) {
  const std::string frame = SyslogFrame(5, 1'764'998'400'123, "ward host", "checkpoint", "a\nb\rc");
  const std::size_t space = frame.find(' ');
  const std::string message = frame.substr(space + 1);
  EXPECT_EQ(std::stoul(frame.substr(0, space)), message.size());
  // authpriv (10) * 8 + notice (5); the time in UTC with milliseconds; spaces in a header field
  // would split it.
  EXPECT_EQ(message, "<85>1 2025-12-06T05:20:00.123Z ward_host rounds " + std::to_string(::getpid()) +
                         " checkpoint - a b c");
  EXPECT_TRUE(SyslogFrame(1, 0, "", "anchor_mismatch", "x").find("<81>1 1970-01-01T00:00:00.000Z - rounds ") !=
              std::string::npos);
}

TEST(WitnessFileTest, FindsTheCheckpointsInWhateverTheCollectorWroteAndNamesABadLine) {
  const auto key = governance::audit::SigningKey::Generate();
  const auto dir = std::filesystem::temp_directory_path() / ("rounds-witness-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "collector.log").string();
  {
    std::ofstream out(path);
    out << "Dec  6 05:00:00 collector rsyslogd: start\n"
        << "2026-12-06T05:00:01.000Z ward-host rounds[41]: " << Line(Signed(3, key)) << "\n"
        << "<85>1 2026-12-06T05:00:02.000Z ward-host rounds 41 checkpoint - " << Line(Signed(7, key)) << "\n"
        << "an unrelated line\n";
  }
  std::vector<std::int64_t> seqs;
  auto each = [&seqs](const Checkpoint& c) { seqs.push_back(c.seq); };
  ASSERT_TRUE(ForEachWitnessedCheckpoint(path, each));
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{3, 7}));
  {
    std::ofstream out(path, std::ios::app);
    out << "2026-12-06T05:00:03.000Z ward-host rounds[41]: " << kWitnessMarker << "12 not-a-hash\n";
  }
  auto bad = ForEachWitnessedCheckpoint(path, each);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().problem, "bad_witness_line");
  EXPECT_NE(bad.error().public_message.find("Line 5"), std::string::npos) << bad.error().public_message;
  EXPECT_EQ(ForEachWitnessedCheckpoint((dir / "missing.log").string(), each).error().code, ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(AuditWitnessTest, SendsInOrderAndWhatWaitedWhileTheCollectorWasDown) {
  const auto key = governance::audit::SigningKey::Generate();
  Collector collector;
  AuditWitness witness(collector.address(), "ward-host");
  ASSERT_TRUE(witness.Start());
  witness.Witness(Signed(1, key), 1'000);
  witness.Witness(Signed(2, key), 2'000);
  auto got = collector.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_NE(got[0].find(Line(Signed(1, key))), std::string::npos) << got[0];
  EXPECT_NE(got[1].find(Line(Signed(2, key))), std::string::npos) << got[1];
  EXPECT_TRUE(witness.stats().connected);

  // The collector goes down: what is signed meanwhile waits, and arrives in order once it is back.
  collector.Shutdown();
  witness.Witness(Signed(3, key), 3'000);
  witness.Alarm("the trail was cut short", 3'500);
  witness.Witness(Signed(4, key), 4'000);
  for (int i = 0; i < 500 && witness.stats().connected; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(witness.stats().connected);
  EXPECT_EQ(witness.stats().pending, 3) << "nothing went into the closed connection";
  collector.Restart();
  got = collector.WaitFor(5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_NE(got[2].find(Line(Signed(3, key))), std::string::npos) << got[2];
  EXPECT_NE(got[3].find("<81>1 "), std::string::npos) << "an alert: " << got[3];
  EXPECT_NE(got[3].find(" anchor_mismatch - rounds-audit-alarm the trail was cut short"), std::string::npos) << got[3];
  EXPECT_NE(got[4].find(Line(Signed(4, key))), std::string::npos) << got[4];
  const auto stats = witness.stats();
  EXPECT_EQ(stats.sent, 5);
  EXPECT_EQ(stats.pending, 0);
  EXPECT_EQ(stats.dropped, 0);
  witness.Stop(1s);
}

TEST(AuditWitnessTest, OverTlsItNeedsANameToVerifyAndFilesItCanUse) {
  AuditWitness by_path("/run/collector.sock", "ward-host", {.enabled = true});
  auto started = by_path.Start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().problem, "bad_tls_config");
  EXPECT_NE(started.error().public_message.find("audit_witness_server_name"), std::string::npos);

  AuditWitness missing_ca("127.0.0.1:6514", "ward-host",
                          {.enabled = true, .files = {.ca_file = "/nonexistent/witness-ca.pem"}});
  started = missing_ca.Start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().public_message.find("witness-ca.pem"), std::string::npos);
  EXPECT_FALSE(missing_ca.stats().connected);
}

TEST(AuditWitnessTest, AFullQueueDropsTheOldestAndStopSendsWhatIsLeft) {
  const auto key = governance::audit::SigningKey::Generate();
  Collector collector;
  collector.Shutdown();
  AuditWitness witness(collector.address(), "ward-host");
  ASSERT_TRUE(witness.Start());
  const std::int64_t n = static_cast<std::int64_t>(AuditWitness::kMaxPending) + 3;
  for (std::int64_t seq = 1; seq <= n; ++seq) witness.Witness(Signed(seq, key), seq);
  EXPECT_EQ(witness.stats().dropped, 3);
  collector.Restart();
  witness.Stop(30s);  // drains: the collector is up again
  auto got = collector.WaitFor(AuditWitness::kMaxPending);
  ASSERT_EQ(got.size(), AuditWitness::kMaxPending);
  EXPECT_NE(got.front().find(Line(Signed(4, key))), std::string::npos) << "the three oldest went";
  EXPECT_NE(got.back().find(Line(Signed(n, key))), std::string::npos);
}

// The server with a witness: every checkpoint it signs leaves the host, starting with the head it
// starts from, and a trail rewritten on the host together with its checkpoint file (by someone
// holding the signing key) still fails verification against what the collector kept.
class AuditWitnessServiceTest : public testing::ServiceTest {
 protected:
  void Configure(Config& config) override {
    config.data_dir = dir_.string();
    config.audit_checkpoint_records = 1'000'000;  // this test decides when to sign
    config.audit_witness = collector_.address();
  }
  Collector collector_;  // before the services: it listens when they start

  // After a change of the signing key to `public_key` (the services stopped): the collector
  // heard the hand-over once in `got`, and its copy, with the checkpoint file, verifies from the
  // first key alone. Closes the store.
  void ExpectTheWitnessChecksTheChange(const std::vector<std::string>& got, const std::string& public_key) {
    std::size_t handovers = 0;
    for (const auto& m : got) handovers += m.find(" next-key=" + public_key) != std::string::npos;
    EXPECT_EQ(handovers, 1u);
    const std::string witness_file = (dir_ / "collector.log").string();
    std::ofstream(witness_file) << collector_.AsFile();
    const AuditFiles files = AuditFiles::For(config_);
    const std::string first_key = ReadPublicKeyFile(files.public_key).value();
    services_.reset();
    store_->Close();
    store_.reset();
    auto verified = VerifyAuditFiles((dir_ / "rounds.db").string(), files.checkpoints, first_key, "", witness_file);
    ASSERT_TRUE(verified);
    EXPECT_TRUE(verified->ok) << verified->problem;
    EXPECT_EQ(verified->key_changes, 1) << "the copy repeats the file's change";
  }
};

TEST_F(AuditWitnessServiceTest, EveryCheckpointLeavesTheHostAndAnchorsTheTrailThere) {
  ASSERT_TRUE(services_->audit.Start());
  auto got = collector_.WaitFor(1);
  ASSERT_GE(got.size(), 1u) << "the head the server starts from";
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5; ++i) {
      clock_.Advance(1'000);
      ASSERT_TRUE(AuditNow(*store_, AuditEntry(Actor::System(), "message.read", "message", std::to_string(i),
                                               clock_.NowMillis())));
    }
    ASSERT_TRUE(services_->audit.CheckpointNow());
  }
  auto head = store_->Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); });
  ASSERT_TRUE(head && *head);
  services_->audit.Stop();
  const AuditFiles files = AuditFiles::For(config_);
  auto local = ReadCheckpoints(files.checkpoints);
  ASSERT_TRUE(local);
  got = collector_.WaitFor(local->size());
  // What the collector holds is the checkpoint file, line for line.
  std::vector<std::string> witnessed;
  for (const auto& m : got) {
    const std::size_t at = m.find(kWitnessMarker);
    ASSERT_NE(at, std::string::npos) << m;
    EXPECT_NE(m.find(" checkpoint - "), std::string::npos) << m;
    witnessed.push_back(m.substr(at + kWitnessMarker.size()));
  }
  std::vector<std::string> lines;
  for (const auto& c : *local) lines.push_back(c.ToLine());
  EXPECT_EQ(witnessed, lines);
  EXPECT_EQ(local->back().seq, (*head)->seq);
  ASSERT_GT(local->back().seq, 5);
  const std::string witness_file = (dir_ / "collector.log").string();
  std::ofstream(witness_file) << collector_.AsFile();

  auto key = LoadOrCreateSigningKey(files);
  ASSERT_TRUE(key);
  auto public_key = ReadPublicKeyFile(files.public_key);
  ASSERT_TRUE(public_key);
  services_.reset();
  store_->Close();
  store_.reset();
  const std::string database = (dir_ / "rounds.db").string();
  auto intact = VerifyAuditFiles(database, files.checkpoints, *public_key, "", witness_file);
  ASSERT_TRUE(intact);
  EXPECT_TRUE(intact->ok) << intact->problem;

  // Someone with the host: the last five records go, and the checkpoint file is written again,
  // signed with the key beside it, to end where the trail now ends.
  const std::int64_t kept = local->back().seq - 5;
  {
    auto opened = store::OpenSqliteStore({.path = database, .read_connections = 1});
    ASSERT_TRUE(opened);
    auto records = (*opened)->Read([](store::ReadTx& tx) { return tx.ListAudit(0, 1'000); });
    ASSERT_TRUE(records);
    (*opened)->Close();
    std::string hash = (*records)[static_cast<std::size_t>(kept - 1)].hash;
    std::ofstream(files.checkpoints, std::ios::trunc)
        << governance::audit::SignCheckpoint(kept, hash, clock_.NowMillis(), *key).ToLine() << "\n";
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(database.c_str(), &db), SQLITE_OK);
    // The records, their search indexes and the indexes' mark: nothing on the host disagrees.
    const std::string after = std::to_string(kept);
    for (const std::string& statement :
         {std::string("DROP TRIGGER IF EXISTS audit_log_no_delete"), "DELETE FROM audit_log WHERE seq > " + after,
          "DELETE FROM audit_index_actor WHERE seq > " + after, "DELETE FROM audit_index_object WHERE seq > " + after,
          "DELETE FROM audit_index_patient WHERE seq > " + after,
          "UPDATE audit_index_state SET indexed_seq = min(indexed_seq, " + after + ")"}) {
      ASSERT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << statement;
    }
    sqlite3_close(db);
  }
  auto on_host = VerifyAuditFiles(database, files.checkpoints, *public_key);
  ASSERT_TRUE(on_host);
  EXPECT_TRUE(on_host->ok) << "the host alone cannot tell: " << on_host->problem;
  auto against_witness = VerifyAuditFiles(database, files.checkpoints, *public_key, "", witness_file);
  ASSERT_TRUE(against_witness);
  EXPECT_FALSE(against_witness->ok);
  EXPECT_NE(against_witness->problem.find("records were removed"), std::string::npos) << against_witness->problem;

  // Nor does a new key help: the witnessed checkpoints are not signed by it.
  const auto other = governance::audit::SigningKey::Generate();
  auto new_key = VerifyAuditFiles(database, files.checkpoints, other.public_key_hex, "", witness_file);
  ASSERT_TRUE(new_key);
  EXPECT_FALSE(new_key->ok);
}

// After a change of the signing key the witness is told the hand-over before what the new key
// signs, so its copy is checked with the first key alone, as the checkpoint file is.
TEST_F(AuditWitnessServiceTest, TheWitnessIsToldOfAChangeOfTheSigningKey) {
  ASSERT_TRUE(services_->audit.Start());
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(1'000);
    ASSERT_TRUE(AuditNow(*store_, AuditEntry(Actor::System(), "message.read", "message", std::to_string(i),
                                             clock_.NowMillis())));
  }
  ASSERT_TRUE(services_->audit.CheckpointNow());
  services_->audit.Stop();
  services_.reset();
  const AuditFiles files = AuditFiles::For(config_);
  auto changed = ChangeSigningKey(files, clock_.NowMillis());
  ASSERT_TRUE(changed) << changed.error().public_message;
  clock_.Advance(1'000);
  ASSERT_TRUE(AuditNow(*store_, AuditEntry(Actor::System(), "audit.key_changed", "audit_log", "", clock_.NowMillis())));
  services_ = std::make_unique<Services>(*store_, bus_, clock_, config_);
  ASSERT_TRUE(services_->audit.Start());  // signs the record of the change with the new key
  services_->audit.Stop();
  auto local = ReadCheckpoints(files.checkpoints);
  ASSERT_TRUE(local);
  // Each line once: the second start tells the hand-over and the line after it, and signs the record.
  auto got = collector_.WaitFor(local->size());
  ExpectTheWitnessChecksTheChange(got, changed->public_key);
}

// A key changed while the server runs is told to the witness as it happens: the hand-over, then
// the head the new key signed, so the collector's copy checks with the first key alone.
TEST_F(AuditWitnessServiceTest, TheWitnessIsToldOfAKeyChangedWhileTheServerRuns) {
  ASSERT_TRUE(services_->audit.Start());
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(1'000);
    ASSERT_TRUE(AuditNow(*store_, AuditEntry(Actor::System(), "message.read", "message", std::to_string(i),
                                             clock_.NowMillis())));
  }
  auto changed = services_->audit.ChangeKey(Actor::System(), services_->auth, Confirmation{}, "");
  ASSERT_TRUE(changed) << changed.error().public_message;
  clock_.Advance(1'000);
  ASSERT_TRUE(AuditNow(*store_, AuditEntry(Actor::System(), "message.read", "message", "after", clock_.NowMillis())));
  ASSERT_TRUE(services_->audit.CheckpointNow());
  services_->audit.Stop();
  const AuditFiles files = AuditFiles::For(config_);
  auto local = ReadCheckpoints(files.checkpoints);
  ASSERT_TRUE(local);
  ExpectTheWitnessChecksTheChange(collector_.WaitFor(local->size()), changed->public_key);
}

// The audit feed: every record of the trail, as a FHIR AuditEvent, after the checkpoints.
class AuditFeedTest : public AuditWitnessServiceTest {
 protected:
  void Configure(Config& config) override {
    AuditWitnessServiceTest::Configure(config);
    config.audit_feed = true;
  }
  // The records the collector received through the feed, by seq, in the order they came.
  std::vector<std::int64_t> FedSeqs() {
    std::vector<std::int64_t> seqs;
    for (const auto& m : collector_.messages()) {
      const std::size_t at = m.find(kFeedMarker);
      if (at == std::string::npos) continue;
      EXPECT_NE(m.find(" rounds " + std::to_string(::getpid()) + " audit - "), std::string::npos) << m;
      const auto event = nlohmann::json::parse(m.substr(at + kFeedMarker.size()));
      EXPECT_EQ(event["resourceType"], "AuditEvent");
      seqs.push_back(std::stoll(event["id"].get<std::string>()));
    }
    return seqs;
  }
  std::vector<std::int64_t> WaitForFed(std::size_t n) {
    for (int i = 0; i < 500; ++i) {
      auto seqs = FedSeqs();
      if (seqs.size() >= n) return seqs;
      std::this_thread::sleep_for(10ms);
    }
    return FedSeqs();
  }
  void Record(const std::string& action, int count) {
    for (int i = 0; i < count; ++i) {
      clock_.Advance(1'000);
      ASSERT_TRUE(AuditNow(*store_, AuditEntry(Actor::System(), action, "message", std::to_string(i), clock_.NowMillis())));
    }
  }
  std::int64_t Head() {
    auto head = store_->Read([](store::ReadTx& tx) { return tx.LastAuditRecord(); });
    return head && *head ? (**head).seq : 0;
  }
  std::string Cursor() {
    std::ifstream in(AuditFiles::For(config_).feed_cursor);
    std::string text;
    std::getline(in, text);
    return text;
  }
};

TEST_F(AuditFeedTest, SendsEveryRecordOnceInOrderAndGoesOnFromItsCursorAfterARestart) {
  Record("message.read", 2);  // before the feed: its history is the export's, not the feed's
  const std::int64_t start = Head();
  ASSERT_TRUE(services_->audit.Start());
  // Set as the service starts, before the server takes a request: a record written the moment
  // after is fed.
  ASSERT_EQ(Cursor(), std::to_string(start)) << "the feed starts at the trail's head";
  Record("message.read", 5);
  std::vector<std::int64_t> expected;
  for (std::int64_t seq = start + 1; seq <= Head(); ++seq) expected.push_back(seq);
  EXPECT_EQ(WaitForFed(expected.size()), expected);
  auto state = services_->audit.WitnessState();
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->feeding);
  EXPECT_EQ(state->feed_sent, static_cast<std::int64_t>(expected.size()));
  services_->audit.Stop();
  EXPECT_EQ(Cursor(), std::to_string(expected.back()));

  // While the server is down the trail grows and the collector restarts; the next server sends
  // what it has not, and nothing twice.
  Record("message.search", 3);
  collector_.Shutdown();
  collector_.Restart();
  const std::size_t before = FedSeqs().size();
  for (std::int64_t seq = expected.back() + 1; seq <= Head(); ++seq) expected.push_back(seq);
  AuditService again(*store_, clock_, config_);
  ASSERT_TRUE(again.Start());
  auto fed = WaitForFed(before + 3);
  ASSERT_EQ(fed.size(), expected.size());
  EXPECT_EQ(fed, expected);
  again.Stop();
  EXPECT_EQ(Cursor(), std::to_string(expected.back()));
}

TEST_F(AuditFeedTest, ACursorFileThatIsNotARecordNumberStopsTheStart) {
  std::filesystem::create_directories(std::filesystem::path(AuditFiles::For(config_).feed_cursor).parent_path());
  std::ofstream(AuditFiles::For(config_).feed_cursor) << "forty-two\n";
  auto started = services_->audit.Start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().problem, "bad_feed_cursor");
  EXPECT_NE(started.error().public_message.find("feed.cursor"), std::string::npos);
}

TEST_F(AuditFeedTest, ACursorPastTheTrailsEndGoesOnFromTheHead) {
  std::filesystem::create_directories(std::filesystem::path(AuditFiles::For(config_).feed_cursor).parent_path());
  std::ofstream(AuditFiles::For(config_).feed_cursor) << "5000\n";  // a database restored from a copy
  ASSERT_TRUE(services_->audit.Start());
  // Records 1, 2, ... are new on this trail: the feed does not wait for the trail to reach 5000.
  std::vector<std::int64_t> fed;
  for (int i = 0; i < 100 && fed.empty(); ++i) {
    Record("message.read", 1);
    std::this_thread::sleep_for(50ms);
    fed = FedSeqs();
  }
  ASSERT_FALSE(fed.empty());
  EXPECT_LE(fed.back(), Head());
  services_->audit.Stop();
  fed = FedSeqs();
  EXPECT_EQ(Cursor(), std::to_string(fed.back()));
}

}  // namespace
}  // namespace rounds::app
