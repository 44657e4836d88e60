// rounds-bare-broadcaster: the fan-out ceiling. A WebSocket server with no storage, no auth and
// no protocol: every frame a client sends goes verbatim to every client connected to the same
// request path (its room), the sender included. What a chat server could deliver on this machine
// if persistence, authorization and governance cost nothing; the load generator drives it with
// its "bare" adapter, all clients on one path for group fan-out and each pair on a path of its
// own for 1:1 messages.
//
//   rounds-bare-broadcaster [--port P] [--address A] [--threads 1|2] [--queue-limit N]
//                           [--durable DIR]
//
// With --durable, every frame is first made durable the way a server that acknowledges only
// after a durable commit must: frames wait in one queue, a journal thread writes all that are
// waiting into a file in DIR and syncs it (fdatasync: group commit), and only then are they
// delivered, the sender's own copy (its acknowledgement) included. The file is a ring written
// over in place, as SQLite's log is in steady state. That is the durable ceiling: what this
// machine's disk adds to the bare figures, with nothing else of a server's work.
//
// Built the way Rounds' own sockets are: one io_context run by 1 or 2 threads, a strand per
// session, a frame read once into a shared buffer that every recipient's queue points to, the
// recipients snapshotted under the room's lock and delivered to outside it, one writer coroutine
// and one bounded queue per socket (a socket more than N frames behind is closed, as Rounds
// closes it with 4008). On SIGINT/SIGTERM it closes every socket and prints what it did as a
// human line and a JSON line.
#include <utility>  // before Asio: g++ 12 needs std::exchange declared

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

// The project compiles Asio and Beast separately (BOOST_*_SEPARATE_COMPILATION); this program
// carries its own copy so that it needs none of Rounds' libraries.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>

#include <nlohmann/json.hpp>

#include "bare_server.hpp"
#include "ceiling_util.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
using rounds::bench::Round3;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxFrameBytes = 1 << 20;

constexpr char kUsage[] =
    "usage: rounds-bare-broadcaster [--port P] [--address A] [--threads 1|2] [--queue-limit N] [--durable DIR]\n"
    "  listens on A:P (default 127.0.0.1:9300); every frame a client sends is sent to every client\n"
    "  connected to the same request path, the sender included. A socket more than N frames\n"
    "  (default 1024) behind is closed. --durable DIR: each frame is written to a file in DIR and\n"
    "  synced (group commit) before it is sent. SIGINT/SIGTERM stops it and prints counters.\n";

struct Counters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> frames_in{0};
  std::atomic<std::uint64_t> frames_out{0};
  std::atomic<std::uint64_t> dropped_slow{0};
  std::atomic<std::uint64_t> syncs{0};
};

// A frame as it arrived, shared by every recipient's queue.
struct Frame {
  std::string payload;
  bool text = true;
};

class Session;
using Recipients = std::vector<std::weak_ptr<Session>>;

// Who is connected to one request path. Thread-safe. The recipient list is copied on join and
// leave, not on every frame, so a broadcast takes the lock only to pick up the current copy.
class Room {
 public:
  void Add(const std::shared_ptr<Session>& session) {
    std::lock_guard lock(mutex_);
    sessions_[session.get()] = session;
    Rebuild();
  }

  void Remove(const Session* session) {
    std::lock_guard lock(mutex_);
    sessions_.erase(session);
    Rebuild();
  }

  std::shared_ptr<const Recipients> Snapshot() const {
    std::lock_guard lock(mutex_);
    return snapshot_;
  }

 private:
  void Rebuild() {
    auto recipients = std::make_shared<Recipients>();
    recipients->reserve(sessions_.size());
    for (const auto& [raw, weak] : sessions_) recipients->push_back(weak);
    snapshot_ = std::move(recipients);
  }

  mutable std::mutex mutex_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;  // guarded by mutex_
  std::shared_ptr<const Recipients> snapshot_ = std::make_shared<Recipients>();  // guarded by mutex_
};

// The rooms by request path. Thread-safe. A session holds its room, so a frame costs no lookup
// here; rooms live as long as the server.
class Hub {
 public:
  std::shared_ptr<Room> Join(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto& room = rooms_[path];
    if (!room) room = std::make_shared<Room>();
    return room;
  }

  // Every session of every room, for shutdown.
  Recipients Everyone() const {
    std::lock_guard lock(mutex_);
    Recipients all;
    for (const auto& [path, room] : rooms_) {
      const auto snapshot = room->Snapshot();
      all.insert(all.end(), snapshot->begin(), snapshot->end());
    }
    return all;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Room>> rooms_;  // guarded by mutex_
};

// Sends `frame` to everyone in `room` (defined after Session).
void Broadcast(const Room& room, const std::shared_ptr<const Frame>& frame);

// --durable: frames are synced to a file before they are delivered. Submit() may be called from
// any thread; one thread of its own writes and syncs whatever is waiting, then delivers it.
class Journal {
 public:
  Journal(const std::string& dir, Counters& counters) : counters_(counters) {
    path_ = dir + "/rounds-bare-journal." + std::to_string(::getpid());
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot create " + path_ + ": " + std::strerror(errno));
    // The ring is written and synced once, so that a sync flushes data, not the file's growth.
    const std::string zeros(1 << 20, '\0');
    for (off_t at = 0; at < kRingBytes; at += static_cast<off_t>(zeros.size())) Write(zeros, at);
    if (::fdatasync(fd_) != 0) throw std::runtime_error("fdatasync: " + std::string(std::strerror(errno)));
    thread_ = std::thread([this] { Run(); });
  }
  ~Journal() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }

  void Submit(std::shared_ptr<Room> room, std::shared_ptr<const Frame> frame) {
    {
      std::lock_guard lock(mutex_);
      waiting_.push_back({std::move(room), std::move(frame)});
    }
    wake_.notify_one();
  }

 private:
  struct Entry {
    std::shared_ptr<Room> room;
    std::shared_ptr<const Frame> frame;
  };
  static constexpr off_t kRingBytes = 16 << 20;  // as rounds-ceiling-fsync's overwrite pattern

  void Write(const std::string& bytes, off_t at) {
    if (!rounds::bench::PwriteAll(fd_, bytes.data(), bytes.size(), at)) {
      throw std::runtime_error("pwrite: " + std::string(std::strerror(errno)));
    }
  }

  // A frame that cannot be made durable must not be sent: the program stops with the reason.
  void Run() {
    try {
      Loop();
    } catch (const std::exception& e) {
      std::cerr << "rounds-bare-broadcaster: " << e.what() << std::endl;
      std::_Exit(1);
    }
  }

  void Loop() {
    std::vector<Entry> batch;
    std::string bytes;
    off_t offset = 0;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
        if (waiting_.empty()) return;  // stopping, nothing left
        batch.swap(waiting_);
      }
      // Each frame with its length, padded to whole 4 KiB pages as a database's log is.
      bytes.clear();
      for (const Entry& entry : batch) {
        const auto size = static_cast<std::uint32_t>(entry.frame->payload.size());
        bytes.append(reinterpret_cast<const char*>(&size), sizeof size);
        bytes += entry.frame->payload;
      }
      bytes.resize((bytes.size() + 4095) / 4096 * 4096, '\0');
      if (offset + static_cast<off_t>(bytes.size()) > kRingBytes) offset = 0;
      Write(bytes, offset);
      offset += static_cast<off_t>(bytes.size());
      if (::fdatasync(fd_) != 0) throw std::runtime_error("fdatasync: " + std::string(std::strerror(errno)));
      counters_.syncs.fetch_add(1, std::memory_order_relaxed);
      for (const Entry& entry : batch) Broadcast(*entry.room, entry.frame);
      batch.clear();
    }
  }

  Counters& counters_;
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Entry> waiting_;  // guarded by mutex_
  bool stopping_ = false;       // guarded by mutex_
  std::thread thread_;
};

// One WebSocket. Deliver() and Close() may be called from any thread; everything else runs on the
// session's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `journal` is null unless frames must be durable before they are sent.
  Session(tcp::socket socket, Hub& hub, Journal* journal, Counters& counters, std::size_t queue_limit)
      : ws_(std::move(socket)), wake_(ws_.get_executor()), hub_(hub), journal_(journal), counters_(counters),
        queue_limit_(queue_limit) {}

  asio::any_io_executor executor() { return ws_.get_executor(); }

  // `self` keeps the session alive until the socket is done.
  awaitable<void> Run(std::shared_ptr<Session> self) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(kMaxFrameBytes);
    // The upgrade request is read first for its path, which names the room.
    beast::flat_buffer buffer;
    http::request<http::empty_body> request;
    if (auto [read_error, read] = co_await http::async_read(ws_.next_layer(), buffer, request, kTuple); read_error) {
      co_return;
    }
    if (auto [ec] = co_await ws_.async_accept(request, kTuple); ec) co_return;
    counters_.connections.fetch_add(1, std::memory_order_relaxed);
    room_ = hub_.Join(std::string(request.target()));
    room_->Add(self);
    asio::co_spawn(ws_.get_executor(), Writer(self), asio::detached);
    co_await Reader();
    room_->Remove(this);
    closing_ = true;
    wake_.cancel();
  }

  // Never blocks: counts the frame against the bound and posts it to the strand.
  void Deliver(const std::shared_ptr<const Frame>& frame) {
    if (pending_.fetch_add(1, std::memory_order_relaxed) >= queue_limit_) {
      pending_.fetch_sub(1, std::memory_order_relaxed);
      asio::post(ws_.get_executor(), [self = shared_from_this()] { self->BeginClose(/*slow=*/true); });
      return;
    }
    asio::post(ws_.get_executor(), [self = shared_from_this(), frame] {
      self->pending_.fetch_sub(1, std::memory_order_relaxed);
      self->Push(frame);
    });
  }

  void Close() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->BeginClose(/*slow=*/false); });
  }

 private:
  awaitable<void> Reader() {
    beast::flat_buffer buffer;
    while (true) {
      auto [ec, bytes] = co_await ws_.async_read(buffer, kTuple);
      if (ec) co_return;
      auto frame = std::make_shared<const Frame>(Frame{beast::buffers_to_string(buffer.data()), ws_.got_text()});
      buffer.consume(bytes);
      counters_.frames_in.fetch_add(1, std::memory_order_relaxed);
      if (journal_ != nullptr) {
        journal_->Submit(room_, std::move(frame));
      } else {
        Broadcast(*room_, frame);
      }
    }
  }

  void Push(const std::shared_ptr<const Frame>& frame) {
    if (closing_) return;
    if (queue_.size() >= queue_limit_) {
      BeginClose(/*slow=*/true);
      return;
    }
    queue_.push_back(frame);
    wake_.cancel();
  }

  void BeginClose(bool slow) {
    if (closing_) return;
    closing_ = true;
    if (slow) counters_.dropped_slow.fetch_add(1, std::memory_order_relaxed);
    queue_.clear();
    wake_.cancel();
  }

  // `self` keeps the session alive while the coroutine runs.
  awaitable<void> Writer([[maybe_unused]] std::shared_ptr<Session> self) {
    while (true) {
      while (queue_.empty() && !closing_) {
        wake_.expires_at(asio::steady_timer::time_point::max());
        co_await wake_.async_wait(kTuple);
      }
      if (queue_.empty()) break;  // closing, and everything queued has gone out
      std::shared_ptr<const Frame> frame = std::move(queue_.front());
      queue_.pop_front();
      ws_.text(frame->text);
      auto [ec, bytes] = co_await ws_.async_write(asio::buffer(frame->payload), kTuple);
      if (ec) {
        closing_ = true;
        co_return;
      }
      counters_.frames_out.fetch_add(1, std::memory_order_relaxed);
    }
    // The reader is still waiting on the socket: close it so the reader ends too. A peer that
    // never answers the close frame is cut off by the stream's own close timeout.
    auto [ec] = co_await ws_.async_close(websocket::close_code::going_away, kTuple);
    (void)ec;
  }

  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer wake_;
  Hub& hub_;
  Journal* const journal_;
  std::shared_ptr<Room> room_;  // set once, before the reader and writer start
  Counters& counters_;
  const std::size_t queue_limit_;
  std::atomic<std::size_t> pending_{0};
  std::deque<std::shared_ptr<const Frame>> queue_;  // on the strand
  bool closing_ = false;                            // on the strand
};

void Broadcast(const Room& room, const std::shared_ptr<const Frame>& frame) {
  for (const auto& weak : *room.Snapshot()) {
    if (auto recipient = weak.lock()) recipient->Deliver(frame);
  }
}

}  // namespace

int main(int argc, char** argv) {
  rounds::bench::Flags flags(argc, argv, {"--port", "--address", "--threads", "--queue-limit", "--durable"}, kUsage);
  auto port = static_cast<unsigned short>(flags.Number("--port", 9300));
  std::string address = flags.Text("--address", "127.0.0.1");
  int threads = static_cast<int>(flags.Number("--threads", 1));
  auto queue_limit = static_cast<std::size_t>(flags.Number("--queue-limit", 1024));
  if (threads < 1 || threads > 2 || queue_limit == 0) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  const std::string durable_dir = flags.Text("--durable", "");

  asio::io_context ioc(threads);
  Hub hub;
  Counters counters;
  std::unique_ptr<Journal> journal;
  if (!durable_dir.empty()) {
    try {
      journal = std::make_unique<Journal>(durable_dir, counters);
    } catch (const std::exception& e) {
      std::cerr << "rounds-bare-broadcaster: " << e.what() << "\n";
      return 1;
    }
  }
  tcp::acceptor acceptor(ioc);
  if (int failed = rounds::bench::Listen(acceptor, address, port, "rounds-bare-broadcaster")) return failed;
  asio::co_spawn(ioc, rounds::bench::AcceptLoop(acceptor, [&](tcp::socket socket) {
    auto session = std::make_shared<Session>(std::move(socket), hub, journal.get(), counters, queue_limit);
    asio::co_spawn(session->executor(), session->Run(session), [](const std::exception_ptr& error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        std::cerr << "rounds-bare-broadcaster: session ended: " << e.what() << "\n";
      }
    });
  }), asio::detached);

  // Shutdown: stop accepting, ask every socket to close, then stop whatever is left after 2 s.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer force(ioc);
  signals.async_wait([&](const boost::system::error_code& error, int) {
    if (error) return;
    acceptor.close();
    for (const auto& weak : hub.Everyone()) {
      if (auto session = weak.lock()) session->Close();
    }
    force.expires_after(std::chrono::seconds(2));
    force.async_wait([&](const boost::system::error_code&) { ioc.stop(); });
  });

  std::printf("rounds-bare-broadcaster listening on ws://%s:%u/ROOM (threads=%d, queue limit=%zu%s)\n", address.c_str(),
              acceptor.local_endpoint().port(), threads, queue_limit, journal ? ", durable" : "");
  std::fflush(stdout);
  double start = rounds::bench::NowSeconds();
  rounds::bench::RunThreads(ioc, threads);
  double seconds = rounds::bench::NowSeconds() - start;

  std::uint64_t frames_out = counters.frames_out.load();
  std::printf(
      "bare broadcaster: %llu connections, %llu frames in, %llu frames out (%.0f/s over %.1f s), %llu slow sockets "
      "closed, %llu syncs\n",
      static_cast<unsigned long long>(counters.connections.load()),
      static_cast<unsigned long long>(counters.frames_in.load()), static_cast<unsigned long long>(frames_out),
      static_cast<double>(frames_out) / seconds, seconds,
      static_cast<unsigned long long>(counters.dropped_slow.load()),
      static_cast<unsigned long long>(counters.syncs.load()));
  nlohmann::json line = {{"ceiling", "bare-broadcaster"},
                         {"threads", threads},
                         {"durable", journal != nullptr},
                         {"queue_limit", queue_limit},
                         {"seconds", Round3(seconds)},
                         {"connections", counters.connections.load()},
                         {"frames_in", counters.frames_in.load()},
                         {"frames_out", frames_out},
                         {"dropped_slow", counters.dropped_slow.load()},
                         {"syncs", counters.syncs.load()}};
  std::cout << line.dump() << std::endl;
  return 0;
}
