// The audit trail's witness off the host. The checkpoint file anchors the chain outside the
// database, but on the same host: whoever controls the host can rewrite the database, the file
// and, with the key beside them, the signatures. Each checkpoint the server signs is therefore
// also sent, as it is written, to a collector elsewhere (config.audit_witness, "host:port"): an
// RFC 5424 syslog message over TCP with RFC 6587 octet counting, which rsyslog, syslog-ng and
// every log pipeline take, and which IT keeps on storage this host cannot rewrite. The message's
// text is the checkpoint's line after a marker ("rounds-audit-checkpoint 41 9f2c... <signature>"),
// so `rounds audit verify --witness FILE` finds it in whatever the collector wrote. A trail that
// no longer continues its last checkpoint is reported to the same collector at once, as an alert.
//
// Over a network the collector is reached with TLS (RFC 5425, syslog over TLS; WitnessTls): its
// certificate is verified against a CA and the name it was reached by, and this server can present
// a certificate of its own, as IHE ATNA's secure node does. A checkpoint names no patient, but the
// alerts and the rhythm of the trail are the security team's, and the transport must not be the
// place an attacker learns or bends them.
//
// Sending never holds up the server: messages wait in a bounded queue for one thread that
// connects, sends, and on any failure reconnects with a growing pause (1 s to 60 s). A checkpoint
// vouches for every record before it, so when the queue is full the oldest is dropped: the newest
// anchors the most. What could not be sent is logged (audit_witness_unreachable, once an outage)
// and counted for the metrics.
//
// Thread safety: every method is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "core/tls.hpp"
#include "governance/audit/audit_chain.hpp"

namespace rounds::app {

// What precedes a checkpoint's line in a witness message.
inline constexpr std::string_view kWitnessMarker = "rounds-audit-checkpoint ";

// One RFC 5424 message framed for TCP (RFC 6587 octet counting: "<length> <message>"), from the
// authpriv facility: <PRI>1 TIMESTAMP HOSTNAME rounds PROCID MSGID - MSG. `severity` is syslog's
// (1 alert, 5 notice); `host` and `msgid` are printable ASCII without spaces.
std::string SyslogFrame(int severity, UnixMillis time, std::string_view host, std::string_view msgid,
                        std::string_view message);

// The checkpoints a collector kept, handed to `each` a line at a time (the file is never held
// whole): every line of the file at `path` that holds kWitnessMarker, parsed from what follows it
// to the line's end; other lines are skipped. A marked line that is not a checkpoint is
// kInvalidArgument naming its line number; kNotFound when the file does not exist.
Status ForEachWitnessedCheckpoint(const std::string& path,
                                  const std::function<void(const governance::audit::Checkpoint&)>& each);

// How the witness reaches its collector over TLS (config.audit_witness_tls and its files).
struct WitnessTls {
  bool enabled = false;
  net::TlsClientOptions files;  // the CA file (empty: the system's store); this server's certificate
  std::string peer_name;        // the name the collector's certificate carries; empty: the address's host
};

class AuditWitness {
 public:
  // `address`: "host:port" of the collector (or a Unix socket path); `host`: this server's name
  // as the messages give it.
  AuditWitness(std::string address, std::string host, WitnessTls tls = {});
  ~AuditWitness();  // Stop(0)
  AuditWitness(const AuditWitness&) = delete;
  AuditWitness& operator=(const AuditWitness&) = delete;

  // Starts the sending thread. With TLS, first reads the CA, certificate and key: a file that
  // cannot be used, or TLS to a Unix socket without a peer name, is kInvalidArgument
  // ("bad_tls_config") and nothing starts. The collector need not be up.
  Status Start();
  // Queues a signed checkpoint (notice, MSGID "checkpoint").
  void Witness(const governance::audit::Checkpoint& checkpoint, UnixMillis now);
  // Queues an alert that the trail no longer continues what was signed (MSGID "anchor_mismatch").
  void Alarm(std::string_view problem, UnixMillis now);
  // Sends what is queued for up to `drain`, then closes the connection and stops the thread.
  void Stop(std::chrono::milliseconds drain);

  struct Stats {
    std::int64_t sent = 0;     // messages the collector's connection took
    std::int64_t dropped = 0;  // messages dropped from a full queue
    std::int64_t pending = 0;  // messages waiting
    bool connected = false;
  };
  Stats stats() const;

  // At most this many messages wait; beyond it the oldest goes.
  static constexpr std::size_t kMaxPending = 10'000;

 private:
  void Enqueue(std::string frame);
  void Run();

  const std::string address_;
  const std::string host_;
  const WitnessTls tls_;
  std::shared_ptr<const net::TlsClientContext> tls_context_;  // set by Start when tls_.enabled
  std::string peer_name_;
  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  Stats stats_;  // but `pending`, which is queue_'s size
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_until_{};
  std::thread thread_;
};

}  // namespace rounds::app
