#include "storage/postgres/pg_connection.h"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <optional>
#include <variant>

namespace zebros::storage::postgres {
namespace {

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The messages of data exceptions quote the offending value ('invalid input syntax for type
// bigint: "…"'), which may be a parameter: the quoted parts are left out of the logs.
std::string WithoutQuotedParts(std::string_view message) {
  std::string out;
  bool quoted = false;
  for (char c : message) {
    if (c == '"') {
      out += quoted ? "\"" : "\"…";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return out;
}

std::string ConvertPlaceholders(std::string_view sql, int& count) {
  enum class State { kCode, kLiteral, kIdentifier, kLineComment, kBlockComment };
  std::string out;
  out.reserve(sql.size() + 16);
  count = 0;
  State state = State::kCode;
  int depth = 0;  // PostgreSQL's block comments nest
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    switch (state) {
      case State::kCode:
        if (c == '?') {
          out += '$';
          out += std::to_string(++count);
          continue;
        }
        if (c == '\'') {
          state = State::kLiteral;
        } else if (c == '"') {
          state = State::kIdentifier;
        } else if (c == '-' && next == '-') {
          state = State::kLineComment;
        } else if (c == '/' && next == '*') {
          state = State::kBlockComment;
          depth = 1;
          out += "/*";
          ++i;
          continue;
        }
        break;
      // A doubled quote inside a literal or identifier leaves and re-enters it at once.
      case State::kLiteral:
        if (c == '\'') state = State::kCode;
        break;
      case State::kIdentifier:
        if (c == '"') state = State::kCode;
        break;
      case State::kLineComment:
        if (c == '\n') state = State::kCode;
        break;
      case State::kBlockComment:
        if ((c == '*' && next == '/') || (c == '/' && next == '*')) {
          depth += c == '/' ? 1 : -1;
          out += c;
          out += next;
          ++i;
          if (depth == 0) state = State::kCode;
          continue;
        }
        break;
    }
    out += c;
  }
  return out;
}

bool IsRowCountCommand(std::string_view status) {
  return status.starts_with("INSERT ") || status.starts_with("UPDATE ") ||
         status.starts_with("DELETE ") || status.starts_with("MERGE ");
}

}  // namespace

core::Error DatabaseUnavailable(std::string detail) {
  return core::MakeError(core::Code::kUnavailable, "database_unavailable",
                         "The database is unavailable; retry shortly.", std::move(detail));
}

std::chrono::milliseconds AnswerLimit(const PgOptions& options) {
  return std::chrono::milliseconds(options.statement_timeout_ms) +
         std::chrono::milliseconds(options.answer_grace_ms);
}

TimeoutSetting StatementTimeoutSetting(std::string_view sql) {
  std::string lowered(sql);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::size_t at = lowered.find("statement_timeout");
  if (at == std::string::npos) return TimeoutSetting::kUnchanged;
  // The words before it: "reset", "set local" or "set" (any run of spaces between).
  const auto trimmed = [](std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
      text.remove_suffix(1);
    }
    return text;
  };
  const std::string_view before = trimmed(std::string_view(lowered).substr(0, at));
  if (before.ends_with("reset")) return TimeoutSetting::kReset;
  if (before.ends_with("local") && trimmed(before.substr(0, before.size() - 5)).ends_with("set")) {
    return TimeoutSetting::kSetForTransaction;
  }
  if (before.ends_with("set")) return TimeoutSetting::kSetForSession;
  return TimeoutSetting::kUnchanged;  // named, not set: SHOW, current_setting(…)
}

std::string ToDollarPlaceholders(std::string_view sql) {
  int count = 0;
  return ConvertPlaceholders(sql, count);
}

core::Error PgError(PGconn* conn, const PGresult* result, std::string_view what) {
  const char* state_field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_field ? state_field : "";
  // The primary message only: the DETAIL lines quote rows and keys (`Key (email)=(…)`).
  const char* primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary ? primary : (conn ? PQerrorMessage(conn) : "no connection");
  if (state.starts_with("22")) message = WithoutQuotedParts(message);
  std::string detail = std::string(what) + ": ";
  if (!state.empty()) detail += "SQLSTATE " + state + ": ";
  detail += Trimmed(std::move(message));

  if (state == "23505") {
    return core::MakeError(core::Code::kConflict, "conflict",
                           "A record with the same unique value already exists.",
                           std::move(detail));
  }
  if (state == "40001" || state == "40P01") {
    return core::MakeError(core::Code::kConflict, "write_conflict",
                           "The write collided with another; retry.", std::move(detail));
  }
  const bool lost = conn == nullptr || result == nullptr || PQstatus(conn) != CONNECTION_OK ||
                    state.starts_with("08") || state == "57P01" || state == "57P02" ||
                    state == "57P03";
  if (lost || state == "57014") return DatabaseUnavailable(std::move(detail));
  return core::MakeError(core::Code::kUnavailable, "database_error",
                         "The database could not complete the request.", std::move(detail));
}

PgStatement::PgStatement(PgConnection& connection, std::string name, int parameter_count)
    : PgRowsStatement(parameter_count), connection_(connection), name_(std::move(name)) {}

PgStatement::~PgStatement() = default;

core::Result<bool> PgStatement::Step() {
  if (rows_.has_result()) return rows_.Next();
  auto checked = parameters_.Check(name_);
  if (!checked.ok()) return std::move(checked).error();
  std::vector<const char*> values = parameters_.Pointers();
  PgResultPtr result;
  if (connection_.HasDeferred()) {
    const PgConnection::Outgoing self{name_, {}, &values};
    auto piped = connection_.Pipeline(connection_.TakeDeferred(), &self);
    if (!piped.ok()) return std::move(piped).error();
    result = std::move(piped).value();
  } else {
    if (connection_.unusable_) {
      return DatabaseUnavailable("step " + name_ + ": connection unusable");
    }
    if (PQsendQueryPrepared(connection_.conn_, name_.c_str(), static_cast<int>(values.size()),
                            values.empty() ? nullptr : values.data(), nullptr, nullptr,
                            /*resultFormat=*/0) != 1) {
      return PgError(connection_.conn_, nullptr, "step " + name_);
    }
    auto collected = connection_.CollectResults("step " + name_);
    if (!collected.ok()) return std::move(collected).error();
    result = std::move(collected).value();
  }
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return PgError(connection_.conn_, result.get(), "step " + name_);
  }
  connection_.NoteCommand(result.get());
  rows_.Reset(std::move(result));
  return rows_.HasRow();
}

void PgStatement::Reset() {
  parameters_.Clear();
  rows_.Clear();
}

core::Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& url,
                                                               const PgOptions& options) {
  // The URL's own `options` (say, a search_path) are kept after ours.
  std::string url_options;
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string message = parse_error ? parse_error : "out of memory";
    PQfreemem(parse_error);
    return DatabaseUnavailable("connect: malformed database URL: " + Trimmed(std::move(message)));
  }
  for (const PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "options" && option->val != nullptr) {
      url_options = option->val;
    }
  }
  PQconninfoFree(parsed);
  std::string server_options =
      "-c statement_timeout=" + std::to_string(options.statement_timeout_ms) +
      " -c client_min_messages=warning";
  if (options.search_plans) {
    server_options += " -c plan_cache_mode=force_generic_plan -c max_parallel_workers_per_gather=0";
  }
  if (!url_options.empty()) server_options += " " + url_options;
  const std::string connect_timeout = std::to_string(options.connect_timeout_s);

  // Later keywords override what the URL (expanded from `dbname`) says.
  const char* const keywords[] = {"dbname",           "connect_timeout",
                                  "options",          "keepalives",
                                  "keepalives_idle",  "keepalives_interval",
                                  "keepalives_count", "tcp_user_timeout",
                                  "application_name", nullptr};
  const char* const values[] = {url.c_str(),
                                connect_timeout.c_str(),
                                server_options.c_str(),
                                "1",
                                "30",
                                "10",
                                "3",
                                "10000",
                                "zebros",
                                nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return DatabaseUnavailable("connect: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return DatabaseUnavailable("connect: " + Trimmed(std::move(message)));
  }
  // Statement timeout set in the URL's options: the client does not guess how long it is.
  const bool own_timeout = url_options.find("statement_timeout") != std::string::npos;
  std::unique_ptr<PgConnection> connection(new PgConnection(
      conn, own_timeout || options.statement_timeout_ms <= 0 ? std::chrono::milliseconds(0)
                                                             : AnswerLimit(options)));
  // Terse: no DETAIL lines (which quote row values) in PQerrorMessage; and no notices on stderr
  // (CREATE … IF NOT EXISTS sends one for each object that exists).
  PQsetErrorVerbosity(conn, PQERRORS_TERSE);
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  auto status = connection->Exec("SET TIME ZONE 'UTC'");
  if (!status.ok()) return std::move(status).error();
  return connection;
}

PgConnection::~PgConnection() {
  // Prepared statements die with the session; no DEALLOCATE needed.
  cache_.clear();
  PQfinish(conn_);
}

core::Status PgConnection::Exec(std::string_view sql) {
  const std::string text(sql);
  PgResultPtr result;
  if (HasDeferred() && text.find(';') == std::string::npos) {
    const Outgoing self{{}, text, nullptr};
    auto piped = Pipeline(TakeDeferred(), &self);
    if (!piped.ok()) return std::move(piped).error();
    result = std::move(piped).value();
  } else {
    if (HasDeferred()) {  // several statements cannot go into a pipeline: the writes go first
      auto sent = RunDeferred();
      if (!sent.ok()) return sent;
    }
    NoteControlStatement(sql);
    if (unusable_) return DatabaseUnavailable("exec: connection unusable");
    NoteTimeoutSetting(sql);
    if (PQsendQuery(conn_, text.c_str()) != 1) return PgError(conn_, nullptr, "exec");
    auto collected = CollectResults("exec");
    if (!collected.ok()) return std::move(collected).error();
    result = std::move(collected).value();
  }
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    return PgError(conn_, result.get(), "exec");
  }
  NoteCommand(result.get());
  return core::OkStatus();
}

core::Result<sql::Statement> PgConnection::Prepare(const std::string& sql) {
  auto cached = Cached(sql);
  if (!cached.ok()) return std::move(cached).error();
  return sql::Statement(*cached);
}

core::Status PgConnection::RunDeferred() {
  if (!HasDeferred()) return core::OkStatus();
  auto piped = Pipeline(TakeDeferred(), nullptr);
  if (!piped.ok()) return std::move(piped).error();
  return core::OkStatus();
}

core::Result<PgResultPtr> PgConnection::Pipeline(std::vector<sql::DeferredWrite> writes,
                                                 const Outgoing* current) {
  // Prepared before the pipeline starts: PQprepare cannot run inside one. Names, not the
  // statements: preparing one may evict another from the cache (the least recently used, never
  // one used here unless a pipeline held more than the cache).
  std::vector<std::string> prepared(writes.size());
  std::vector<std::vector<std::string>> texts(writes.size());
  for (std::size_t i = 0; i < writes.size(); ++i) {
    if (writes[i].params.empty()) continue;
    auto cached = Cached(writes[i].sql);
    if (!cached.ok()) {
      NoteDeferredFailure();
      return std::move(cached).error();
    }
    prepared[i] = (*cached)->name();
    for (const auto& param : writes[i].params) {
      const auto* number = std::get_if<std::int64_t>(&param);
      texts[i].push_back(number ? std::to_string(*number) : std::get<std::string>(param));
      if (texts[i].back().find('\0') != std::string::npos) {
        NoteDeferredFailure();
        return core::MakeError(core::Code::kBadRequest, "bad_request",
                               "Text values may not contain NUL characters.",
                               "pipeline: NUL character in a parameter of " + prepared[i]);
      }
    }
  }
  const auto broke_off = [this](std::string_view what) {
    unusable_ = true;
    return PgError(conn_, nullptr, what);
  };
  if (PQenterPipelineMode(conn_) != 1) return broke_off("pipeline: enter");
  // Kept writes were noted in the memo when they were kept (Session::RunOrDefer).
  auto send = [this](std::string_view name, std::string_view sql,
                     const std::vector<const char*>& values) {
    const std::string owned(name.empty() ? sql : name);
    if (name.empty()) {
      return PQsendQueryParams(conn_, owned.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
    }
    return PQsendQueryPrepared(conn_, owned.c_str(), static_cast<int>(values.size()),
                               values.empty() ? nullptr : values.data(), nullptr, nullptr, 0);
  };
  for (std::size_t i = 0; i < writes.size(); ++i) {
    std::vector<const char*> values;
    for (const auto& text : texts[i]) values.push_back(text.c_str());
    const int sent =
        !prepared[i].empty() ? send(prepared[i], {}, values) : send({}, writes[i].sql, values);
    if (sent != 1) return broke_off("pipeline: send");
  }
  if (current != nullptr) {
    if (current->name.empty()) {
      NoteControlStatement(current->sql);
      NoteTimeoutSetting(current->sql);
    }
    static const std::vector<const char*> kNone;
    if (send(current->name, current->sql, current->values ? *current->values : kNone) != 1) {
      return broke_off("pipeline: send");
    }
  }
  if (PQpipelineSync(conn_) != 1) return broke_off("pipeline: sync");
  const Deadline deadline = AnswerDeadline();
  // The next result, or null; an answer that does not come in time breaks the connection off.
  const auto next = [&](PgResultPtr& result) {
    auto ready = AwaitResult(deadline, "pipeline");
    if (!ready.ok()) return ready;
    result.reset(PQgetResult(conn_));
    return core::OkStatus();
  };

  // One result (then a null) per query, in order; an error aborts those after it; then the sync.
  std::optional<core::Error> failure;
  PgResultPtr outcome;
  const std::size_t queries = writes.size() + (current != nullptr ? 1 : 0);
  for (std::size_t i = 0; i < queries; ++i) {
    PgResultPtr first;
    for (;;) {
      PgResultPtr result;
      auto got = next(result);
      if (!got.ok()) return std::move(got).error();
      if (!result) break;
      if (!first) first = std::move(result);
    }
    if (!first) return broke_off("pipeline: no result");
    const ExecStatusType status = PQresultStatus(first.get());
    const bool is_current = i == writes.size();
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      NoteCommand(first.get());
      if (is_current) outcome = std::move(first);
    } else if (status != PGRES_PIPELINE_ABORTED && !failure) {
      failure = PgError(conn_, first.get(), is_current ? "pipeline" : "pipeline: kept write");
      if (!is_current) NoteDeferredFailure();
    }
  }
  PgResultPtr sync;
  auto synced = next(sync);
  if (!synced.ok()) return std::move(synced).error();
  if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
    return broke_off("pipeline: no sync");
  }
  if (PQexitPipelineMode(conn_) != 1) return broke_off("pipeline: exit");
  if (failure) return std::move(*failure);
  return outcome;
}

core::Result<PgStatement*> PgConnection::Cached(const std::string& sql) {
  auto found = cache_.find(sql);
  if (found != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second.lru_position);
    return found->second.statement.get();
  }
  int parameter_count = 0;
  const std::string converted = ConvertPlaceholders(sql, parameter_count);
  std::string name = "z" + std::to_string(next_statement_++);
  // No parameter types: the server infers them from the SQL, and reads the text we send.
  if (unusable_) return DatabaseUnavailable("prepare: connection unusable");
  if (PQsendPrepare(conn_, name.c_str(), converted.c_str(), 0, nullptr) != 1) {
    return PgError(conn_, nullptr, "prepare");
  }
  auto collected = CollectResults("prepare");
  if (!collected.ok()) return std::move(collected).error();
  PgResultPtr result = std::move(collected).value();
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return PgError(conn_, result.get(), "prepare");
  }
  if (cache_.size() >= kStatementCacheSize) {
    auto victim = cache_.find(lru_.back());
    // Fails only inside a failed transaction; the statement then lives on until the session
    // ends, under a name that is never reused.
    (void)Exec("DEALLOCATE " + victim->second.statement->name());
    cache_.erase(victim);
    lru_.pop_back();
  }
  lru_.push_front(sql);
  auto statement = std::make_unique<PgStatement>(*this, std::move(name), parameter_count);
  PgStatement* raw = statement.get();
  cache_.emplace(sql, CacheEntry{std::move(statement), lru_.begin()});
  return raw;
}

void PgConnection::NoteCommand(PGresult* result) {
  if (result == nullptr || !IsRowCountCommand(PQcmdStatus(result))) return;
  const std::string_view rows = PQcmdTuples(result);
  std::int64_t count = 0;
  (void)std::from_chars(rows.data(), rows.data() + rows.size(), count);
  changes_ = count;
}

PgConnection::Deadline PgConnection::AnswerDeadline() const {
  if (answer_limit_.count() <= 0 || timeout_ != TimeoutSetting::kReset) return std::nullopt;
  return std::chrono::steady_clock::now() + answer_limit_;
}

void PgConnection::NoteTimeoutSetting(std::string_view sql) {
  if (timeout_ == TimeoutSetting::kSetForTransaction && !InTransaction()) {
    timeout_ = TimeoutSetting::kReset;
  }
  const TimeoutSetting setting = StatementTimeoutSetting(sql);
  if (setting == TimeoutSetting::kUnchanged) return;
  // A session's own setting outlasts one for a transaction.
  if (setting == TimeoutSetting::kSetForTransaction && timeout_ == TimeoutSetting::kSetForSession) {
    return;
  }
  timeout_ = setting;
}

core::Status PgConnection::AwaitResult(const Deadline& deadline, std::string_view what) {
  while (PQisBusy(conn_) == 1) {
    int wait_ms = -1;
    if (deadline) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now())
              .count();
      if (left <= 0) {
        unusable_ = true;
        return DatabaseUnavailable(std::string(what) + ": no answer in time");
      }
      wait_ms = static_cast<int>(std::min<std::int64_t>(left, INT_MAX));
    }
    pollfd socket{PQsocket(conn_), POLLIN, 0};
    if (socket.fd < 0) return core::OkStatus();  // lost: PQgetResult says so, without waiting
    const int ready = ::poll(&socket, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      unusable_ = true;
      return DatabaseUnavailable(std::string(what) + ": poll failed");
    }
    // A failed read marks the connection bad; PQgetResult then returns its error at once.
    if (ready > 0 && PQconsumeInput(conn_) == 0) return core::OkStatus();
  }
  return core::OkStatus();
}

core::Result<PgResultPtr> PgConnection::CollectResults(std::string_view what) {
  const Deadline deadline = AnswerDeadline();
  PgResultPtr kept;
  for (;;) {
    auto ready = AwaitResult(deadline, what);
    if (!ready.ok()) return std::move(ready).error();
    PgResultPtr result(PQgetResult(conn_));
    if (!result) break;
    const ExecStatusType status = PQresultStatus(result.get());
    const bool kept_error = kept && PQresultStatus(kept.get()) == PGRES_FATAL_ERROR;
    if (!kept_error) kept = std::move(result);
    // No COPY here; were one started, its data would never end the results.
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) break;
  }
  if (timeout_ == TimeoutSetting::kSetForTransaction && !InTransaction()) {
    timeout_ = TimeoutSetting::kReset;
  }
  return kept;
}

bool PgConnection::Broken() const { return unusable_ || PQstatus(conn_) != CONNECTION_OK; }

bool PgConnection::InTransaction() const { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }

bool PgConnection::InFailedTransaction() const {
  return PQtransactionStatus(conn_) == PQTRANS_INERROR;
}

bool PgConnection::CheckAlive() {
  if (Broken()) return false;
  // Nothing to read means the server neither sent anything nor closed the socket: one poll
  // instead of two reads on every borrow of an idle connection.
  pollfd socket{PQsocket(conn_), POLLIN, 0};
  if (socket.fd < 0) return false;
  if (::poll(&socket, 1, 0) == 0) return true;
  // Twice: the first read takes what a terminated backend sent before it closed the socket
  // (its FATAL message), the second one sees the end of the stream and marks the connection bad.
  for (int i = 0; i < 2; ++i) {
    if (PQconsumeInput(conn_) == 0) return false;
  }
  return !Broken();
}

int PgConnection::BackendPid() const { return PQbackendPID(conn_); }

}  // namespace zebros::storage::postgres
