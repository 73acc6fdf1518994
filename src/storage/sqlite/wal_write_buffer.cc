#include "storage/sqlite/wal_write_buffer.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <vector>

namespace zebros::storage::sqlite {
namespace {

// Large enough for a group commit of a few hundred records' frames; a larger transaction's frames
// go out in writes of this size.
constexpr std::size_t kBufferBytes = std::size_t{4} << 20;

std::atomic<std::uint64_t> writes_taken{0};
std::atomic<std::uint64_t> writes_passed{0};

// Frames appended and not yet written: bytes[0] belongs at file offset `start`.
struct Buffer {
  std::vector<unsigned char> bytes;
  sqlite3_int64 start = 0;
};

// What SQLite allocates for each open file (szOsFile bytes): this, then the wrapped VFS's file.
struct File {
  sqlite3_file base;   // first: SQLite sees only this
  sqlite3_file* real;  // the wrapped VFS's file, in the same allocation after this struct
  Buffer* buffer;      // WAL files only; null for every other file
};
constexpr std::size_t kRealOffset = (sizeof(File) + 15) & ~std::size_t{15};

File* Cast(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return Cast(file)->real; }
sqlite3_vfs* Base(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// SQLite's unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length: it never writes
// more than a page), so the buffer goes out in pieces of 64 KiB, 16 pages.
constexpr std::size_t kPieceBytes = std::size_t{64} << 10;

int PassWrite(sqlite3_file* real, const void* data, std::size_t amount, sqlite3_int64 offset) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  writes_passed.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t done = 0; done < amount;) {
    const std::size_t piece = std::min(kPieceBytes, amount - done);
    const int rc = real->pMethods->xWrite(real, bytes + done, static_cast<int>(piece),
                                          offset + static_cast<sqlite3_int64>(done));
    if (rc != SQLITE_OK) return rc;
    done += piece;
  }
  return SQLITE_OK;
}

// Writes the buffered frames out. The buffer is emptied whatever the outcome: after a failed
// write SQLite rolls the transaction back and writes its next frames over the same offsets.
int Flush(sqlite3_file* file) {
  Buffer* buffer = Cast(file)->buffer;
  if (buffer == nullptr || buffer->bytes.empty()) return SQLITE_OK;
  const int rc = PassWrite(Real(file), buffer->bytes.data(), buffer->bytes.size(), buffer->start);
  buffer->bytes.clear();
  return rc;
}

int Close(sqlite3_file* file) {
  const int flushed = Flush(file);
  sqlite3_file* real = Real(file);
  const int closed = real->pMethods->xClose(real);
  delete Cast(file)->buffer;
  Cast(file)->buffer = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int Read(sqlite3_file* file, void* data, int amount, sqlite3_int64 offset) {
  if (const int rc = Flush(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xRead(Real(file), data, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  Buffer* buffer = Cast(file)->buffer;
  if (buffer == nullptr) return Real(file)->pMethods->xWrite(Real(file), data, amount, offset);
  writes_taken.fetch_add(1, std::memory_order_relaxed);
  const auto size = static_cast<std::size_t>(amount);
  auto& bytes = buffer->bytes;
  const sqlite3_int64 end = buffer->start + static_cast<sqlite3_int64>(bytes.size());
  const auto* source = static_cast<const unsigned char*>(data);
  if (!bytes.empty() && offset >= buffer->start && offset + amount <= end) {
    // A frame of this transaction written again (SQLite rewrites a spilled page's frame).
    std::memcpy(bytes.data() + (offset - buffer->start), source, size);
    return SQLITE_OK;
  }
  if (!bytes.empty() && offset == end && bytes.size() + size <= kBufferBytes) {
    bytes.insert(bytes.end(), source, source + size);
    return SQLITE_OK;
  }
  if (const int rc = Flush(file); rc != SQLITE_OK) return rc;
  if (size >= kBufferBytes) return PassWrite(Real(file), data, size, offset);
  buffer->start = offset;
  bytes.assign(source, source + size);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (const int rc = Flush(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xTruncate(Real(file), size);
}

int Sync(sqlite3_file* file, int flags) {
  if (const int rc = Flush(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xSync(Real(file), flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  if (const int rc = Flush(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileSize(Real(file), size);
}

int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  if (const int rc = Flush(file); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}

int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}

// Shared memory and memory-mapped reads belong to the database file, never buffered: forwarded
// as they are, when the wrapped file has them.
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_IOERR;
  return real->pMethods->xShmMap(real, region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_IOERR;
  return real->pMethods->xShmLock(real, offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion >= 2) real->pMethods->xShmBarrier(real);
}
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 2) return SQLITE_OK;
  return real->pMethods->xShmUnmap(real, delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  sqlite3_file* real = Real(file);
  *out = nullptr;
  if (real->pMethods->iVersion < 3) return SQLITE_OK;  // no mapping: SQLite reads instead
  if (const int rc = Flush(file); rc != SQLITE_OK) return rc;
  return real->pMethods->xFetch(real, offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  sqlite3_file* real = Real(file);
  if (real->pMethods->iVersion < 3) return SQLITE_OK;
  return real->pMethods->xUnfetch(real, offset, page);
}

const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  File* wrapper = Cast(file);
  wrapper->base.pMethods = nullptr;
  wrapper->buffer = nullptr;
  wrapper->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  wrapper->real->pMethods = nullptr;
  sqlite3_vfs* base = Base(vfs);
  const int rc = base->xOpen(base, name, wrapper->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite closes a file whose open failed only when its methods are set; ours are not.
    if (wrapper->real->pMethods != nullptr) wrapper->real->pMethods->xClose(wrapper->real);
    return rc;
  }
  if ((flags & SQLITE_OPEN_WAL) != 0) {
    // The whole buffer now: a write then never allocates, so nothing throws through SQLite.
    wrapper->buffer = new (std::nothrow) Buffer;
    try {
      if (wrapper->buffer != nullptr) wrapper->buffer->bytes.reserve(kBufferBytes);
    } catch (const std::bad_alloc&) {
      delete wrapper->buffer;
      wrapper->buffer = nullptr;
    }
    if (wrapper->buffer == nullptr) {
      wrapper->real->pMethods->xClose(wrapper->real);
      return SQLITE_NOMEM;
    }
  }
  wrapper->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Base(vfs)->xDelete(Base(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Base(vfs)->xAccess(Base(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return Base(vfs)->xFullPathname(Base(vfs), name, size, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) { return Base(vfs)->xDlOpen(Base(vfs), name); }
void DlError(sqlite3_vfs* vfs, int size, char* out) { Base(vfs)->xDlError(Base(vfs), size, out); }
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Base(vfs)->xDlSym(Base(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { Base(vfs)->xDlClose(Base(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int size, char* out) {
  return Base(vfs)->xRandomness(Base(vfs), size, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return Base(vfs)->xSleep(Base(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) { return Base(vfs)->xCurrentTime(Base(vfs), out); }
int GetLastError(sqlite3_vfs* vfs, int size, char* out) {
  return Base(vfs)->xGetLastError(Base(vfs), size, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Base(vfs)->xCurrentTimeInt64(Base(vfs), out);
}

constexpr const char* kName = "zebros-wal-buffer";

const char* Register() {
  static sqlite3_vfs vfs{};
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(kRealOffset) + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = kName;
  vfs.pAppData = base;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(&vfs, 0);
  return kName;
}

}  // namespace

const char* WalWriteBufferVfs() {
  static const char* const name = Register();
  return name;
}

WalWriteBufferCounts WalWriteBufferCountsNow() {
  return {writes_taken.load(std::memory_order_relaxed),
          writes_passed.load(std::memory_order_relaxed)};
}

}  // namespace zebros::storage::sqlite
