#include "app/audit_witness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <optional>
#include <utility>

#include "core/log.hpp"
#include "core/socket.hpp"
#include "core/thread_name.hpp"

namespace rounds::app {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr int kAuthpriv = 10;  // syslog facility: security and authorization messages
constexpr auto kSendTimeout = seconds(5);
constexpr auto kFirstPause = seconds(1);
constexpr auto kLongestPause = seconds(60);
constexpr auto kCloseWait = seconds(1);

// A header field of RFC 5424: printable ASCII, no spaces, "-" when empty.
std::string HeaderField(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c > 32 && c < 127) ? c : '_';
  return out.empty() ? "-" : out;
}

// Whether the collector closed the connection (or it broke) since the last message: checked
// before each send, so that a restarted collector is reconnected to instead of written into a
// connection only the kernel still holds.
bool PeerGone(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLERR | POLLHUP | POLLRDHUP)) return true;
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

// The feed's cursor: the seq in the file; nullopt when there is no file yet.
Result<std::optional<std::int64_t>> ReadCursor(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    return Fail(ErrorCode::kInternal, "bad_feed_cursor", "Cannot read the audit feed's cursor file " + path + ".");
  }
  std::string text;
  std::getline(in, text);
  std::int64_t seq = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (error != std::errc() || end != text.data() + text.size() || seq < 0) {
    return InvalidArgument("bad_feed_cursor", "The audit feed's cursor file " + path +
                                                  " does not hold a record number. Remove it to start the feed at "
                                                  "the trail's head.");
  }
  return seq;
}

// Writes "<seq>\n" to `path` whole or not at all: a new file, synced, then renamed over it.
Status WriteCursor(const std::string& path, std::int64_t seq) {
  const std::string partial = path + ".partial";
  const std::string text = std::to_string(seq) + "\n";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("open " + partial + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!written || ::rename(partial.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(written ? errno : saved);
    ::unlink(partial.c_str());
    return Internal("write " + path + ": " + why);
  }
  return Ok();
}

}  // namespace

std::string SyslogFrame(int severity, UnixMillis time, std::string_view host, std::string_view msgid,
                        std::string_view message) {
  std::string text = "<" + std::to_string(kAuthpriv * 8 + std::clamp(severity, 0, 7)) + ">1 " +
                     FormatIso8601(time) + " " + HeaderField(host, 255) + " rounds " +
                     std::to_string(::getpid()) + " " + HeaderField(msgid, 32) + " - ";
  // One line: a line break in the text would end it early in collectors that write lines.
  for (char c : message) text += (c == '\n' || c == '\r') ? ' ' : c;
  return std::to_string(text.size()) + " " + text;
}

Status ForEachWitnessedCheckpoint(const std::string& path,
                                  const std::function<void(const governance::audit::Checkpoint&)>& each) {
  std::ifstream in(path);
  if (!in) return NotFound("Witness file " + path);
  std::string line;
  for (std::int64_t number = 1; std::getline(in, line); ++number) {
    const std::size_t at = line.find(kWitnessMarker);
    if (at == std::string::npos) continue;
    auto checkpoint = governance::audit::Checkpoint::FromLine(line.substr(at + kWitnessMarker.size()));
    if (!checkpoint) {
      return InvalidArgument("bad_witness_line", "Line " + std::to_string(number) + " of " + path +
                                                     " holds a witnessed checkpoint that does not parse.");
    }
    each(*checkpoint);
  }
  if (in.bad()) return Fail(ErrorCode::kInternal, "witness_unreadable", "Cannot read " + path + ".");
  return Ok();
}

AuditWitness::AuditWitness(std::string address, std::string host, WitnessTls tls)
    : address_(std::move(address)), host_(std::move(host)), tls_(std::move(tls)) {}

AuditWitness::~AuditWitness() { Stop(milliseconds(0)); }

Status AuditWitness::Start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return Ok();
  if (tls_.enabled) {
    std::string name = tls_.peer_name;
    if (name.empty() && !address_.empty() && address_.front() != '/') {
      if (auto split = net::SplitHostPort(address_)) name = split->host;
    }
    if (name.empty()) {
      return InvalidArgument("bad_tls_config",
                             "The audit witness " + address_ + " is reached with TLS but has no name to verify: set "
                             "audit_witness_server_name.");
    }
    // Read now so that files it cannot use stop the start; read again before each connection.
    ROUNDS_RETURN_IF_ERROR(net::TlsClientContext::Create(tls_.files));
    peer_name_ = std::move(name);
  }
  if (feed_ && !feed_started_) {
    ROUNDS_ASSIGN_OR_RETURN(auto cursor, ReadCursor(feed_->cursor_file));
    if (cursor) {
      feed_started_ = true;
      stats_.feed_seq = *cursor;
    }
  }
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
  return Ok();
}

void AuditWitness::Witness(const governance::audit::Checkpoint& checkpoint, UnixMillis now) {
  Enqueue(SyslogFrame(5, now, host_, "checkpoint", std::string(kWitnessMarker) + checkpoint.ToLine()));
}

void AuditWitness::Alarm(std::string_view problem, UnixMillis now) {
  Enqueue(SyslogFrame(1, now, host_, "anchor_mismatch", "rounds-audit-alarm " + std::string(problem)));
}

void AuditWitness::Enqueue(std::string frame) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(frame));
    while (queue_.size() > kMaxPending) {
      queue_.pop_front();
      ++stats_.dropped;
    }
  }
  wake_.notify_all();
}

void AuditWitness::Stop(milliseconds drain) {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    drain_until_ = steady_clock::now() + drain;
    thread = std::move(thread_);
  }
  wake_.notify_all();
  thread.join();
  std::lock_guard lock(mutex_);
  if (!queue_.empty()) {
    log::Warn("audit_witness_unsent", {{"witness", address_}, {"messages", queue_.size()}});
  }
}

AuditWitness::Stats AuditWitness::stats() const {
  std::lock_guard lock(mutex_);
  Stats stats = stats_;
  stats.pending = static_cast<std::int64_t>(queue_.size());
  stats.feeding = feed_.has_value();
  stats.feed_behind = feed_ && feed_started_ ? std::max<std::int64_t>(0, feed_head_ - stats_.feed_seq) : 0;
  return stats;
}

void AuditWitness::SetFeed(AuditFeed feed) {
  std::lock_guard lock(mutex_);
  feed_ = std::move(feed);
}

void AuditWitness::FeedTo(std::int64_t head_seq) {
  std::unique_lock lock(mutex_);
  if (!feed_) return;
  if (feed_started_ && head_seq < stats_.feed_seq) {
    // The trail ends before the cursor: the database was restored from a copy, or the cursor
    // belongs to another one. The records from here on are new: the feed goes on from the head.
    log::Warn("audit_feed_cursor_ahead", {{"cursor", stats_.feed_seq}, {"head", head_seq}});
    stats_.feed_seq = head_seq;
    feed_head_ = head_seq;
  }
  feed_head_ = std::max(feed_head_, head_seq);
  if (!feed_started_) {
    // No cursor yet: the feed starts at the trail's head (the history is `rounds audit export`'s).
    feed_started_ = true;
    stats_.feed_seq = head_seq;
    const std::string file = feed_->cursor_file;
    lock.unlock();
    if (auto saved = WriteCursor(file, head_seq); !saved) {
      log::Error("audit_feed_cursor_unsaved", {{"file", file}, {"detail", saved.error().internal_message}});
    }
    return;
  }
  lock.unlock();
  wake_.notify_all();
}

void AuditWitness::Run() {
  NameThisThread("audit-witness");
  net::Socket socket;                  // without TLS
  std::optional<net::TlsStream> tls;  // with it (it owns its socket)
  std::deque<FeedItem> batch;          // records read for the feed, not yet sent
  std::int64_t saved_seq = stats_.feed_seq;
  auto pause = steady_clock::duration(kFirstPause);
  bool outage = false;  // logged once until a message goes through again
  std::unique_lock lock(mutex_);
  // The feed's place, kept on disk once a batch is out, and at the end.
  auto save_cursor = [&] {
    if (!feed_ || stats_.feed_seq == saved_seq) return;
    const std::int64_t seq = stats_.feed_seq;
    lock.unlock();
    auto saved = WriteCursor(feed_->cursor_file, seq);
    lock.lock();
    if (saved) {
      saved_seq = seq;
    } else {
      log::Error("audit_feed_cursor_unsaved", {{"file", feed_->cursor_file}, {"detail", saved.error().internal_message}});
    }
  };
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty() || !batch.empty() || FeedDueLocked(); });
    // A stop sends what is queued (checkpoints and alerts) until its drain ends; the feed's
    // records stay on the trail for the next start.
    if (stopping_ && (queue_.empty() || steady_clock::now() >= drain_until_)) break;
    const bool from_queue = !queue_.empty();
    if (!from_queue && batch.empty()) {
      const std::int64_t after = stats_.feed_seq;
      lock.unlock();
      auto read = feed_->read(after, kFeedBatch);
      lock.lock();
      if (!read) {
        log::Error("audit_feed_read_failed", {{"detail", read.error().internal_message}});
        wake_.wait_for(lock, kFirstPause, [this] { return stopping_; });
        continue;
      }
      if (read->empty()) {
        feed_head_ = stats_.feed_seq;  // nothing past the cursor yet: wait to be told of more
        continue;
      }
      batch.assign(std::make_move_iterator(read->begin()), std::make_move_iterator(read->end()));
    }
    // Sent from a copy, and taken off the queue only once sent, unless dropped meanwhile.
    const std::string frame = from_queue ? queue_.front()
                                         : SyslogFrame(batch.front().severity, batch.front().time, host_, "audit",
                                                       batch.front().text);
    const std::int64_t dropped_before = stats_.dropped;
    auto deadline = steady_clock::now() + kSendTimeout;
    if (stopping_) deadline = std::min(deadline, drain_until_);
    lock.unlock();
    if (socket.open() && PeerGone(socket.fd())) socket.Close();
    if (tls && tls->PeerGone()) tls.reset();
    Status sent = Ok();
    if (!socket.open() && !tls) {
      auto connected = net::Connect(address_, deadline);
      if (!connected) {
        sent = tl::unexpected(connected.error());
      } else if (!tls_.enabled) {
        socket = std::move(*connected);
      } else if (auto context = net::TlsClientContext::Create(tls_.files); !context) {
        // The files read afresh for each connection: a renewed certificate or a new revocation
        // list takes effect at the next one, and files that went bad meanwhile are an outage.
        sent = tl::unexpected(context.error());
        if (sent.error().internal_message.empty()) sent.error().internal_message = sent.error().public_message;
      } else if (auto stream = net::TlsStream::Handshake(*context, std::move(*connected), peer_name_, deadline)) {
        tls.emplace(std::move(*stream));
      } else {
        sent = tl::unexpected(stream.error());
      }
    }
    if (sent) {
      sent = tls ? tls->SendAll(frame, deadline) : net::SendAll(socket.fd(), frame.data(), frame.size(), deadline);
    }
    lock.lock();
    if (sent) {
      if (!from_queue) {
        stats_.feed_seq = batch.front().seq;
        batch.pop_front();
        ++stats_.feed_sent;
        if (batch.empty()) save_cursor();
      } else if (stats_.dropped == dropped_before && !queue_.empty()) {
        queue_.pop_front();
      }
      ++stats_.sent;
      stats_.connected = true;
      stats_.last_sent_at = std::chrono::duration_cast<milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
      pause = kFirstPause;
      if (outage) log::Info("audit_witness_reached", {{"witness", address_}, {"pending", queue_.size()}});
      outage = false;
      continue;
    }
    socket.Close();
    tls.reset();
    stats_.connected = false;
    if (!outage) {
      log::Warn("audit_witness_unreachable",
                {{"witness", address_}, {"detail", sent.error().internal_message}, {"pending", queue_.size()}});
    }
    outage = true;
    save_cursor();
    if (stopping_) {
      wake_.wait_until(lock, std::min(steady_clock::now() + pause, drain_until_));  // then the loop decides
    } else {
      wake_.wait_for(lock, pause, [this] { return stopping_; });
    }
    pause = std::min<steady_clock::duration>(pause * 2, kLongestPause);
  }
  stats_.connected = false;
  save_cursor();
  if (tls) {
    lock.unlock();
    tls->Close(steady_clock::now() + kCloseWait);  // a close_notify: the collector sees a clean end
  }
}

}  // namespace rounds::app
