// Server configuration. Precedence, lowest to highest: built-in defaults, a TOML file
// (`--config FILE`), ROUNDS_* environment variables, command-line flags. `rounds serve --help`
// lists every setting. A plain value type; not synchronized.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace rounds {

// The largest retention_batch_size: the store selects at most this many purge candidates at a
// time, so a larger batch would purge less than it says while the run still reported complete.
inline constexpr int kMaxRetentionBatchSize = 10000;

struct Config {
  // Network
  std::string listen_address = "127.0.0.1";
  int port = 8080;
  int threads = 0;                          // I/O threads; 0: one per core
  std::string public_origin;                // e.g. "https://rounds.example.org" (TLS at the proxy); empty: derived
  std::vector<std::string> allowed_origins; // extra origins allowed for WebSocket handshakes
  bool trust_proxy = false;                 // honour X-Forwarded-For from the proxy

  // Storage
  std::string data_dir = "./data";          // holds rounds.db and the log file
  std::string database_file;                // empty: <data_dir>/rounds.db
  // Encryption at rest: a new database (with its write-ahead log and backups) is encrypted under
  // a key kept in database_key_file (hex, mode 0600, created with the database). Keep the key
  // apart from the database's backups, and back it up: without it the database cannot be read.
  // An existing plain database stays plain until `rounds admin database encrypt`; an encrypted
  // one always needs its key, whatever this says.
  bool database_encryption = true;
  std::string database_key_file;            // empty: <data_dir>/keys/database.key
  int read_connections = 4;
  std::int64_t page_cache_bytes = 64 << 20;  // rendered message pages kept for readers; 0: none

  // Web app
  std::string web_root;                     // folder with the built web app; empty: search ./web/dist

  // Sessions and accounts
  std::int64_t idle_timeout_seconds = 15 * 60;
  std::int64_t absolute_timeout_seconds = 12 * 60 * 60;
  // An administrator's account acts as staff; its session administers only once elevated with
  // the password (and a two-step code), and for this long (at most the session's own life).
  std::int64_t admin_elevation_seconds = 15 * 60;
  int lockout_threshold = 10;               // consecutive failures before a lock-out
  std::int64_t lockout_seconds = 15 * 60;
  // Failed sign-ins from one source address, within lockout_seconds, after which sign-ins from it
  // are refused for lockout_seconds unless they present a device token of their account.
  int address_lockout_threshold = 30;
  // Two-step sign-in (TOTP): whose accounts must have it. "none"; "privileged" (administrators
  // and compliance officers); "staff" (every staff account); "all". An account that must and has
  // none yet can only set it up until it does (403 mfa_enrollment_required elsewhere).
  std::string mfa_required = "none";
  // The key the TOTP seeds are sealed under (hex, mode 0600, created at first use). Back it up
  // with the database but keep it apart: without it every account's two-step sign-in has to be
  // reset. Empty: <data_dir>/keys/mfa.key
  std::string mfa_key_file;

  // Limits
  std::int64_t max_body_bytes = 1 << 20;
  // Upload bodies (POST /api/v1/spaces/{id}/attachments) may be this large; each space's template
  // sets its own smaller limit.
  std::int64_t max_attachment_bytes = 25 << 20;
  // The request bodies being read or handled at once, in bytes: each reserves its Content-Length
  // (chunked: its limit) before it is read; one that does not fit is refused with 503 and
  // Retry-After. At least max_attachment_bytes and max_body_bytes.
  std::int64_t max_body_bytes_in_flight = 256 << 20;
  int max_message_chars = 10000;
  // Most messages a space's owners may export (MessageService::ExportSpace); larger spaces are
  // exported by a compliance officer's e-discovery export.
  int space_export_max_messages = 100000;
  // Per user: state-changing requests (posts, edits, reactions, reports, ...) a second, and the
  // burst allowed before that rate applies; beyond it, 429 too_many_requests. 0: no limit.
  int write_requests_per_second = 50;
  int write_request_burst = 200;
  // Malware scanning of uploads: the organization's ClamAV daemon, a Unix socket path or
  // host:port. Empty: uploads are not scanned (a production server should name one). When set,
  // an upload clamd does not answer for is refused, never stored unscanned.
  std::string antivirus_address;
  std::int64_t antivirus_timeout_seconds = 30;
  int ws_send_queue_limit = 1024;           // frames queued per socket before it is dropped
  std::int64_t header_timeout_seconds = 10;
  std::int64_t idle_connection_seconds = 60;

  // Operations
  std::string log_file;                     // empty: stderr
  std::string log_level = "info";
  bool demo = false;                        // seed demo data at start (idempotent)

  // Retention: the purge job (app/retention_service.hpp)
  std::int64_t retention_interval_seconds = 10 * 60;  // between runs; 0: no background job
  // How often lapsed emergency access grants are closed (audited, announced); 0: no background
  // job. Reads stop at a grant's expiry whatever this is.
  std::int64_t emergency_sweep_seconds = 15;
  // Messages purged per write unit, 1 to kMaxRetentionBatchSize (checked when the setting is read).
  int retention_batch_size = 500;
  // Days an e-discovery export's files stay under <data_dir>/exports before the retention job
  // removes them (its record and audit stay); 0: until a compliance officer removes them.
  std::int64_t export_keep_days = 30;

  // Audit trail: signed checkpoints of the chain head, kept outside the database
  std::string audit_checkpoint_file;        // empty: <data_dir>/audit/checkpoints.log
  std::string audit_signing_key_file;       // empty: <data_dir>/audit/signing.key (public half: .pub)
  std::int64_t audit_checkpoint_records = 1000;  // sign after this many new records ...
  std::int64_t audit_checkpoint_seconds = 60;    // ... or this long after a new record
  std::int64_t audit_verify_hours = 24;          // the server verifies the whole chain this long
                                                 // after the last verification; 0: on request only
  // The server hands checkpoint signing over to a new key once the key in use has signed this
  // many days (a cryptoperiod, NIST SP 800-57); 0: only when an officer asks. 0 to 3650.
  std::int64_t audit_key_days = 365;
  // What a WebSocket is sent live from PHI-bearing spaces is recorded (one record per socket and
  // space) at most this long after the first event not yet on record, and when the socket
  // closes; from 1 to 86400.
  std::int64_t audit_live_read_seconds = 60;
  // A collector off this host ("host:port", or a Unix socket path) that every signed checkpoint is
  // sent to as a syslog message, and told at once when the trail breaks its anchor
  // (app/audit_witness.hpp); empty: none.
  std::string audit_witness;
  // The witness over TLS (RFC 5425): the collector's certificate is verified against
  // audit_witness_ca_file (empty: the system's trust store) and audit_witness_server_name (empty:
  // audit_witness's host); audit_witness_cert_file and _key_file are this server's, for a
  // collector that authenticates its senders (mutual TLS); audit_witness_crl_file holds the
  // authority's revocation lists (empty: revocation is not checked). The files are read at start,
  // where they stop a start they cannot serve, and again before each connection, so that renewed
  // certificates and a fresh list take effect without a restart.
  bool audit_witness_tls = false;
  std::string audit_witness_ca_file;
  std::string audit_witness_cert_file;
  std::string audit_witness_key_file;
  std::string audit_witness_crl_file;
  std::string audit_witness_server_name;
  // Every audit record also goes to the witness's collector, as a FHIR AuditEvent (a SIEM's or an
  // IHE ATNA audit record repository's feed); only over TLS or to a forwarder on this host.
  bool audit_feed = false;

  std::string DatabasePath() const;
};

// Applies a TOML file on top of `config`. kInvalidArgument names the bad key.
Status ApplyConfigFile(const std::string& path, Config& config);
// Applies ROUNDS_<UPPER_SNAKE_KEY> variables from `environment` (e.g. ROUNDS_PORT=9090).
Status ApplyEnvironment(const std::map<std::string, std::string>& environment, Config& config);
// The current process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace rounds
