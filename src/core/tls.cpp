#include "core/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace rounds::net {
namespace {

constexpr auto kRefusalWait = std::chrono::seconds(1);

tl::unexpected<Error> Unavailable(std::string internal) {
  return Fail(ErrorCode::kUnavailable, "unavailable", "A service this needs cannot be reached.", std::move(internal));
}

// OpenSSL's queued errors, oldest first, joined; the queue is left empty.
std::string OpenSslErrors() {
  std::string out;
  char text[256];
  while (const unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "unknown error" : out;
}

tl::unexpected<Error> BadFile(const std::string& what, const std::string& path) {
  return InvalidArgument("bad_tls_config", "TLS " + what + " " + path + " cannot be used: " + OpenSslErrors() + ".");
}

bool IsIpAddress(const std::string& name) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, name.c_str(), buffer) == 1 || ::inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

}  // namespace

// ---- The context ------------------------------------------------------------------------------

Result<std::shared_ptr<const TlsClientContext>> TlsClientContext::Create(const TlsClientOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return InvalidArgument("bad_tls_config", "A TLS client certificate needs its key, and a key its certificate.");
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Internal("SSL_CTX_new: " + OpenSslErrors());
  std::shared_ptr<const TlsClientContext> context(new TlsClientContext(ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // TLS 1.2's suites with forward secrecy and authenticated encryption only (1.3 has no others).
  if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
    return Internal("SSL_CTX_set_cipher_list: " + OpenSslErrors());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (options.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) return BadFile("trust store", "(the system's)");
  } else {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      return BadFile("CA file", options.ca_file);
    }
    // load_verify_locations accepts a file holding no certificate at all; nothing would verify.
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
    if (objects == nullptr || sk_X509_OBJECT_num(objects) == 0) {
      return InvalidArgument("bad_tls_config", "TLS CA file " + options.ca_file + " holds no certificate.");
    }
  }
  if (!options.crl_file.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    const int lists = lookup != nullptr ? X509_load_crl_file(lookup, options.crl_file.c_str(), X509_FILETYPE_PEM) : 0;
    if (lists <= 0) {
      const unsigned long first = ERR_peek_error();
      if (first == 0 || (ERR_GET_LIB(first) == ERR_LIB_PEM && ERR_GET_REASON(first) == PEM_R_NO_START_LINE)) {
        ERR_clear_error();
        return InvalidArgument("bad_tls_config", "TLS CRL file " + options.crl_file + " holds no revocation list.");
      }
      return BadFile("CRL file", options.crl_file);
    }
    // The peer's own certificate is checked against its issuer's list; a list that is missing or
    // past its next update fails the handshake rather than letting a revoked peer through.
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  }
  if (!options.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
      return BadFile("certificate", options.cert_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
        ERR_clear_error();
        return InvalidArgument("bad_tls_config", "TLS key " + options.key_file +
                                                     " is not the key of the certificate " + options.cert_file + ".");
      }
      return BadFile("key", options.key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      ERR_clear_error();
      return InvalidArgument("bad_tls_config", "TLS key " + options.key_file + " is not the key of the certificate " +
                                                   options.cert_file + ".");
    }
  }
  return context;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

// ---- The stream -------------------------------------------------------------------------------

TlsStream::TlsStream(TlsStream&& other) noexcept
    : context_(std::move(other.context_)), socket_(std::move(other.socket_)), ssl_(std::exchange(other.ssl_, nullptr)) {}

TlsStream& TlsStream::operator=(TlsStream&& other) noexcept {
  if (this != &other) {
    SSL_free(ssl_);
    context_ = std::move(other.context_);
    socket_ = std::move(other.socket_);
    ssl_ = std::exchange(other.ssl_, nullptr);
  }
  return *this;
}

TlsStream::~TlsStream() { SSL_free(ssl_); }

std::string TlsStream::version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

Result<TlsStream> TlsStream::Handshake(std::shared_ptr<const TlsClientContext> context, Socket socket,
                                       const std::string& peer_name, Deadline deadline) {
  TlsStream stream;
  stream.context_ = std::move(context);
  stream.socket_ = std::move(socket);
  ERR_clear_error();
  stream.ssl_ = SSL_new(stream.context_->native());
  if (stream.ssl_ == nullptr) return Unavailable("SSL_new: " + OpenSslErrors());
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return Unavailable("BIO_new: " + OpenSslErrors());
  }
  BIO_set_mem_eof_return(in, -1);  // empty means "not yet", not the end
  SSL_set_bio(stream.ssl_, in, out);
  // The name the certificate must carry: a host name (also sent as SNI) or an IP address.
  if (IsIpAddress(peer_name)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(stream.ssl_), peer_name.c_str()) != 1) {
      return Unavailable("bad peer address " + peer_name);
    }
  } else if (SSL_set1_host(stream.ssl_, peer_name.c_str()) != 1 ||
             SSL_set_tlsext_host_name(stream.ssl_, peer_name.c_str()) != 1) {
    return Unavailable("bad peer name " + peer_name);
  }
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_connect(stream.ssl_);
    const int error = SSL_get_error(stream.ssl_, rc);
    ROUNDS_RETURN_IF_ERROR(stream.Flush(deadline));
    if (rc == 1) break;
    if (error != SSL_ERROR_WANT_READ) return stream.Failure(rc, "handshake");
    ROUNDS_RETURN_IF_ERROR(stream.Feed(deadline, true));
  }
  // Under TLS 1.3 the server checks the client's certificate after the client is done: a refusal
  // (or its session tickets, when all is well) follows at once.
  if (SSL_version(stream.ssl_) >= TLS1_3_VERSION) {
    const Deadline settle = std::min(deadline, std::chrono::steady_clock::now() + kRefusalWait);
    if (WaitFor(stream.socket_.fd(), POLLIN, settle, "waiting for the peer")) {
      ROUNDS_RETURN_IF_ERROR(stream.Feed(deadline, false));
      char scratch[256];
      ERR_clear_error();
      const int rc = SSL_read(stream.ssl_, scratch, sizeof scratch);
      if (rc <= 0 && SSL_get_error(stream.ssl_, rc) != SSL_ERROR_WANT_READ) return stream.Failure(rc, "handshake");
    }
  }
  return stream;
}

tl::unexpected<Error> TlsStream::Failure(int rc, std::string_view what) {
  const int error = SSL_get_error(ssl_, rc);
  const long verified = SSL_get_verify_result(ssl_);
  std::string detail = "tls " + std::string(what) + ": ";
  if (verified != X509_V_OK) {
    detail += std::string("certificate verify failed: ") + X509_verify_cert_error_string(verified);
    ERR_clear_error();
  } else if (error == SSL_ERROR_ZERO_RETURN) {
    detail += "the peer closed the connection";
  } else if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
    detail += "the connection ended";
  } else {
    detail += OpenSslErrors();
  }
  return Unavailable(std::move(detail));
}

Status TlsStream::Flush(Deadline deadline) {
  BIO* out = SSL_get_wbio(ssl_);
  char buffer[16384];
  while (BIO_ctrl_pending(out) > 0) {
    const int n = BIO_read(out, buffer, sizeof buffer);
    if (n <= 0) break;
    ROUNDS_RETURN_IF_ERROR(net::SendAll(socket_.fd(), buffer, static_cast<std::size_t>(n), deadline));
  }
  return Ok();
}

Status TlsStream::Feed(Deadline deadline, bool wait) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(socket_.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) {
      if (BIO_write(SSL_get_rbio(ssl_), buffer, static_cast<int>(n)) != n) {
        return Unavailable("BIO_write: " + OpenSslErrors());
      }
      return Ok();
    }
    if (n == 0) return Unavailable("tls: the connection ended");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return Unavailable(std::string("recv: ") + std::strerror(errno));
    if (!wait) return Ok();
    ROUNDS_RETURN_IF_ERROR(WaitFor(socket_.fd(), POLLIN, deadline, "receiving"));
  }
}

Status TlsStream::SendAll(std::string_view data, Deadline deadline) {
  while (!data.empty()) {
    ERR_clear_error();
    const int size = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
    const int rc = SSL_write(ssl_, data.data(), size);
    const int error = SSL_get_error(ssl_, rc);
    ROUNDS_RETURN_IF_ERROR(Flush(deadline));
    if (rc > 0) {
      data.remove_prefix(static_cast<std::size_t>(rc));
    } else if (error == SSL_ERROR_WANT_READ) {
      ROUNDS_RETURN_IF_ERROR(Feed(deadline, true));
    } else {
      return Failure(rc, "send");
    }
  }
  return Ok();
}

bool TlsStream::PeerGone() {
  if (ssl_ == nullptr || !socket_.open()) return true;
  pollfd p{socket_.fd(), POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLERR | POLLHUP)) return true;
  // Take in everything the peer sent and let the engine process it: tickets are kept quietly,
  // an alert or a close_notify means the peer is gone.
  for (;;) {
    char buffer[16384];
    const ssize_t n = ::recv(socket_.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) {
      if (BIO_write(SSL_get_rbio(ssl_), buffer, static_cast<int>(n)) != n) return true;
      continue;
    }
    if (n == 0) return true;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return true;
    break;
  }
  for (;;) {
    char scratch[4096];
    ERR_clear_error();
    const int rc = SSL_read(ssl_, scratch, sizeof scratch);
    if (rc > 0) continue;  // a collector does not speak; whatever it said is dropped
    const bool gone = SSL_get_error(ssl_, rc) != SSL_ERROR_WANT_READ;
    ERR_clear_error();
    return gone || (p.revents & POLLRDHUP) != 0;
  }
}

void TlsStream::Close(Deadline deadline) {
  if (ssl_ != nullptr && socket_.open()) {
    ERR_clear_error();
    SSL_shutdown(ssl_);
    if (Flush(deadline)) {
      // Closing a socket with unread bytes (a late session ticket) resets the connection, and a
      // peer that is reset may drop what it had not yet read. So the close_notify is followed by
      // the end of the stream, and what the peer still sends is read until it closes too.
      ::shutdown(socket_.fd(), SHUT_WR);
      const Deadline until = std::min(deadline, std::chrono::steady_clock::now() + kRefusalWait);
      char buffer[4096];
      while (WaitFor(socket_.fd(), POLLIN, until, "closing")) {
        const ssize_t n = ::recv(socket_.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) break;
      }
    }
    ERR_clear_error();
  }
  socket_.Close();
}

}  // namespace rounds::net
