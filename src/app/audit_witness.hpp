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
// With the feed on (config.audit_feed), every record of the trail goes to the same collector
// too, after the checkpoints and alerts and oldest first, as a FHIR AuditEvent: what a SIEM or
// IHE ATNA's audit record repository takes in. The records are read from the store, not queued:
// a collector that is down for a day gets the day's records when it is back, and a cursor file
// (the seq of the last record sent) lets a restarted server go on where it stopped. A record can
// be sent twice (a crash between sending and saving the cursor), never skipped; the AuditEvent's
// id is the record's seq.
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
#include <optional>
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

// One audit record for the feed, rendered by the audit service.
struct FeedItem {
  std::int64_t seq = 0;
  UnixMillis time = 0;
  int severity = 6;   // syslog's: 6 informational, 4 warning (a refusal or failure)
  std::string text;   // kFeedMarker then the record as one line of JSON
};

// What precedes a fed record's JSON in its message.
inline constexpr std::string_view kFeedMarker = "rounds-audit-record ";

// Where the feed's records come from and where it keeps its place.
struct AuditFeed {
  // The records after seq `after`, oldest first, at most `limit`.
  std::function<Result<std::vector<FeedItem>>(std::int64_t after, int limit)> read;
  std::string cursor_file;  // "<seq>\n" of the last record sent
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
  // Before Start(): sends every audit record too, from the seq in the feed's cursor file on (the
  // first head given to FeedTo when there is none yet). Start fails naming a cursor file that
  // cannot be read.
  void SetFeed(AuditFeed feed);
  // The trail's head: the feed sends the records up to it (the audit service's poll tells it).
  void FeedTo(std::int64_t head_seq);
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
    UnixMillis last_sent_at = 0;    // wall-clock time of the last message the connection took; 0: none
    bool feeding = false;           // the feed is on
    std::int64_t feed_sent = 0;     // audit records the feed sent
    std::int64_t feed_seq = 0;      // the last record the feed sent (or started after)
    std::int64_t feed_behind = 0;   // records on the trail the feed has not sent yet
  };
  Stats stats() const;
  const std::string& address() const { return address_; }
  bool tls() const { return tls_.enabled; }

  // At most this many messages wait; beyond it the oldest goes.
  static constexpr std::size_t kMaxPending = 10'000;
  // Records the feed reads from the store at a time.
  static constexpr int kFeedBatch = 200;

 private:
  void Enqueue(std::string frame);
  void Run();
  bool FeedDueLocked() const { return feed_ && feed_started_ && stats_.feed_seq < feed_head_; }

  const std::string address_;
  const std::string host_;
  const WitnessTls tls_;
  std::string peer_name_;
  std::optional<AuditFeed> feed_;
  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  Stats stats_;  // but `pending`, which is queue_'s size, and feed_behind
  bool feed_started_ = false;   // feed_seq is known (from the cursor file or the first head)
  std::int64_t feed_head_ = 0;  // the trail's head as last told
  bool stopping_ = false;
  std::chrono::steady_clock::time_point drain_until_{};
  std::thread thread_;
};

}  // namespace rounds::app
