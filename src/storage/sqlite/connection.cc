#include "storage/sqlite/connection.h"

#include "storage/sqlite/search_rank.h"
#include "storage/sqlite/wal_write_buffer.h"

namespace zebros::storage::sqlite {

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void SqliteStatement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }
void SqliteStatement::BindInt(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
}
void SqliteStatement::BindDouble(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
}
void SqliteStatement::BindText(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
}

core::Result<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  const bool constraint = (rc & 0xFF) == SQLITE_CONSTRAINT;
  return core::MakeError(constraint ? core::Code::kConflict : core::Code::kUnavailable,
                         constraint ? "conflict" : "database_error",
                         constraint ? "A record with the same unique value already exists."
                                    : "The database could not complete the request.",
                         std::string("sqlite step: ") + sqlite3_errmsg(db));
}

sql::ColumnKind SqliteStatement::Kind(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_NULL:
      return sql::ColumnKind::kNull;
    case SQLITE_INTEGER:
      return sql::ColumnKind::kInt;
    case SQLITE_FLOAT:
      return sql::ColumnKind::kDouble;
    default:
      return sql::ColumnKind::kText;
  }
}

std::string_view SqliteStatement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

core::Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode) {
  // Before the library's first use: no memory statistics, so no process-wide mutex around every
  // allocation SQLite makes (the reader threads and the writer queued on it). Nothing here reads
  // the statistics or sets a heap limit. Fails harmlessly when SQLite is initialised already.
  static const int kConfigured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)kConfigured;
  sqlite3* db = nullptr;
  const int flags = (mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY
                                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                    SQLITE_OPEN_NOMUTEX;
  // Connections that write gather each transaction's WAL frames in a buffer (they all run with
  // synchronous=FULL, which that needs: see wal_write_buffer.h).
  const char* vfs = mode == Mode::kReadOnly ? nullptr : WalWriteBufferVfs();
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return core::MakeError(core::Code::kUnavailable, "database_unavailable",
                           "The database could not be opened.", "open " + path + ": " + message);
  }
  std::unique_ptr<Connection> connection(new Connection(db));
  sqlite3_busy_timeout(db, 10000);
  sqlite3_extended_result_codes(db, 1);
  // NORMAL would survive a process crash too, but FULL also survives power loss; group commit
  // in the writer amortises the extra fsync. Caches: 64 MiB for the writer (index pages of bulk
  // inserts), 24 MiB per reader (one per I/O thread: the hot pages of lists and lookups), which
  // with the API's page cache (32 MiB by default) keeps the process under 200 MiB with a million
  // contacts (measured peak 198.5 MiB with 32 MiB readers: too close).
  auto status = connection->Exec(
      mode == Mode::kReadOnly
          ? "PRAGMA cache_size=-24576; PRAGMA temp_store=MEMORY;"
          : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-65536;"
            " PRAGMA temp_store=MEMORY;"
            // A connection that commits checkpoints after its commits from 4,000 WAL frames on,
            // between transactions, so the checkpoints complete and the WAL wraps around. The
            // server's writer hands most of that work to a thread of its own (checkpointer.h).
            " PRAGMA wal_autocheckpoint=4000;");
  if (!status.ok()) return std::move(status).error();
  status = RegisterSearchRank(db);
  if (!status.ok()) return std::move(status).error();
  return connection;
}

Connection::~Connection() {
  cache_.clear();  // finalizes the statements before the handle closes
  sqlite3_close_v2(db_);
}

core::Status Connection::Exec(std::string_view sql) {
  NoteControlStatement(sql);
  char* message = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string detail = message ? message : "unknown";
    sqlite3_free(message);
    const bool constraint = (sqlite3_errcode(db_) & 0xFF) == SQLITE_CONSTRAINT;
    return core::MakeError(constraint ? core::Code::kConflict : core::Code::kUnavailable,
                           constraint ? "conflict" : "database_error",
                           "The database could not complete the request.", "exec: " + detail);
  }
  return core::OkStatus();
}

core::Result<Statement> Connection::Prepare(const std::string& sql) {
  auto found = cache_.find(sql);
  if (found != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second.lru_position);
    return Statement(found->second.stmt.get());
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return LastError("prepare");
  }
  if (cache_.size() >= kStatementCacheSize) {
    auto victim = cache_.find(lru_.back());
    cache_.erase(victim);
    lru_.pop_back();
  }
  lru_.push_front(sql);
  auto owned = std::make_unique<SqliteStatement>(stmt);
  SqliteStatement* raw = owned.get();
  cache_.emplace(sql, CacheEntry{std::move(owned), lru_.begin()});
  return Statement(raw);
}

core::Error Connection::LastError(std::string_view what) const {
  return core::MakeError(core::Code::kUnavailable, "database_error",
                         "The database could not complete the request.",
                         std::string(what) + ": " + sqlite3_errmsg(db_));
}

core::Result<std::unique_ptr<Transaction>> Transaction::Begin(Connection& connection) {
  auto status = connection.Exec("BEGIN IMMEDIATE");
  if (!status.ok()) return std::move(status).error();
  return std::unique_ptr<Transaction>(new Transaction(connection));
}

Transaction::~Transaction() {
  if (!done_) (void)connection_.Exec("ROLLBACK");
}

core::Status Transaction::Commit() {
  auto status = connection_.Exec("COMMIT");
  if (status.ok()) done_ = true;
  return status;
}

}  // namespace zebros::storage::sqlite
