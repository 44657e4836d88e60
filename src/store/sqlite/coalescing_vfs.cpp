#include "store/sqlite/coalescing_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

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
};
static_assert(sizeof(File) % 8 == 0, "the default VFS's file follows a File in one allocation");

File* Of(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
const sqlite3_io_methods& RealMethods(const File* f) { return *f->real->pMethods; }

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
  return flushed != SQLITE_OK ? flushed : closed;
}

int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  File* f = Of(file);
  if (Overlaps(f, offset, amount)) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  return RealMethods(f).xRead(f->real, data, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = Of(file);
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
  if (m.iVersion < 3 || m.xFetch == nullptr || Overlaps(f, offset, amount)) {
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

CoalescingVfsCounters CoalescingVfsCountersNow() {
  return {g_requested.load(std::memory_order_relaxed), g_issued.load(std::memory_order_relaxed)};
}

}  // namespace rounds::store::sqlite
