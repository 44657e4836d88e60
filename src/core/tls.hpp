// TLS for the outbound connections of core/socket.hpp: what a client of another service (the
// audit witness's syslog collector, RFC 5425) needs to reach it over a network it does not trust.
// TLS 1.2 or 1.3 only; the peer's certificate is always verified, against a CA file or the
// system's trust store, and for the name the connection was made to (a DNS name or an IP address);
// a client certificate can be presented for mutual TLS (IHE ATNA's authenticated node).
//
// The TLS engine (OpenSSL) never touches the socket: it reads and writes memory buffers, and this
// file moves their bytes with the same non-blocking sends and polls as the plain connections, so
// every wait has its deadline and no write raises SIGPIPE.
//
// Thread safety: a TlsClientContext may be shared by threads once made; a TlsStream is used by
// one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/socket.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace rounds::net {

struct TlsClientOptions {
  std::string ca_file;    // PEM certificates trusted to sign the peer's; empty: the system's store
  std::string cert_file;  // PEM certificate (then its chain) presented to the peer; empty: none
  std::string key_file;   // the private key of cert_file, PEM; set exactly when cert_file is
  // PEM certificate revocation lists; set: the peer's certificate must be on none of them, and the
  // list of the authority that signed it must be here and current (not past its next update), or
  // the handshake fails. Empty: revocation is not checked.
  std::string crl_file;
};

class TlsClientContext {
 public:
  // kInvalidArgument (problem "bad_tls_config") naming the file and what is wrong with it: a CA
  // file without a certificate, an unreadable certificate or key, a key that is not the
  // certificate's, a certificate without a key or a key without a certificate, a CRL file that
  // cannot be read or holds no list. The files are read here, once: a context made later reads
  // them again.
  static Result<std::shared_ptr<const TlsClientContext>> Create(const TlsClientOptions& options);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }

 private:
  explicit TlsClientContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
};

// One TLS connection over a connected socket, which it owns.
class TlsStream {
 public:
  // Runs the handshake over `socket` (from Connect), verifying the peer's certificate for
  // `peer_name`, until `deadline`. Under TLS 1.3 the peer may still refuse the client (its
  // certificate, say) after the client's side of the handshake is done, so this also waits up to
  // a second for the peer's first word, and fails if that is a refusal. kUnavailable naming what
  // failed ("certificate verify failed: ...", "tls alert ...") in internal_message.
  static Result<TlsStream> Handshake(std::shared_ptr<const TlsClientContext> context, Socket socket,
                                     const std::string& peer_name, Deadline deadline);

  TlsStream(TlsStream&& other) noexcept;
  TlsStream& operator=(TlsStream&& other) noexcept;
  ~TlsStream();  // closes the socket without a close_notify (Close sends one)

  // Encrypts and sends all of `data`.
  Status SendAll(std::string_view data, Deadline deadline);
  // Whether the peer closed the connection (a close_notify, a fatal alert, or the socket's end)
  // or it broke; reads and processes what the peer sent meanwhile (session tickets) without waiting.
  bool PeerGone();
  // Sends a close_notify (best effort, until `deadline`) and closes the socket.
  void Close(Deadline deadline);

  // The TLS version agreed ("TLSv1.3").
  std::string version() const;

 private:
  TlsStream() = default;
  Status Flush(Deadline deadline);               // sends what the engine wrote
  Status Feed(Deadline deadline, bool wait);     // hands the engine what the peer sent
  tl::unexpected<Error> Failure(int rc, std::string_view what);  // the engine's error for `rc`

  std::shared_ptr<const TlsClientContext> context_;
  Socket socket_;
  ssl_st* ssl_ = nullptr;
};

}  // namespace rounds::net
