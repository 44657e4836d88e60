// Protocol adapters: the one interface through which the same load-generator clients drive Rounds,
// an XMPP server (RFC 7395, XMPP over WebSocket) or the bare broadcaster.
//
// A message is identified by its marker, the whole text the load generator puts in the body:
//   lgm.<group>.<member>.<seq>.<sent_us>   (lower-case hex fields)
// The sender's member index and per-sender sequence number make every message unique; sent_us is
// the sender's steady clock in microseconds, so a receiver in the same process computes latency.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "transport.hpp"

namespace rounds::loadgen {

// Who talks to whom. Clients are users u<prefix>0..N-1; each is in at most one group. A group of
// two is a 1:1 conversation when `direct` is set, otherwise every group is a room.
struct Topology {
  int clients = 0;
  std::vector<std::vector<int>> groups;  // client indexes, in member order
  bool direct = false;
};

// What the caller learns from the stream.
struct Incoming {
  enum class Kind { kMessage, kReady, kClosed };
  Kind kind = Kind::kClosed;
  std::string marker;      // kMessage: the body
  int seq_gaps = 0;        // events the server numbered but skipped (Rounds: space seq jumped)
  int seq_repeats = 0;     // events at or below a seq already seen
  int close_code = 0;      // kClosed
  Status error;            // kClosed
};

// How a sender learns that its message was accepted.
enum class AckMode {
  kServer,  // Send() returns once the server acknowledged a durable commit
  kEcho,    // the sender's own copy coming back is the acknowledgement (MUC reflection, broadcast)
  kWrite,   // no acknowledgement in the protocol: written to the socket counts
};

// One user's connection. Every call runs on the executor the session was made with.
class Session {
 public:
  virtual ~Session() = default;
  // Opens the stream, authenticates and subscribes. With `resume`, asks for what was missed since
  // the previous connection (adapters without resume ignore it). The first Next() after a
  // successful Connect reports kReady once the session receives live traffic.
  virtual Task<Status> Connect(bool resume) = 0;
  // Sends `marker` to this client's group. Returns after the acknowledgement for kServer adapters,
  // after the write otherwise.
  virtual Task<Status> Send(std::string marker) = 0;
  virtual Task<Incoming> Next() = 0;
  // Drops the connection without a goodbye; the pending Next() returns kClosed.
  virtual void Drop() = 0;
  virtual Task<void> Close() = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual std::string Name() const = 0;
  virtual AckMode Ack() const = 0;
  virtual bool SupportsResume() const { return false; }
  // Whether the sender receives its own message back (it is then ignored, never counted).
  virtual bool EchoesToSender(const Topology& topology) const = 0;
  // Makes the users and groups exist and signs the users in. Runs before any session connects, on
  // `executor`; `log` prints progress. Returns an error description on failure.
  virtual Task<Status> Prepare(asio::any_io_executor executor, const Topology& topology,
                               std::function<void(const std::string&)> log) = 0;
  // A session for client `index`, connecting from `bind_address` (empty: the default).
  virtual std::unique_ptr<Session> NewSession(asio::any_io_executor executor, int index, std::string bind_address) = 0;
};

struct AdapterOptions {
  std::string url;
  std::string user_prefix = "u";
  std::string password = "bench-password";
  std::string admin_user = "admin";
  std::string admin_password;
  std::string domain = "bench.local";            // xmpp
  std::string muc_service = "conference.bench.local";
  std::string room = "fanout";
  int setup_concurrency = 8;
};

// Each returns null and sets `error` when the options do not suit the adapter.
std::unique_ptr<Adapter> MakeRoundsAdapter(const AdapterOptions& options, std::string& error);
std::unique_ptr<Adapter> MakeXmppAdapter(const AdapterOptions& options, std::string& error);
std::unique_ptr<Adapter> MakeBareAdapter(const AdapterOptions& options, std::string& error);

// Runs fn(0..count-1) with at most `concurrency` running at once, all on the calling coroutine's
// executor; returns the first error.
Task<Status> ForEachConcurrently(int count, int concurrency, std::function<Task<Status>(int)> fn);

}  // namespace rounds::loadgen
