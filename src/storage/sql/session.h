#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/result.h"

namespace zebros::storage::sql {

// The SQL engines storage speaks. Code above storage never sees which one is in use; code in
// storage/sql is written once for both and asks the dialect only where their SQL differs
// (storage/sql/dialect.h).
enum class Dialect { kSqlite, kPostgres };

// What a result column holds in the current row.
enum class ColumnKind { kNull, kInt, kDouble, kText };

// One prepared statement of a backend, owned by its Session's statement cache. Parameters are
// written `?` in the SQL and numbered from 1; columns from 0.
class StatementImpl {
 public:
  virtual ~StatementImpl() = default;
  virtual void BindNull(int index) = 0;
  virtual void BindInt(int index, std::int64_t value) = 0;
  virtual void BindDouble(int index, double value) = 0;
  virtual void BindText(int index, std::string_view value) = 0;
  // Runs the statement on the first call; true while a row is ready, false when done.
  virtual core::Result<bool> Step() = 0;
  virtual int ColumnCount() const = 0;
  virtual ColumnKind Kind(int column) const = 0;
  virtual bool IsNull(int column) const = 0;
  virtual std::int64_t Int(int column) const = 0;
  virtual double Double(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;
  // Forgets the bindings and results so the cached statement is ready for its next user.
  virtual void Reset() = 0;
};

// A statement borrowed from a Session's cache; Reset()s it when it goes out of scope. Not
// thread-safe (nor is the Session it came from). Two live Statements of one SQL text on one
// Session share the cached statement: finish one before preparing the same text again.
class Statement {
 public:
  explicit Statement(StatementImpl* impl) : impl_(impl) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
  ~Statement() {
    if (impl_ != nullptr) impl_->Reset();
  }

  void BindNull(int index) { impl_->BindNull(index); }
  void BindInt(int index, std::int64_t value) { impl_->BindInt(index, value); }
  void BindDouble(int index, double value) { impl_->BindDouble(index, value); }
  void BindText(int index, std::string_view value) { impl_->BindText(index, value); }
  core::Result<bool> Step() { return impl_->Step(); }
  int ColumnCount() const { return impl_->ColumnCount(); }
  ColumnKind Kind(int column) const { return impl_->Kind(column); }
  bool IsNull(int column) const { return impl_->IsNull(column); }
  std::int64_t Int(int column) const { return impl_->Int(column); }
  double Double(int column) const { return impl_->Double(column); }
  std::string_view Text(int column) const { return impl_->Text(column); }
  // Ready to be bound and run again, without a second lookup in the Session's cache.
  void Reset() { impl_->Reset(); }

 private:
  StatementImpl* impl_;
};

// What the current write transaction already knows, so a writer need not ask the database
// again: the LockKey locks it holds, and the audit chain head it last read or moved (valid
// because it holds that tenant's write lock). Forgotten at every BEGIN, COMMIT and ROLLBACK
// (also ROLLBACK TO a savepoint: a failed piece's entries and locks are undone with it).
struct TransactionMemo {
  std::set<std::string, std::less<>> held_locks;
  struct AuditHead {
    std::string tenant_id;
    std::string hash;
    std::int64_t entries = 0;
  };
  std::optional<AuditHead> audit_head;

  void Forget() {
    held_locks.clear();
    audit_head.reset();
  }
};

// A write whose outcome nothing later in its transaction reads: SQL and its parameters (none: a
// statement such as SAVEPOINT, run as Exec), kept to run later (see Session::RunOrDefer).
struct DeferredWrite {
  std::string sql;
  std::vector<std::variant<std::int64_t, std::string>> params;
};

// One connection to the database, used by one thread at a time. Writes see it inside the
// transaction their Engine opened for them.
class Session {
 public:
  virtual ~Session() = default;
  virtual Dialect dialect() const = 0;
  // Runs one or more statements without parameters or results. Implementations call
  // NoteControlStatement with it.
  virtual core::Status Exec(std::string_view sql) = 0;
  // The cached prepared statement for `sql`, prepared on first use.
  virtual core::Result<Statement> Prepare(const std::string& sql) = 0;
  // Rows inserted, updated or deleted by the statement stepped last.
  virtual std::int64_t Changes() const = 0;

  TransactionMemo& memo() { return memo_; }

  // Runs `write` now, or keeps it while deferral is on. Kept writes run in the order they came,
  // ahead of every statement that runs after them in the transaction (a SQLite writer keeps them
  // until RunDeferred; PostgreSQL sends them with the next statement, in one round trip), and
  // no later than RunDeferred. Their failure shows at that statement, or at RunDeferred, and
  // marks the session: DeferredWriteFailed().
  //
  // The SQLite writer defers the search index's writes: an FTS5 table writes out its pending
  // terms as a new segment whenever a statement opens a savepoint (each piece of a group does,
  // and so does every statement that keeps a statement journal), which made one segment, and a
  // merge later, per record. The PostgreSQL writer defers BEGIN, the tenant's lock, savepoints
  // and audit entries: with the checks inside the INSERT, a create is one round trip.
  core::Status RunOrDefer(DeferredWrite write);
  // Turns deferral on or off; either drops what is still kept and clears DeferredWriteFailed.
  void DeferWrites(bool on) {
    deferring_ = on;
    deferred_.clear();
    deferred_failed_ = false;
  }
  // How many writes are kept; DropDeferredFrom(n) forgets those kept after the first n (a
  // failed piece's, rolled back to its savepoint).
  std::size_t DeferredCount() const { return deferred_.size(); }
  void DropDeferredFrom(std::size_t count) {
    if (count < deferred_.size()) deferred_.resize(count);
  }
  // Runs the kept writes in order and forgets them (also on failure).
  virtual core::Status RunDeferred();
  // A kept write failed since deferral was turned on. The statement it was sent with did not
  // run, and what ran before it may belong to an earlier piece of the transaction: a writer
  // rolls the whole transaction back.
  bool DeferredWriteFailed() const { return deferred_failed_; }

  // Work kept for the end of the transaction. A PostgreSQL write group keeps its audit entries
  // so (AuditLog::Append) and chains them just before COMMIT: the chain needs the tenant's write
  // lock, which every writer of the tenant on every node takes and holds through the commit's
  // WAL flush, so it is taken last and held no longer than the chain and the commit need.
  using EndWork = std::function<core::Status(Session&)>;
  // Turns keeping on or off; either drops what is kept.
  void KeepEndWork(bool on) {
    keeping_end_work_ = on;
    end_work_.clear();
  }
  bool KeepsEndWork() const { return keeping_end_work_; }
  void AddEndWork(EndWork work) { end_work_.push_back(std::move(work)); }
  // As DeferredCount and DropDeferredFrom: a failed piece's kept work goes with it.
  std::size_t EndWorkCount() const { return end_work_.size(); }
  void DropEndWorkFrom(std::size_t count) {
    if (count < end_work_.size()) end_work_.resize(count);
  }
  // Runs the kept work in order and forgets it (also on failure).
  core::Status RunEndWork();

 protected:
  bool HasDeferred() const { return !deferred_.empty(); }
  std::vector<DeferredWrite> TakeDeferred() {
    std::vector<DeferredWrite> writes;
    writes.swap(deferred_);
    return writes;
  }
  void NoteDeferredFailure() { deferred_failed_ = true; }

  // Forgets the memo when `sql` begins or ends a transaction or rolls back to a savepoint.
  void NoteControlStatement(std::string_view sql) {
    if (sql.starts_with("BEGIN") || sql.starts_with("COMMIT") || sql.starts_with("ROLLBACK") ||
        sql.starts_with("END")) {
      memo_.Forget();
    }
  }

 private:
  core::Status Run(const DeferredWrite& write);

  TransactionMemo memo_;
  bool deferring_ = false;
  bool deferred_failed_ = false;
  std::vector<DeferredWrite> deferred_;
  bool keeping_end_work_ = false;
  std::vector<EndWork> end_work_;
};

}  // namespace zebros::storage::sql
