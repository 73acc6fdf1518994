#pragma once

#include <cstdint>

namespace zebros::storage::sqlite {

// The name of a VFS that wraps SQLite's default one and gathers the frames a transaction appends
// to its WAL in a buffer, written out in 64 KiB pieces (16 frames a call instead of two calls a
// frame: SQLite writes a frame's 24-byte header and its page apart, ~26 `pwrite` calls per
// created record, and on this kind of VM a system call is dear). Frames reach the file when
// SQLite syncs the WAL, which it does before it publishes a commit in the WAL index
// (synchronous=FULL), or sooner when it reads, sizes or truncates the file or the buffer is full:
// nothing another connection can see, and nothing acknowledged, is ever only in the buffer.
//
// Only for connections with synchronous=FULL: under NORMAL or OFF SQLite publishes commits
// without syncing the WAL, and readers could then look for frames still in the buffer.
// Registers the VFS on first use (thread-safe); returns its name.
const char* WalWriteBufferVfs();

// What the VFS has done since the process started, for tests and diagnostics.
struct WalWriteBufferCounts {
  std::uint64_t writes_taken = 0;   // WAL writes SQLite asked for
  std::uint64_t writes_passed = 0;  // buffers (or large writes) passed on to the file system
};
WalWriteBufferCounts WalWriteBufferCountsNow();

}  // namespace zebros::storage::sqlite
