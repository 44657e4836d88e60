#include "store/sqlite/coalescing_vfs.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

namespace rounds::store::sqlite {

namespace {

// The WAL file format: a 32-byte file header, then frames of a 24-byte header and a page. Bytes
// 4-7 of a frame header hold the database size in pages on the frame that commits a transaction
// and zero on every other frame.
constexpr int kWalHeaderBytes = 32;
constexpr int kFrameHeaderBytes = 24;
// The default VFS writes at most 0x1ffff bytes per call (it masks the length, and a remainder
// that is a multiple of 128 KiB would come back as a zero-byte write, "disk full"), so a buffer
// holds up to 31 frames of 4 KiB pages.
constexpr int kBufferBytes = 0x1ffff;

std::atomic<std::uint64_t> g_requested{0};
std::atomic<std::uint64_t> g_issued{0};
std::atomic<std::uint64_t> g_sealed{0};
std::atomic<std::uint64_t> g_opened{0};
std::atomic<std::uint64_t> g_rejected{0};

// ---- Encryption ---------------------------------------------------------------------------------

constexpr int kPage = kEncryptedPageBytes;
constexpr int kSealed = kPage - kEncryptionReserveBytes;  // the bytes of a page that SQLite uses
constexpr int kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr int kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kNonceBytes + kTagBytes == kEncryptionReserveBytes);
constexpr sqlite3_int64 kFrameBytes = kFrameHeaderBytes + kPage;
constexpr sqlite3_int64 kFirstWalPage = kWalHeaderBytes + kFrameHeaderBytes;  // frame 0's page

// What a sealed page's associated data says it is: a page of the database or of the log.
enum class Place : unsigned char { kDatabase = 1, kLog = 2 };

std::mutex g_keys_mu;
std::map<std::string, DatabaseKey>& Keys() {  // guarded by g_keys_mu; never destroyed
  static auto* keys = new std::map<std::string, DatabaseKey>();
  return *keys;
}

std::string Resolved(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) return path;
  const std::filesystem::path resolved = std::filesystem::weakly_canonical(absolute, ec);
  return ec ? absolute.lexically_normal().string() : resolved.string();
}

std::optional<DatabaseKey> KeyOf(const std::string& database_path) {
  const std::string resolved = Resolved(database_path);
  std::lock_guard lock(g_keys_mu);
  auto it = Keys().find(resolved);
  if (it == Keys().end()) return std::nullopt;
  return it->second;
}

void AssociatedData(Place place, sqlite3_int64 position, unsigned char (&out)[9]) {
  out[0] = static_cast<unsigned char>(place);
  for (int i = 0; i < 8; ++i) out[1 + i] = static_cast<unsigned char>(static_cast<std::uint64_t>(position) >> (56 - 8 * i));
}

sqlite3_vfs* g_base = nullptr;
sqlite3_vfs g_vfs{};

struct File {
  sqlite3_file base;   // first: SQLite sees a File as a sqlite3_file
  sqlite3_file* real;  // the default VFS's file, in the same allocation right after this struct
  const char* name;    // the file's path (SQLite keeps it for the file's lifetime), or null
  bool wal;
  bool commit_header;  // the last write buffered was the header of a commit frame
  int length;          // bytes buffered
  sqlite3_int64 start; // file offset of the first buffered byte
  char* data;          // kBufferBytes, allocated on the first buffered write
  bool encrypted;      // a database or log file of a database with a key
  DatabaseKey key;     // when encrypted; wiped on close
  unsigned char* page; // 2 * kPage bytes of scratch (Scratch), allocated on first use
  EVP_CIPHER_CTX* cipher;  // ChaCha20-Poly1305, allocated on first use
};
static_assert(sizeof(File) % 8 == 0, "the default VFS's file follows a File in one allocation");

File* Of(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
const sqlite3_io_methods& RealMethods(const File* f) { return *f->real->pMethods; }

// Two pages of scratch: the first for a page on its way to or from the file, the second for a
// page being decrypted (so that one that does not authenticate stays as it was).
unsigned char* Scratch(File* f) {
  if (f->page == nullptr) f->page = static_cast<unsigned char*>(sqlite3_malloc(2 * kPage));
  return f->page;
}

// Wipes and frees what encryption allocated for `f`, and its key.
void ReleaseEncryption(File* f) {
  if (f->page != nullptr) sodium_memzero(f->page, 2 * kPage);
  sqlite3_free(f->page);
  f->page = nullptr;
  EVP_CIPHER_CTX_free(f->cipher);
  f->cipher = nullptr;
  sodium_memzero(f->key.data(), f->key.size());
}

bool AllZero(const unsigned char* from, const unsigned char* to) {
  return std::all_of(from, to, [](unsigned char b) { return b == 0; });
}

// OpenSSL's ChaCha20-Poly1305, fetched once. It is set on a file's context once; each page then
// only re-keys the context. Naming the cipher on every page (EVP_chacha20_poly1305()) made OpenSSL
// look it up and rebuild the context each time: 0.6 µs a page against 0.15.
const EVP_CIPHER* ChaCha20Poly1305() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  return cipher;
}

// XChaCha20-Poly1305 (IETF), byte for byte libsodium's crypto_aead_xchacha20poly1305_ietf: a
// subkey from HChaCha20 over the nonce's first 16 bytes, then ChaCha20-Poly1305 with its last 8.
// The ChaCha20-Poly1305 step is OpenSSL's, which runs at 1.7 times libsodium's speed here (2.3
// against 4.0 µs a page); a test holds the two to the same bytes.

bool Crypt(File* f, bool seal, const unsigned char* nonce, const unsigned char (&ad)[9], unsigned char* page,
           unsigned char* tag) {
  if (f->cipher == nullptr) {
    const EVP_CIPHER* cipher = ChaCha20Poly1305();
    if (cipher == nullptr || (f->cipher = EVP_CIPHER_CTX_new()) == nullptr) return false;
    if (EVP_CipherInit_ex(f->cipher, cipher, nullptr, nullptr, nullptr, 1) != 1) {
      EVP_CIPHER_CTX_free(f->cipher);
      f->cipher = nullptr;
      return false;
    }
  }
  unsigned char subkey[32];
  crypto_core_hchacha20(subkey, nonce, f->key.data(), nullptr);
  unsigned char inner[12] = {0, 0, 0, 0};
  std::memcpy(inner + 4, nonce + 16, 8);
  EVP_CIPHER_CTX* c = f->cipher;
  int length = 0;
  bool ok = EVP_CipherInit_ex(c, nullptr, nullptr, subkey, inner, seal ? 1 : 0) == 1;
  sodium_memzero(subkey, sizeof subkey);
  if (seal) {
    ok = ok && EVP_EncryptUpdate(c, nullptr, &length, ad, sizeof ad) == 1 &&
         EVP_EncryptUpdate(c, page, &length, page, kSealed) == 1 && EVP_EncryptFinal_ex(c, page + length, &length) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kTagBytes, tag) == 1;
    return ok;
  }
  // Decrypted into a copy first: a page that does not authenticate stays as it was.
  unsigned char* scratch = Scratch(f);
  if (scratch == nullptr) return false;
  unsigned char* plain = scratch + kPage;
  ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) == 1 &&
       EVP_DecryptUpdate(c, nullptr, &length, ad, sizeof ad) == 1 &&
       EVP_DecryptUpdate(c, plain, &length, page, kSealed) == 1 && EVP_DecryptFinal_ex(c, plain + length, &length) == 1;
  if (ok) std::memcpy(page, plain, kSealed);
  return ok;
}

// Bumped in a child after fork(): a child must not hand out the nonces its parent's threads hold.
std::atomic<std::uint64_t> g_fork_generation{0};

// A new random nonce. Randomness is drawn from the system 4 KiB at a time per thread (libsodium's
// randombytes_buf is one getrandom system call per call, which took 5% of the single writer's
// time at a call per sealed page) and every nonce is taken from it once. A child process after
// fork() draws its own before its first nonce, so parent and child never share one.
void NewNonce(unsigned char* nonce) {
  struct Pool {
    std::uint64_t generation = ~std::uint64_t{0};
    std::size_t used = sizeof(bytes);
    unsigned char bytes[4096];
  };
  thread_local Pool pool;
  const std::uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation || pool.used + kNonceBytes > sizeof(pool.bytes)) {
    randombytes_buf(pool.bytes, sizeof(pool.bytes));
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(nonce, pool.bytes + pool.used, kNonceBytes);  // nonces are no secret: nothing to wipe
  pool.used += kNonceBytes;
}

// Encrypts the page at `page` in place: its first kSealed bytes, with a new nonce and the tag in
// the reserved bytes after them. False if the cipher failed (out of memory).
bool Seal(File* f, Place place, sqlite3_int64 position, unsigned char* page) {
  unsigned char* nonce = page + kSealed;
  unsigned char* tag = nonce + kNonceBytes;
  NewNonce(nonce);
  unsigned char ad[9];
  AssociatedData(place, position, ad);
  if (!Crypt(f, true, nonce, ad, page, tag)) return false;
  g_sealed.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// Whether a page read from a file is all zeros: never written (a hole, or past the end of the
// file). A sealed page's nonce and tag are never all zero, so only a page whose reserved bytes are
// is looked at whole. Not sodium_is_zero, which is constant-time (these bytes are no secret) and
// took a third of a search's time.
bool Unwritten(const unsigned char* page) {
  return AllZero(page + kSealed, page + kPage) && AllZero(page, page + kSealed);
}

// Decrypts the page at `page` in place (anywhere but the second half of Scratch, which it
// decrypts into). False, with the page unchanged,
// when it does not authenticate. A page of zeros was never written and stays zeros.
bool Unseal(File* f, Place place, sqlite3_int64 position, unsigned char* page) {
  if (Unwritten(page)) return true;
  unsigned char nonce[kNonceBytes];
  unsigned char tag[kTagBytes];
  std::memcpy(nonce, page + kSealed, kNonceBytes);
  std::memcpy(tag, page + kSealed + kNonceBytes, kTagBytes);
  unsigned char ad[9];
  AssociatedData(place, position, ad);
  if (!Crypt(f, false, nonce, ad, page, tag)) {
    g_rejected.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  // SQLite sees the reserved bytes as zeros, as it wrote them: a log frame's checksum, which
  // recovery after a crash verifies, covers the whole page as SQLite passed it to the log.
  sodium_memzero(page + kSealed, kEncryptionReserveBytes);
  g_opened.fetch_add(1, std::memory_order_relaxed);
  return true;
}

int WriteThrough(File* f, const void* data, int amount, sqlite3_int64 offset) {
  g_issued.fetch_add(1, std::memory_order_relaxed);
  return RealMethods(f).xWrite(f->real, data, amount, offset);
}

// Writes what is buffered. The buffer is empty afterwards even when the write failed: SQLite
// treats the error like any failed write and rolls the transaction back.
int Flush(File* f) {
  if (f->length == 0) return SQLITE_OK;
  const int length = f->length;
  f->length = 0;
  f->commit_header = false;
  return WriteThrough(f, f->data, length, f->start);
}

bool Overlaps(const File* f, sqlite3_int64 offset, int amount) {
  return f->length > 0 && offset < f->start + f->length && f->start < offset + amount;
}

int Close(sqlite3_file* file) {
  File* f = Of(file);
  const int flushed = Flush(f);
  const int closed = RealMethods(f).xClose(f->real);
  sqlite3_free(f->data);
  f->data = nullptr;
  ReleaseEncryption(f);
  return flushed != SQLITE_OK ? flushed : closed;
}

// Reads [offset, offset + amount) of an encrypted database file: every page it touches whole,
// decrypted. A short read (past the end) is zero-filled and reported as such, as SQLite expects.
int ReadDatabase(File* f, unsigned char* out, int amount, sqlite3_int64 offset) {
  unsigned char* page = Scratch(f);
  if (page == nullptr) return SQLITE_IOERR_NOMEM;
  bool short_read = false;
  for (sqlite3_int64 at = offset; at < offset + amount;) {
    const sqlite3_int64 number = at / kPage;  // 0-based
    const sqlite3_int64 page_start = number * kPage;
    const int rc = RealMethods(f).xRead(f->real, page, kPage, page_start);
    if (rc == SQLITE_IOERR_SHORT_READ) {
      short_read = true;
    } else if (rc != SQLITE_OK) {
      return rc;
    }
    if (!Unseal(f, Place::kDatabase, number + 1, page)) return SQLITE_IOERR_DATA;
    const sqlite3_int64 end = std::min(offset + amount, page_start + kPage);
    std::memcpy(out + (at - offset), page + (at - page_start), static_cast<std::size_t>(end - at));
    at = end;
  }
  return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

// Decrypts, in `out` (the bytes [offset, offset + amount) of an encrypted log, read as they are
// on disk), every frame's page that the range touches. SQLite reads a frame whole (its header
// with its page) only to check its checksum, when it recovers the log after a crash: a page that
// does not authenticate is then left as it is, so the checksum rejects the frame and the log ends
// there, as at a torn write. A page read on its own is one SQLite already knows to be committed:
// one that does not authenticate is an error.
int DecryptLogPages(File* f, unsigned char* out, int amount, sqlite3_int64 offset) {
  const sqlite3_int64 end = offset + amount;
  sqlite3_int64 frame = offset <= kFirstWalPage ? 0 : (offset - kFirstWalPage) / kFrameBytes;
  for (;; ++frame) {
    const sqlite3_int64 page_start = kFirstWalPage + frame * kFrameBytes;
    if (page_start >= end) break;
    const sqlite3_int64 page_end = page_start + kPage;
    if (page_end <= offset) continue;
    if (page_start >= offset && page_end <= end) {
      const bool whole_frame = page_start - kFrameHeaderBytes >= offset;
      if (!Unseal(f, Place::kLog, frame, out + (page_start - offset)) && !whole_frame) return SQLITE_IOERR_DATA;
      continue;
    }
    // A read of part of a page (SQLite does not make one): read the page whole.
    unsigned char* page = Scratch(f);
    if (page == nullptr) return SQLITE_IOERR_NOMEM;
    const int rc = RealMethods(f).xRead(f->real, page, kPage, page_start);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
    Unseal(f, Place::kLog, frame, page);
    const sqlite3_int64 from = std::max(offset, page_start);
    const sqlite3_int64 to = std::min(end, page_end);
    std::memcpy(out + (from - offset), page + (from - page_start), static_cast<std::size_t>(to - from));
  }
  return SQLITE_OK;
}

int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  File* f = Of(file);
  if (Overlaps(f, offset, amount)) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (!f->encrypted) return RealMethods(f).xRead(f->real, data, amount, offset);
  auto* out = static_cast<unsigned char*>(data);
  if (!f->wal) return ReadDatabase(f, out, amount, offset);
  const int rc = RealMethods(f).xRead(f->real, data, amount, offset);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
  if (int decrypted = DecryptLogPages(f, out, amount, offset); decrypted != SQLITE_OK) return decrypted;
  return rc;
}

// What an encrypted file is sent instead of `data`: a sealed copy of a page, or the bytes as they
// are (the log's headers). Null with *rc set for a write that is neither: SQLite writes pages
// whole and headers on their own, so this is refused rather than written in the clear.
const void* Encrypted(File* f, const void* data, int amount, sqlite3_int64 offset, int* rc) {
  *rc = SQLITE_OK;
  Place place = Place::kDatabase;
  sqlite3_int64 position = 0;
  if (!f->wal) {
    if (amount != kPage || offset % kPage != 0) {
      *rc = SQLITE_IOERR_WRITE;
      return nullptr;
    }
    position = offset / kPage + 1;
  } else {
    if (offset == 0 && amount == kWalHeaderBytes) {
      // The log's header names its page size: an encrypted log holds kPage-byte pages only.
      const auto* header = static_cast<const unsigned char*>(data);
      const std::uint32_t page_size = (std::uint32_t{header[8]} << 24) | (std::uint32_t{header[9]} << 16) |
                                      (std::uint32_t{header[10]} << 8) | header[11];
      if (page_size != kPage) *rc = SQLITE_IOERR_WRITE;
      return *rc == SQLITE_OK ? data : nullptr;
    }
    const sqlite3_int64 in_frame = offset < kWalHeaderBytes ? -1 : (offset - kWalHeaderBytes) % kFrameBytes;
    if (amount == kFrameHeaderBytes && in_frame == 0) return data;
    if (amount != kPage || in_frame != kFrameHeaderBytes) {
      *rc = SQLITE_IOERR_WRITE;
      return nullptr;
    }
    // The frame's checksum covers the page's reserved bytes as SQLite has them, and recovery
    // verifies it over the decrypted page, whose reserved bytes are zeros: a page that reached
    // SQLite through this VFS has them zero, and so does a new one. Anything else would be a
    // frame that recovery cannot read back, so it is refused here instead.
    const auto* reserved = static_cast<const unsigned char*>(data) + kSealed;
    if (!AllZero(reserved, reserved + kEncryptionReserveBytes)) {
      *rc = SQLITE_IOERR_WRITE;
      return nullptr;
    }
    place = Place::kLog;
    position = (offset - kWalHeaderBytes) / kFrameBytes;
  }
  unsigned char* page = Scratch(f);
  if (page == nullptr) {
    *rc = SQLITE_IOERR_NOMEM;
    return nullptr;
  }
  std::memcpy(page, data, kPage);
  if (!Seal(f, place, position, page)) {
    *rc = SQLITE_IOERR_NOMEM;
    return nullptr;
  }
  return page;
}

int Write(sqlite3_file* file, const void* plain, int amount, sqlite3_int64 offset) {
  File* f = Of(file);
  const void* data = plain;
  if (f->encrypted) {
    int rc = SQLITE_OK;
    data = Encrypted(f, plain, amount, offset, &rc);
    if (data == nullptr) return rc;
  }
  if (!f->wal) return RealMethods(f).xWrite(f->real, data, amount, offset);
  g_requested.fetch_add(1, std::memory_order_relaxed);
  // Taken before a flush clears it: this write may be the page of a commit frame.
  const bool completes_commit = f->commit_header;
  const bool append = f->length > 0 && offset == f->start + f->length && amount <= kBufferBytes - f->length;
  if (!append) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
    if (f->data == nullptr) f->data = static_cast<char*>(sqlite3_malloc(kBufferBytes));
    if (f->data == nullptr || amount > kBufferBytes) return WriteThrough(f, data, amount, offset);
    f->start = offset;
  }
  std::memcpy(f->data + f->length, data, static_cast<std::size_t>(amount));
  f->length += amount;
  if (completes_commit) return Flush(f);  // the transaction's last frame: it goes out now
  const auto* bytes = static_cast<const unsigned char*>(data);
  f->commit_header = amount == kFrameHeaderBytes && offset >= kWalHeaderBytes &&
                     (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return RealMethods(f).xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  File* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return RealMethods(f).xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  File* f = Of(file);
  if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  return RealMethods(f).xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) { return RealMethods(Of(file)).xLock(Of(file)->real, level); }
int Unlock(sqlite3_file* file, int level) { return RealMethods(Of(file)).xUnlock(Of(file)->real, level); }
int CheckReservedLock(sqlite3_file* file, int* out) {
  return RealMethods(Of(file)).xCheckReservedLock(Of(file)->real, out);
}
// The default VFS's descriptor of the file, or -1. Its file object starts with its methods, its
// VFS, its inode record and then the descriptor, a layout unchanged since SQLite 3.7; the
// descriptor is used only if it is the named file's.
int Descriptor(const File* f) {
  if (f->name == nullptr || std::strcmp(g_base->zName, "unix") != 0) return -1;
  struct UnixFilePrefix {
    const sqlite3_io_methods* methods;
    sqlite3_vfs* vfs;
    void* inode;
    int descriptor;
  };
  const int fd = reinterpret_cast<const UnixFilePrefix*>(f->real)->descriptor;
  struct stat open_file {};
  struct stat named {};
  if (fd < 0 || ::fstat(fd, &open_file) != 0 || ::stat(f->name, &named) != 0 ||
      open_file.st_dev != named.st_dev || open_file.st_ino != named.st_ino) {
    return -1;
  }
  return fd;
}

int WriteBackInSlices(const File* f) {
  const int fd = Descriptor(f);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) return SQLITE_NOTFOUND;
  constexpr off_t kSlices = 64;
  constexpr off_t kMinimum = 64 * 1024;
  const off_t slice = std::max(kMinimum, (st.st_size / kSlices + 4095) / 4096 * 4096);
  constexpr unsigned kFlags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  for (off_t from = 0; from < st.st_size; from += slice) {
    if (::sync_file_range(fd, from, slice, kFlags) != 0) return SQLITE_IOERR;
  }
  return SQLITE_OK;
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  if (op == kWriteBackInSlices) return WriteBackInSlices(Of(file));
  return RealMethods(Of(file)).xFileControl(Of(file)->real, op, arg);
}
int SectorSize(sqlite3_file* file) { return RealMethods(Of(file)).xSectorSize(Of(file)->real); }
int DeviceCharacteristics(sqlite3_file* file) {
  return RealMethods(Of(file)).xDeviceCharacteristics(Of(file)->real);
}
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  const auto& m = RealMethods(Of(file));
  return m.iVersion >= 2 && m.xShmMap ? m.xShmMap(Of(file)->real, region, size, extend, out) : SQLITE_IOERR;
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  const auto& m = RealMethods(Of(file));
  return m.iVersion >= 2 && m.xShmLock ? m.xShmLock(Of(file)->real, offset, n, flags) : SQLITE_IOERR;
}
void ShmBarrier(sqlite3_file* file) {
  const auto& m = RealMethods(Of(file));
  if (m.iVersion >= 2 && m.xShmBarrier) m.xShmBarrier(Of(file)->real);
}
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  const auto& m = RealMethods(Of(file));
  return m.iVersion >= 2 && m.xShmUnmap ? m.xShmUnmap(Of(file)->real, delete_flag) : SQLITE_OK;
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  File* f = Of(file);
  const auto& m = RealMethods(f);
  if (m.iVersion < 3 || m.xFetch == nullptr || f->encrypted || Overlaps(f, offset, amount)) {
    *out = nullptr;  // SQLite reads with xRead instead
    return SQLITE_OK;
  }
  return m.xFetch(f->real, offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  const auto& m = RealMethods(Of(file));
  return m.iVersion >= 3 && m.xUnfetch ? m.xUnfetch(Of(file)->real, offset, page) : SQLITE_OK;
}

const sqlite3_io_methods kMethods = {
    3,        Close,      Read,        Write,    Truncate, Sync,     FileSize,   Lock,
    Unlock,   CheckReservedLock,      FileControl,         SectorSize,         DeviceCharacteristics,
    ShmMap,   ShmLock,    ShmBarrier,  ShmUnmap, Fetch,    Unfetch,
};

int Open(sqlite3_vfs* /*vfs*/, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = Of(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->real->pMethods = nullptr;
  f->name = name;
  f->wal = (flags & SQLITE_OPEN_WAL) != 0;
  f->commit_header = false;
  f->length = 0;
  f->start = 0;
  f->data = nullptr;
  f->encrypted = false;
  f->page = nullptr;
  f->cipher = nullptr;
  if (name != nullptr && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0) {
    std::string database(name);
    if (f->wal && database.ends_with("-wal")) database.resize(database.size() - 4);
    if (auto key = KeyOf(database)) {
      f->encrypted = true;
      f->key = *key;
    }
  }
  const int rc = g_base->xOpen(g_base, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    return rc;
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

// The rest of the VFS is the default one's, called with the default VFS.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) { return g_base->xDelete(g_base, name, sync_dir); }
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_base->xFullPathname(g_base, name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void DlError(sqlite3_vfs*, int size, char* out) { g_base->xDlError(g_base, size, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return g_base->xDlSym(g_base, handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { g_base->xDlClose(g_base, handle); }
int Randomness(sqlite3_vfs*, int size, char* out) { return g_base->xRandomness(g_base, size, out); }
int Sleep(sqlite3_vfs*, int micros) { return g_base->xSleep(g_base, micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return g_base->xGetLastError ? g_base->xGetLastError(g_base, size, out) : 0;
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  if (g_base->iVersion >= 2 && g_base->xCurrentTimeInt64) return g_base->xCurrentTimeInt64(g_base, out);
  double days = 0;
  const int rc = g_base->xCurrentTime(g_base, &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

}  // namespace

int RegisterCoalescingVfs() {
  static std::once_flag once;
  static int result = SQLITE_ERROR;
  std::call_once(once, [] {
    // The first use of SQLite in the process, before it initializes: no memory statistics.
    // Keeping them makes every sqlite3_malloc and sqlite3_free take one process-wide mutex (and
    // free inside it), which the store's writer and every reader contend for; Rounds reads none.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });
    g_base = sqlite3_vfs_find(nullptr);
    if (g_base == nullptr) return;
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = kCoalescingVfsName;
    g_vfs.xOpen = Open;
    g_vfs.xDelete = Delete;
    g_vfs.xAccess = Access;
    g_vfs.xFullPathname = FullPathname;
    g_vfs.xDlOpen = DlOpen;
    g_vfs.xDlError = DlError;
    g_vfs.xDlSym = DlSym;
    g_vfs.xDlClose = DlClose;
    g_vfs.xRandomness = Randomness;
    g_vfs.xSleep = Sleep;
    g_vfs.xCurrentTime = CurrentTime;
    g_vfs.xGetLastError = GetLastError;
    g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
    result = sqlite3_vfs_register(&g_vfs, 0);
  });
  return result;
}

void SetDatabaseKey(const std::string& path, const DatabaseKey& key) {
  if (sodium_init() < 0) return;  // no entropy source: KeyOf finds nothing and opening fails later
  const std::string resolved = Resolved(path);
  std::lock_guard lock(g_keys_mu);
  Keys()[resolved] = key;
}

void ForgetDatabaseKey(const std::string& path) {
  const std::string resolved = Resolved(path);
  std::lock_guard lock(g_keys_mu);
  auto it = Keys().find(resolved);
  if (it == Keys().end()) return;
  sodium_memzero(it->second.data(), it->second.size());
  Keys().erase(it);
}

bool HasDatabaseKey(const std::string& path) { return KeyOf(path).has_value(); }

bool KeyOpensDatabase(const std::string& path, const DatabaseKey& key) {
  // Before anything here calls SQLite (the probe's scratch comes from sqlite3_malloc): the
  // registration configures SQLite before it first initializes.
  if (sodium_init() < 0 || RegisterCoalescingVfs() != SQLITE_OK) return false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char page[kPage];
  const ssize_t got = ::pread(fd, page, kPage, 0);
  ::close(fd);
  if (got != kPage || Unwritten(page)) return false;
  File probe{};
  probe.key = key;
  const bool opened = Unseal(&probe, Place::kDatabase, 1, page);
  ReleaseEncryption(&probe);
  sodium_memzero(page, sizeof page);
  return opened;
}

CoalescingVfsCounters CoalescingVfsCountersNow() {
  return {g_requested.load(std::memory_order_relaxed), g_issued.load(std::memory_order_relaxed),
          g_sealed.load(std::memory_order_relaxed), g_opened.load(std::memory_order_relaxed),
          g_rejected.load(std::memory_order_relaxed)};
}

}  // namespace rounds::store::sqlite
