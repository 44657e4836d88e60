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
// Thread safety: Register() may be called from any thread, any number of times. A file handle is
// used by one connection, which SQLite serializes.
#pragma once

#include <cstdint>

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

// Registers the VFS (not as the default) once per process. Returns a SQLite result code.
int RegisterCoalescingVfs();

// Counters over every file opened through the VFS, for tests and metrics.
struct CoalescingVfsCounters {
  std::uint64_t wal_writes_requested = 0;  // writes SQLite asked for on WAL files
  std::uint64_t wal_writes_issued = 0;     // writes passed to the file system for them
};
CoalescingVfsCounters CoalescingVfsCountersNow();

}  // namespace rounds::store::sqlite
