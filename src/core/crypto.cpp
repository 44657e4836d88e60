#include "core/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

namespace rounds::crypto {

bool InitCrypto() { return sodium_init() >= 0; }

std::string RandomToken(std::size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

namespace {

// OpenSSL's SHA-256, fetched once: it uses the CPU's SHA instructions where there are any, 4-5x
// libsodium's portable code from a few hundred bytes up (an audit record, an exported file), and
// faster for short inputs too. Null if the library cannot provide it (a restricted provider
// configuration); libsodium computes the same digest then.
const EVP_MD* OpenSslSha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

std::string LowerHex(const unsigned char* data, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();
  return hex;
}

}  // namespace

std::string ToHex(std::string_view bytes) {
  return LowerHex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::optional<std::string> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string bytes(hex.size() / 2, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), hex.data(), hex.size(), nullptr,
                     &length, &end) != 0 ||
      length != bytes.size() || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return bytes;
}

std::string Base64(std::string_view bytes) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string Sha256(std::string_view data) {
  std::string out(crypto_hash_sha256_BYTES, '\0');
  auto* digest = reinterpret_cast<unsigned char*>(out.data());
  unsigned int length = 0;
  // One context per thread, kept: EVP_Digest allocates and frees one per call, which on the
  // store's writer (a hash per audit record, among many threads' allocations) cost three times
  // the hash itself.
  struct Context {
    EVP_MD_CTX* evp = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(evp); }
  };
  thread_local Context context;
  if (const EVP_MD* md = OpenSslSha256();
      md != nullptr && context.evp != nullptr && EVP_DigestInit_ex2(context.evp, md, nullptr) == 1 &&
      EVP_DigestUpdate(context.evp, data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(context.evp, digest, &length) == 1 && length == crypto_hash_sha256_BYTES) {
    return out;
  }
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

struct Sha256Stream::State {
  EVP_MD_CTX* evp = nullptr;  // null: libsodium's state below
  crypto_hash_sha256_state portable{};
  bool failed = false;
};

Sha256Stream::Sha256Stream() : state_(std::make_unique<State>()) {
  if (const EVP_MD* md = OpenSslSha256(); md != nullptr) {
    state_->evp = EVP_MD_CTX_new();
    if (state_->evp != nullptr && EVP_DigestInit_ex2(state_->evp, md, nullptr) != 1) {
      EVP_MD_CTX_free(state_->evp);
      state_->evp = nullptr;
    }
  }
  if (state_->evp == nullptr) crypto_hash_sha256_init(&state_->portable);
}

Sha256Stream::~Sha256Stream() {
  if (state_->evp != nullptr) EVP_MD_CTX_free(state_->evp);
}

void Sha256Stream::Update(std::string_view data) {
  if (state_->evp == nullptr) {
    crypto_hash_sha256_update(&state_->portable, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  } else if (EVP_DigestUpdate(state_->evp, data.data(), data.size()) != 1) {
    state_->failed = true;
  }
}

std::string Sha256Stream::FinishHex() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  unsigned int length = 0;
  if (state_->failed) return {};
  if (state_->evp != nullptr) {
    if (EVP_DigestFinal_ex(state_->evp, digest, &length) != 1) return {};
  } else {
    crypto_hash_sha256_final(&state_->portable, digest);
  }
  return LowerHex(digest, sizeof digest);
}

std::string Sha256Hex(std::string_view data) {
  const std::string raw = Sha256(data);
  return LowerHex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state state;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return LowerHex(mac, sizeof mac);
}

std::string HmacSha1(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &length) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(mac), length);
}

namespace {
constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
}  // namespace

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kBase32Alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32Alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == ' ' || c == '=') continue;
    int value;
    if (c >= 'A' && c <= 'Z') {
      value = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      value = c - 'a';
    } else if (c >= '2' && c <= '7') {
      value = c - '2' + 26;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xFF);
      bits -= 8;
    }
  }
  if ((buffer & ((1u << bits) - 1)) != 0) return std::nullopt;  // bits past the last byte
  return out;
}

std::string TotpCode(std::string_view secret, std::int64_t step, int digits) {
  char counter[8];
  for (int i = 7; i >= 0; --i) {
    counter[i] = static_cast<char>(step & 0xFF);
    step >>= 8;
  }
  const std::string mac = HmacSha1(secret, std::string_view(counter, sizeof counter));
  if (mac.size() != 20) return {};
  const int offset = static_cast<unsigned char>(mac[19]) & 0x0F;
  std::uint32_t binary = (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset]) & 0x7F) << 24) |
                         (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 1])) << 16) |
                         (static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 2])) << 8) |
                         static_cast<std::uint32_t>(static_cast<unsigned char>(mac[offset + 3]));
  std::string code(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    code[static_cast<std::size_t>(i)] = static_cast<char>('0' + binary % 10);
    binary /= 10;
  }
  return code;
}

std::string RandomBytes(std::size_t size) {
  std::string out(size, '\0');
  randombytes_buf(out.data(), out.size());
  return out;
}

std::string SealSecret(std::string_view key, std::string_view plaintext) {
  if (key.size() != crypto_secretbox_KEYBYTES) return {};
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), nonce,
                        reinterpret_cast<const unsigned char*>(key.data()));
  return ToHex(box);
}

std::optional<std::string> OpenSecret(std::string_view key, std::string_view sealed) {
  if (key.size() != crypto_secretbox_KEYBYTES) return std::nullopt;
  const std::optional<std::string> unhexed = FromHex(sealed);
  if (!unhexed || unhexed->size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  const std::string& box = *unhexed;
  const std::size_t length = box.size();
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  std::string plain(length - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), nonce + crypto_secretbox_NONCEBYTES,
                                 length - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return std::nullopt;
  }
  return plain;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> HashPassword(std::string_view password, bool fast) {
  char out[crypto_pwhash_STRBYTES];
  unsigned long long ops = fast ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
  std::size_t mem = fast ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), ops, mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Internal("argon2id hashing failed (out of memory)");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view password, const std::string& encoded_hash) {
  return crypto_pwhash_str_verify(encoded_hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace rounds::crypto
