// The TLS client against a real TLS server in the same process (OpenSSL's server side on a
// loopback socket), with a certificate authority, server and client certificates made here.
#include "core/tls.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace rounds::net {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using std::chrono::steady_clock;

Deadline In(std::chrono::milliseconds span) { return steady_clock::now() + span; }

struct Folder {
  fs::path path = fs::temp_directory_path() / ("rounds-tls-" + std::to_string(::getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  Folder() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Folder() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// A key and certificate, written as PEM files.
struct Identity {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  std::string cert_file, key_file;
  ~Identity() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(ext, nullptr) << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `common_name` signed by `issuer` (self-signed, a CA, when null). `names` is
// the subjectAltName ("DNS:collector.test,IP:127.0.0.1"), empty for a CA.
void MakeIdentity(Identity& out, const Folder& folder, const std::string& file, const std::string& common_name,
                  const Identity* issuer, const std::string& names) {
  static int serial = 1;
  out.key = EVP_EC_gen("P-256");
  ASSERT_NE(out.key, nullptr);
  out.cert = X509_new();
  X509_set_version(out.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(out.cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(out.cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(out.cert), 86400);
  X509_set_pubkey(out.cert, out.key);
  X509_NAME* name = X509_get_subject_name(out.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                             -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer->cert : out.cert;
  X509_set_issuer_name(out.cert, X509_get_subject_name(signer));
  if (issuer == nullptr) {
    AddExtension(out.cert, signer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(out.cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(out.cert, signer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(out.cert, signer, NID_subject_alt_name, names.c_str());
  }
  AddExtension(out.cert, signer, NID_subject_key_identifier, "hash");
  ASSERT_GT(X509_sign(out.cert, issuer != nullptr ? issuer->key : out.key, EVP_sha256()), 0);
  out.cert_file = folder / (file + ".crt");
  out.key_file = folder / (file + ".key");
  std::FILE* f = std::fopen(out.cert_file.c_str(), "w");
  PEM_write_X509(f, out.cert);
  std::fclose(f);
  f = std::fopen(out.key_file.c_str(), "w");
  PEM_write_PrivateKey(f, out.key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

// A revocation list of `ca` naming `revoked`, current until `next_update` seconds from now (in the
// past when negative), written to `path` as PEM.
void WriteCrl(const Identity& ca, std::initializer_list<const Identity*> revoked, long next_update, const std::string& path) {
  X509_CRL* crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca.cert));
  ASN1_TIME* last = X509_gmtime_adj(nullptr, std::min(-60L, next_update - 60));
  ASN1_TIME* next = X509_gmtime_adj(nullptr, next_update);
  X509_CRL_set1_lastUpdate(crl, last);
  X509_CRL_set1_nextUpdate(crl, next);
  for (const Identity* identity : revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(identity->cert));
    X509_REVOKED_set_revocationDate(entry, last);
    X509_CRL_add0_revoked(crl, entry);
  }
  X509_CRL_sort(crl);
  ASSERT_GT(X509_CRL_sign(crl, ca.key, EVP_sha256()), 0);
  std::FILE* f = std::fopen(path.c_str(), "w");
  PEM_write_X509_CRL(f, crl);
  std::fclose(f);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  X509_CRL_free(crl);
}

// A socket listening on 127.0.0.1 at a port of the kernel's choosing, which goes in `port`.
int ListenOnLoopback(int& port) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::listen(listener, 4);
  socklen_t len = sizeof sa;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len);
  port = ntohs(sa.sin_port);
  return listener;
}

// A TLS server taking one connection at a time on 127.0.0.1, keeping what it reads.
class Collector {
 public:
  struct Options {
    const Identity* identity = nullptr;
    const Identity* client_ca = nullptr;  // set: a client certificate signed by it is required
    int max_version = 0;                  // e.g. TLS1_2_VERSION; 0: the newest
    bool close_after_first_read = false;  // sends close_notify once it has read something
  };
  explicit Collector(Options options) : options_(options) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_file(ctx_, options.identity->cert_file.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx_, options.identity->key_file.c_str(), SSL_FILETYPE_PEM);
    if (options.max_version != 0) SSL_CTX_set_max_proto_version(ctx_, options.max_version);
    if (options.client_ca != nullptr) {
      SSL_CTX_load_verify_locations(ctx_, options.client_ca->cert_file.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    listener_ = ListenOnLoopback(port_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Collector() {
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
    SSL_CTX_free(ctx_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Waits for the connection being served to end.
  void Join() {
    for (int i = 0; i < 500 && served_ == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string received;
  std::string client_name;  // the client certificate's CN
  bool clean_close = false;  // the client ended with a close_notify
  bool accepted = false;

 private:
  void Serve() {
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    SSL* ssl = SSL_new(ctx_);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      accepted = true;
      if (X509* peer = SSL_get1_peer_certificate(ssl)) {
        char cn[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
        client_name = cn;
        X509_free(peer);
      }
      char buffer[4096];
      int n;
      while ((n = SSL_read(ssl, buffer, sizeof buffer)) > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
        if (options_.close_after_first_read) break;
      }
      if (options_.close_after_first_read) {
        SSL_shutdown(ssl);
      } else {
        clean_close = SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN;
      }
    }
    ERR_clear_error();
    SSL_free(ssl);
    ::close(fd);
    served_ = 1;
  }

  Options options_;
  SSL_CTX* ctx_ = nullptr;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> served_{0};
  std::thread thread_;
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeIdentity(ca_, folder_, "ca", "Rounds Test CA", nullptr, "");
    MakeIdentity(server_, folder_, "server", "collector.test", &ca_, "DNS:collector.test,IP:127.0.0.1");
    MakeIdentity(client_, folder_, "client", "rounds-node-1", &ca_, "DNS:rounds-node-1.test");
    MakeIdentity(stranger_ca_, folder_, "stranger", "Another CA", nullptr, "");
  }

  Result<TlsStream> Connect(const Collector& collector, const TlsClientOptions& options, const std::string& name) {
    auto context = TlsClientContext::Create(options);
    if (!context) return tl::unexpected(context.error());
    auto socket = net::Connect(collector.address(), In(seconds(5)));
    if (!socket) return tl::unexpected(socket.error());
    return TlsStream::Handshake(*context, std::move(*socket), name, In(seconds(5)));
  }

  Folder folder_;
  Identity ca_, server_, client_, stranger_ca_;
};

TEST_F(TlsTest, SendsOverTls13VerifyingTheCollectorsNameAndClosesCleanly) {
  Collector collector({.identity = &server_});
  auto stream = Connect(collector, {.ca_file = ca_.cert_file}, "collector.test");
  ASSERT_TRUE(stream) << stream.error().internal_message;
  EXPECT_EQ(stream->version(), "TLSv1.3");
  EXPECT_FALSE(stream->PeerGone());
  ASSERT_TRUE(stream->SendAll("42 <85>1 checkpoint one", In(seconds(5))));
  const std::string big(100'000, 'x');  // more than one record and one socket buffer
  ASSERT_TRUE(stream->SendAll(big, In(seconds(5))));
  stream->Close(In(seconds(5)));
  collector.Join();
  EXPECT_EQ(collector.received.size(), 23 + big.size());
  EXPECT_TRUE(collector.received == "42 <85>1 checkpoint one" + big) << collector.received.substr(0, 40);
  EXPECT_TRUE(collector.clean_close);
}

TEST_F(TlsTest, SpeaksTls12ToACollectorThatHasNoNewer) {
  Collector collector({.identity = &server_, .max_version = TLS1_2_VERSION});
  auto stream = Connect(collector, {.ca_file = ca_.cert_file}, "collector.test");
  ASSERT_TRUE(stream) << stream.error().internal_message;
  EXPECT_EQ(stream->version(), "TLSv1.2");
  ASSERT_TRUE(stream->SendAll("over 1.2", In(seconds(5))));
  stream->Close(In(seconds(5)));
  collector.Join();
  EXPECT_EQ(collector.received, "over 1.2");
}

TEST_F(TlsTest, VerifiesAnIpAddressAgainstTheCertificatesAddresses) {
  {
    Collector collector({.identity = &server_});
    auto stream = Connect(collector, {.ca_file = ca_.cert_file}, "127.0.0.1");
    ASSERT_TRUE(stream) << stream.error().internal_message;
    stream->Close(In(seconds(5)));
  }
  Collector collector({.identity = &server_});
  auto stream = Connect(collector, {.ca_file = ca_.cert_file}, "127.0.0.2");
  ASSERT_FALSE(stream);
  EXPECT_NE(stream.error().internal_message.find("certificate verify failed"), std::string::npos)
      << stream.error().internal_message;
}

TEST_F(TlsTest, RefusesACollectorWhoseCertificateNamesAnotherHost) {
  Collector collector({.identity = &server_});
  auto stream = Connect(collector, {.ca_file = ca_.cert_file}, "siem.example.org");
  ASSERT_FALSE(stream);
  EXPECT_EQ(stream.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(stream.error().internal_message.find("certificate verify failed: hostname mismatch"), std::string::npos)
      << stream.error().internal_message;
  collector.Join();
  EXPECT_FALSE(collector.accepted);
}

TEST_F(TlsTest, RefusesACollectorSignedByAnUntrustedAuthority) {
  Collector collector({.identity = &server_});
  auto stream = Connect(collector, {.ca_file = stranger_ca_.cert_file}, "collector.test");
  ASSERT_FALSE(stream);
  EXPECT_NE(stream.error().internal_message.find("certificate verify failed: unable to get local issuer"),
            std::string::npos)
      << stream.error().internal_message;
}

TEST_F(TlsTest, PresentsItsCertificateToACollectorThatRequiresOne) {
  Collector collector({.identity = &server_, .client_ca = &ca_});
  auto stream = Connect(collector,
                        {.ca_file = ca_.cert_file, .cert_file = client_.cert_file, .key_file = client_.key_file},
                        "collector.test");
  ASSERT_TRUE(stream) << stream.error().internal_message;
  ASSERT_TRUE(stream->SendAll("mutual", In(seconds(5))));
  stream->Close(In(seconds(5)));
  collector.Join();
  EXPECT_EQ(collector.client_name, "rounds-node-1");
  EXPECT_EQ(collector.received, "mutual");
}

// Under TLS 1.3 the client's side of the handshake is done before the server checks the client:
// the refusal comes after, and must not pass for a connection that works.
TEST_F(TlsTest, FailsWhenTheCollectorRefusesAClientWithoutACertificate) {
  for (int version : {0, TLS1_2_VERSION}) {
    Collector collector({.identity = &server_, .client_ca = &ca_, .max_version = version});
    auto stream = Connect(collector, {.ca_file = ca_.cert_file}, "collector.test");
    ASSERT_FALSE(stream) << "version " << version;
    EXPECT_NE(stream.error().internal_message.find("tls handshake"), std::string::npos)
        << stream.error().internal_message;
    collector.Join();
    EXPECT_FALSE(collector.accepted);
  }
}

TEST_F(TlsTest, SeesTheCollectorGoAfterItsCloseNotify) {
  Collector collector({.identity = &server_, .close_after_first_read = true});
  auto stream = Connect(collector, {.ca_file = ca_.cert_file}, "collector.test");
  ASSERT_TRUE(stream) << stream.error().internal_message;
  EXPECT_FALSE(stream->PeerGone());
  ASSERT_TRUE(stream->SendAll("one", In(seconds(5))));
  collector.Join();
  EXPECT_EQ(collector.received, "one");
  EXPECT_TRUE(stream->PeerGone());
}

TEST_F(TlsTest, FailsAgainstAPeerThatDoesNotSpeakTls) {
  int port = 0;
  const int listener = ListenOnLoopback(port);
  std::thread peer([listener] {
    const int fd = ::accept(listener, nullptr, nullptr);
    const char reply[] = "220 this is not tls\r\n";
    (void)!::write(fd, reply, sizeof reply - 1);
    ::close(fd);
  });
  auto context = TlsClientContext::Create({.ca_file = ca_.cert_file});
  ASSERT_TRUE(context);
  auto socket = net::Connect("127.0.0.1:" + std::to_string(port), In(seconds(5)));
  ASSERT_TRUE(socket);
  auto stream = TlsStream::Handshake(*context, std::move(*socket), "collector.test", In(seconds(5)));
  peer.join();
  ::close(listener);
  ASSERT_FALSE(stream);
  EXPECT_EQ(stream.error().code, ErrorCode::kUnavailable);
}

TEST_F(TlsTest, AHandshakeWaitsNoLongerThanItsDeadline) {
  int port = 0;
  const int listener = ListenOnLoopback(port);  // accepted by the kernel, never answered
  auto context = TlsClientContext::Create({.ca_file = ca_.cert_file});
  ASSERT_TRUE(context);
  auto socket = net::Connect("127.0.0.1:" + std::to_string(port), In(seconds(5)));
  ASSERT_TRUE(socket);
  auto stream = TlsStream::Handshake(*context, std::move(*socket), "collector.test", In(std::chrono::milliseconds(200)));
  ::close(listener);
  ASSERT_FALSE(stream);
  EXPECT_NE(stream.error().internal_message.find("timed out receiving"), std::string::npos)
      << stream.error().internal_message;
}

TEST(SplitHostPortTest, SplitsAtTheLastColonAndUnbracketsAnIpv6Literal) {
  auto plain = SplitHostPort("collector.example.org:6514");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "collector.example.org");
  EXPECT_EQ(plain->port, "6514");
  auto v6 = SplitHostPort("[2001:db8::7]:6514");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "2001:db8::7");
  EXPECT_EQ(v6->port, "6514");
  auto v4 = SplitHostPort("192.0.2.10:514");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "192.0.2.10");
  for (const char* bad : {"collector", ":514", "collector:", "[]:514", ""}) EXPECT_FALSE(SplitHostPort(bad)) << bad;
}

TEST_F(TlsTest, ChecksTheCollectorsCertificateAgainstItsAuthoritysRevocationList) {
  const std::string current = folder_ / "current.crl";
  WriteCrl(ca_, {&client_}, 86400, current);  // another certificate revoked: the collector's is fine
  {
    Collector collector({.identity = &server_});
    auto stream = Connect(collector, {.ca_file = ca_.cert_file, .crl_file = current}, "collector.test");
    ASSERT_TRUE(stream) << stream.error().internal_message;
    ASSERT_TRUE(stream->SendAll("checkpoint", In(seconds(5))));
    stream->Close(In(seconds(5)));
    collector.Join();
    EXPECT_EQ(collector.received, "checkpoint");
  }
  const auto refused = [&](const std::string& crl, const std::string& why) {
    SCOPED_TRACE(why);
    Collector collector({.identity = &server_});
    auto stream = Connect(collector, {.ca_file = ca_.cert_file, .crl_file = crl}, "collector.test");
    ASSERT_FALSE(stream);
    EXPECT_EQ(stream.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(stream.error().internal_message.find("certificate verify failed: " + why), std::string::npos)
        << stream.error().internal_message;
    collector.Join();
    EXPECT_FALSE(collector.accepted);
  };
  // Revoked: the collector's key may be in other hands.
  const std::string revoked = folder_ / "revoked.crl";
  WriteCrl(ca_, {&client_, &server_}, 86400, revoked);
  refused(revoked, "certificate revoked");
  // A list past its next update, or only another authority's, says nothing of it now: refused too.
  const std::string stale = folder_ / "stale.crl";
  WriteCrl(ca_, {}, -3600, stale);
  refused(stale, "CRL has expired");
  const std::string other = folder_ / "other.crl";
  WriteCrl(stranger_ca_, {}, 86400, other);
  refused(other, "unable to get certificate CRL");
}

TEST_F(TlsTest, NamesWhatIsWrongWithTheFilesItIsGiven) {
  auto missing = TlsClientContext::Create({.ca_file = folder_ / "nowhere.pem"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().problem, "bad_tls_config");
  EXPECT_NE(missing.error().public_message.find("nowhere.pem"), std::string::npos) << missing.error().public_message;

  std::ofstream(folder_ / "empty.pem") << "no certificates here\n";
  auto empty = TlsClientContext::Create({.ca_file = folder_ / "empty.pem"});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().public_message.find("empty.pem"), std::string::npos) << empty.error().public_message;

  auto half = TlsClientContext::Create({.ca_file = ca_.cert_file, .cert_file = client_.cert_file});
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().public_message.find("needs its key"), std::string::npos);

  auto mismatched = TlsClientContext::Create(
      {.ca_file = ca_.cert_file, .cert_file = client_.cert_file, .key_file = server_.key_file});
  ASSERT_FALSE(mismatched);
  EXPECT_NE(mismatched.error().public_message.find("is not the key of the certificate"), std::string::npos)
      << mismatched.error().public_message;

  EXPECT_TRUE(TlsClientContext::Create(
      {.ca_file = ca_.cert_file, .cert_file = client_.cert_file, .key_file = client_.key_file}));

  auto no_crl = TlsClientContext::Create({.ca_file = ca_.cert_file, .crl_file = folder_ / "empty.pem"});
  ASSERT_FALSE(no_crl);
  EXPECT_EQ(no_crl.error().problem, "bad_tls_config");
  EXPECT_NE(no_crl.error().public_message.find("empty.pem holds no revocation list"), std::string::npos)
      << no_crl.error().public_message;
  auto missing_crl = TlsClientContext::Create({.ca_file = ca_.cert_file, .crl_file = folder_ / "nowhere.crl"});
  ASSERT_FALSE(missing_crl);
  EXPECT_NE(missing_crl.error().public_message.find("TLS CRL file"), std::string::npos)
      << missing_crl.error().public_message;
  EXPECT_NE(missing_crl.error().public_message.find("nowhere.crl"), std::string::npos);
}

}  // namespace
}  // namespace rounds::net
