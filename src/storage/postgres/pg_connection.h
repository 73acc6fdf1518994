#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "storage/postgres/pg_rows.h"
#include "storage/sql/session.h"

namespace zebros::storage::postgres {

// How a connection to PostgreSQL behaves. Plain data.
struct PgOptions {
  // Seconds to wait for the server when connecting (libpq `connect_timeout`).
  int connect_timeout_s = 5;
  // Milliseconds after which the server cancels a statement (SQLSTATE 57014 → kUnavailable).
  int statement_timeout_ms = 10000;
  // For statements whose planning costs as much as running them (ranked search: see
  // PgDatabase::SearchReader): plan_cache_mode = force_generic_plan, so prepared statements are
  // planned once; and max_parallel_workers_per_gather = 0, because a plan made once for every
  // search term may call for parallel workers, whose start alone costs more than a search (one
  // tried for search, docs/performance.md: 75 ms with two workers, 1 ms without).
  bool search_plans = false;
  // How long past the statement timeout a client waits for the server's answer before it takes
  // the server for hung (stopped, or its host gone while the kernel still acknowledges) and the
  // connection for lost: the server cancels a statement itself, so an answer later than this is
  // one that will not come.
  int answer_grace_ms = 5000;
};

// How long a client waits for the answer to a statement: statement timeout + grace.
std::chrono::milliseconds AnswerLimit(const PgOptions& options);

// What a statement does to the session's statement timeout, as far as the client must know:
// sets it (`SET [LOCAL] statement_timeout …`, for the session or the transaction) or gives it
// back (`RESET statement_timeout`). Pure.
enum class TimeoutSetting { kUnchanged, kSetForSession, kSetForTransaction, kReset };
TimeoutSetting StatementTimeoutSetting(std::string_view sql);

// `sql` with each `?` placeholder replaced by `$1`, `$2`, … in order. A `?` inside a
// single-quoted literal, a double-quoted identifier or a comment is left as it is. Pure.
std::string ToDollarPlaceholders(std::string_view sql);

// The one mapping of a libpq failure to an Error. `result` may be null (no result: the
// connection failed). `what` names the operation for the logs; `detail` carries it, the SQLSTATE
// and the server's primary message, never the parameter values of a statement (they may be PII):
// the DETAIL lines (which quote the offending row or key) are left out, and so are the quoted
// values in the messages of data exceptions (SQLSTATE class 22).
//   23505                                   → kConflict    "conflict"
//   40001, 40P01                            → kConflict    "write_conflict"
//   connection lost, class 08, 57P01..57P03,
//   no result, 57014 (statement timeout)    → kUnavailable "database_unavailable"
//   anything else                           → kUnavailable "database_error"
core::Error PgError(PGconn* conn, const PGresult* result, std::string_view what);
// kUnavailable "database_unavailable" with `detail` for the logs: what every caller tells a
// client when the server cannot be reached or did not answer.
core::Error DatabaseUnavailable(std::string detail);

class PgConnection;

// A prepared statement of a PgConnection, owned by its cache. Parameters travel as text (the
// server infers their types from the SQL); results arrive as text and are parsed on reading.
// The whole result of a statement is fetched by the first Step(). Not thread-safe.
class PgStatement final : public PgRowsStatement {
 public:
  PgStatement(PgConnection& connection, std::string name, int parameter_count);
  ~PgStatement() override;
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  core::Result<bool> Step() override;
  void Reset() override;

  const std::string& name() const { return name_; }

 private:
  PgConnection& connection_;
  const std::string name_;
};

// One connection to PostgreSQL (RAII over PGconn) with a bounded LRU cache of prepared
// statements keyed by SQL text. Used by one thread at a time; may move between threads.
class PgConnection final : public sql::Session {
 public:
  // Connects to `url` (a postgres:// URL or key=value string, honoured as given; the options of
  // the URL are kept, ours are prepended) with `options`, TCP keepalives,
  // tcp_user_timeout=10000 and application_name=zebros, then sets the session's time zone to
  // UTC. kUnavailable "database_unavailable" when the server cannot be reached; the detail never
  // holds the URL (it may carry a password).
  static core::Result<std::unique_ptr<PgConnection>> Open(const std::string& url,
                                                          const PgOptions& options);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  // Runs one or more statements (as PQexec); rows they return are dropped. This and every other
  // statement wait for the server's answer at most AnswerLimit (see PgOptions::answer_grace_ms),
  // unless the session's statement timeout was set by a statement.
  core::Status Exec(std::string_view sql) override;
  // The cached statement for `sql` (with `?` placeholders), prepared on first use under the name
  // "z<counter>". The least recently used of more than 256 is DEALLOCATEd.
  core::Result<sql::Statement> Prepare(const std::string& sql) override;
  // Rows inserted, updated or deleted by the last INSERT, UPDATE, DELETE or MERGE run on this
  // connection (a SELECT leaves it as it was, as in SQLite).
  std::int64_t Changes() const override { return changes_; }
  // Sends the kept writes (Session::RunOrDefer) in one round trip.
  core::Status RunDeferred() override;

  // The connection is lost (PQstatus is not CONNECTION_OK); it will not come back.
  bool Broken() const;
  // A transaction is open (or failed and not yet rolled back), or the state is unknown.
  bool InTransaction() const;
  // A transaction failed and awaits ROLLBACK: a COMMIT now would silently roll back.
  bool InFailedTransaction() const;
  // Reads what the server sent while the connection was idle, without blocking; false when
  // the server closed it (terminated backend, restart). A cheap check before reuse.
  bool CheckAlive();
  // The server's process id of this session (for tests and logs).
  int BackendPid() const;

  PGconn* handle() { return conn_; }

 private:
  friend class PgStatement;
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  PgConnection(PGconn* conn, std::chrono::milliseconds answer_limit)
      : conn_(conn), answer_limit_(answer_limit) {}
  // When the answer to a statement sent now must have come: none while the session's statement
  // timeout is its own (set by a statement: the client does not guess how long it may run).
  Deadline AnswerDeadline() const;
  // Follows what `sql`, about to be sent, does to the statement timeout; and forgets a setting
  // for a transaction once none is open.
  void NoteTimeoutSetting(std::string_view sql);
  // Waits until the next result can be read without blocking, at most until `deadline`. Past it
  // the connection is unusable and the error is kUnavailable "database_unavailable".
  core::Status AwaitResult(const Deadline& deadline, std::string_view what);
  // Every result of what was just sent, read within its answer deadline, kept as PQexec keeps
  // them: the first error's, else the last one. Null when none came.
  core::Result<PgResultPtr> CollectResults(std::string_view what);
  // Records the row count of a finished command for Changes().
  void NoteCommand(PGresult* result);
  // The cached statement for `sql`, prepared on first use (see Prepare).
  core::Result<PgStatement*> Cached(const std::string& sql);

  // What a pipeline sends after the kept writes: a prepared statement and its parameter values,
  // or (no name) one statement without parameters.
  struct Outgoing {
    std::string_view name;
    std::string_view sql;
    const std::vector<const char*>* values = nullptr;
  };
  // Sends `writes`, then `current` (if any), and a sync, in pipeline mode: one round trip. Each
  // write is run prepared, one without parameters as is. Returns the result of `current` (null
  // without one). A failed write fails `current` too (it never runs) and marks the session
  // (Session::DeferredWriteFailed).
  core::Result<PgResultPtr> Pipeline(std::vector<sql::DeferredWrite> writes,
                                     const Outgoing* current);

  struct CacheEntry {
    std::unique_ptr<PgStatement> statement;
    std::list<std::string>::iterator lru_position;
  };
  static constexpr std::size_t kStatementCacheSize = 256;

  PGconn* conn_;
  // AnswerLimit of the options, or zero when the URL's options set the statement timeout.
  const std::chrono::milliseconds answer_limit_;
  TimeoutSetting timeout_ = TimeoutSetting::kReset;
  // Left in an unknown protocol state (a pipeline broke off, an answer did not come): never
  // reused.
  bool unusable_ = false;
  std::int64_t changes_ = 0;
  std::uint64_t next_statement_ = 1;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::list<std::string> lru_;  // most recent first
};

}  // namespace zebros::storage::postgres
