#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "storage/sql/session.h"

namespace zebros::storage::sqlite {

// One cached sqlite3 statement (see sql::Statement, which borrows it).
class SqliteStatement final : public sql::StatementImpl {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement() override;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  void BindNull(int index) override;
  void BindInt(int index, std::int64_t value) override;
  void BindDouble(int index, double value) override;
  void BindText(int index, std::string_view value) override;
  core::Result<bool> Step() override;
  int ColumnCount() const override { return sqlite3_column_count(stmt_); }
  sql::ColumnKind Kind(int column) const override;
  bool IsNull(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  std::int64_t Int(int column) const override { return sqlite3_column_int64(stmt_, column); }
  double Double(int column) const override { return sqlite3_column_double(stmt_, column); }
  std::string_view Text(int column) const override;
  void Reset() override;

 private:
  sqlite3_stmt* stmt_;
};

using sql::Statement;

// Owns one sqlite3 handle and a bounded cache of prepared statements keyed by SQL text.
// One thread at a time.
class Connection final : public sql::Session {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // Opens (creating when kReadWrite) the database at `path` with WAL, foreign keys off (tenancy is
  // enforced in queries), a busy timeout so a CLI and a running server can share the file.
  static core::Result<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
  core::Status Exec(std::string_view sql) override;
  core::Result<Statement> Prepare(const std::string& sql) override;
  std::int64_t Changes() const override { return sqlite3_changes(db_); }
  sqlite3* handle() { return db_; }

  // Builds an error from the connection's last failure; `what` names the operation for logs.
  core::Error LastError(std::string_view what) const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  struct CacheEntry {
    std::unique_ptr<SqliteStatement> stmt;
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
