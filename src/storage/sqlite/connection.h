#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

namespace zebros::storage::sqlite {

// A prepared statement borrowed from a Connection's cache. Resets and clears bindings when it
// goes out of scope, so the cached statement is ready for its next user. Not thread-safe (nor is
// the Connection it came from).
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  ~Statement();

  // Parameters are 1-based, as in SQLite.
  void BindNull(int index);
  void BindInt(int index, std::int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, std::string_view value);  // copied by SQLite

  // Returns true when a row is ready, false when done; an error otherwise.
  core::Result<bool> Step();

  int ColumnCount() const { return sqlite3_column_count(stmt_); }
  int ColumnType(int column) const { return sqlite3_column_type(stmt_, column); }
  bool IsNull(int column) const { return ColumnType(column) == SQLITE_NULL; }
  std::int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  double Double(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string_view Text(int column) const;

 private:
  sqlite3_stmt* stmt_;
};

// Owns one sqlite3 handle and a bounded cache of prepared statements keyed by SQL text.
// One thread at a time.
class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // Opens (creating when kReadWrite) the database at `path` with WAL, foreign keys off (tenancy is
  // enforced in queries), a busy timeout so a CLI and a running server can share the file.
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results.
  core::Status Exec(std::string_view sql);
  // Returns the cached statement for `sql`, preparing it on first use.
  core::Result<Statement> Prepare(const std::string& sql);
  std::int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* handle() { return db_; }

  // Builds an error from the connection's last failure; `what` names the operation for logs.
  core::Error LastError(std::string_view what) const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  struct CacheEntry {
    sqlite3_stmt* stmt;
    std::list<std::string>::iterator lru_position;
  };
  static constexpr std::size_t kStatementCacheSize = 256;

  sqlite3* db_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::list<std::string> lru_;  // most recent first
};

// RAII transaction on a Connection: BEGIN IMMEDIATE on construction, ROLLBACK unless Commit().
class Transaction {
 public:
  static core::Result<std::unique_ptr<Transaction>> Begin(Connection& connection);
  ~Transaction();
  core::Status Commit();

 private:
  explicit Transaction(Connection& connection) : connection_(connection) {}
  Connection& connection_;
  bool done_ = false;
};

}  // namespace zebros::storage::sqlite
