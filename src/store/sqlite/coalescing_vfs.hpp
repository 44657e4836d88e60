// A SQLite VFS that writes each transaction's write-ahead log frames in one system call.
//
// SQLite appends a transaction to the WAL one frame at a time, each frame as two writes (a
// 24-byte header, then the page), so a commit that touches 20 pages costs 40 pwrite calls before
// its sync. On a virtual machine a system call is expensive, and the store's single writer spent
// a quarter of its time in them. This VFS wraps the default one and, for WAL files only, gathers
// consecutive appends in a buffer that it writes with one call:
//   - when the frame that commits a transaction is complete (its header carries the database
//     size), so a commit reaches the file before SQLite publishes it to readers, whatever the
//     synchronous setting;
//   - before any sync, read, truncate, size query or close of the file;
//   - when a write is not the next append (SQLite rewrites a frame of the open transaction in
//     place) or the buffer (just under 128 KiB, what the default VFS writes in one call) is full.
// Nothing is acknowledged from the buffer: a commit returns only after its frames were written
// (and, with synchronous=FULL, synced). A process killed with frames in the buffer loses only a
// transaction that had not committed, which SQLite's recovery ignores like any torn tail.
// Every other file (the database, its shared memory) passes straight through.
//
// It also encrypts, for a database whose key was given with SetDatabaseKey(): every page of the
// database file and every page in its write-ahead log is sealed with XChaCha20-Poly1305 (IETF, as
// libsodium's; random 192-bit nonce, 16-byte tag) in the last kEncryptionReserveBytes of the page, which SQLite
// reserves and never uses (SQLITE_FCNTL_RESERVE_BYTES, set when the database is created). The
// associated data binds a page to its place: the database's page number, or the log's frame
// number, so pages cannot be swapped or moved between the two. What stays readable is what
// holds no content: the log's 32-byte header and each frame's 24-byte header (page number,
// database size, salts and checksums), and the shared-memory index. A database page that fails
// authentication is an I/O error (SQLITE_IOERR_DATA), never wrong data; a log page that fails is
// handed to SQLite as it is, so that SQLite's own checksums end the log there, as they do at a
// torn write after a crash. Encrypted files are never memory-mapped.
//
// Thread safety: Register() may be called from any thread, any number of times. A file handle is
// used by one connection, which SQLite serializes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>

namespace rounds::store::sqlite {

// The VFS's name, for sqlite3_open_v2. Register() must have succeeded first.
inline constexpr char kCoalescingVfsName[] = "rounds-coalescing";

// A file control of this VFS, for sqlite3_file_control(db, "main", kWriteBackInSlices, nullptr):
// starts the write of the database file's changed pages one slice of the file at a time (64
// slices, at least 64 KiB each), waiting for each, and does not sync. A sync that finds a few
// hundred changed pages scattered over the file writes them all at once and fills the disk's
// queue, and every sync of the write-ahead log then waits behind them; written a slice at a time,
// only a few are ever queued ahead of it. SQLITE_OK, SQLITE_NOTFOUND when the file's descriptor
// cannot be found (another default VFS than unix), SQLITE_IOERR when the kernel refused.
inline constexpr int kWriteBackInSlices = 0x524F0001;

// Page size of an encrypted database (SQLite's default), and the bytes reserved at the end of each
// of its pages for the nonce and the tag.
inline constexpr int kEncryptedPageBytes = 4096;
inline constexpr int kEncryptionReserveBytes = 40;

using DatabaseKey = std::array<unsigned char, 32>;

// From now on, in this process, files of the database at `path` (and its write-ahead log) opened
// through this VFS are encrypted under `key`. Files already open keep what they had. The path is
// compared after resolving it, so any spelling of it names the same database.
void SetDatabaseKey(const std::string& path, const DatabaseKey& key);
// Undoes SetDatabaseKey for `path` (a database that is removed or moved away).
void ForgetDatabaseKey(const std::string& path);
// Whether files of the database at `path` are encrypted when opened.
bool HasDatabaseKey(const std::string& path);

// SetDatabaseKey for as long as it lives (a backup or a copy being written), ForgetDatabaseKey
// after.
class ScopedDatabaseKey {
 public:
  ScopedDatabaseKey(std::string path, const DatabaseKey& key) : path_(std::move(path)) { SetDatabaseKey(path_, key); }
  ~ScopedDatabaseKey() { ForgetDatabaseKey(path_); }
  ScopedDatabaseKey(const ScopedDatabaseKey&) = delete;
  ScopedDatabaseKey& operator=(const ScopedDatabaseKey&) = delete;

 private:
  std::string path_;
};
// Whether the first page of the database file at `path` authenticates under `key` (read directly,
// not through SQLite). False for a missing, short or plain file too.
bool KeyOpensDatabase(const std::string& path, const DatabaseKey& key);

// Registers the VFS (not as the default) once per process. Returns a SQLite result code.
int RegisterCoalescingVfs();

// Counters over every file opened through the VFS, for tests and metrics.
struct CoalescingVfsCounters {
  std::uint64_t wal_writes_requested = 0;  // writes SQLite asked for on WAL files
  std::uint64_t wal_writes_issued = 0;     // writes passed to the file system for them
  std::uint64_t pages_sealed = 0;          // pages encrypted on their way to a file
  std::uint64_t pages_opened = 0;          // pages decrypted and authenticated on their way in
  std::uint64_t pages_rejected = 0;        // pages that failed authentication
};
CoalescingVfsCounters CoalescingVfsCountersNow();

}  // namespace rounds::store::sqlite
