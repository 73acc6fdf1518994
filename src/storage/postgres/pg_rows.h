#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/sql/session.h"

namespace zebros::storage::postgres {

struct PgResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

// The parameter values of one statement, as the text libpq sends (the server infers their
// types from the SQL). Numbered from 1 like Statement's.
class PgParameters {
 public:
  explicit PgParameters(int count = 0) : values_(static_cast<std::size_t>(count)) {}

  void BindNull(int index);
  void BindInt(int index, std::int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, std::string_view value);
  // kInternal for an index outside 1..count, kBadRequest for text with a NUL character (which
  // PostgreSQL text cannot hold). `what` names the statement for the logs.
  core::Status Check(std::string_view what) const;
  // The values for PQsendQueryPrepared and friends; valid while this is unchanged.
  std::vector<const char*> Pointers() const;
  int count() const { return static_cast<int>(values_.size()); }
  void Clear();

 private:
  void Set(int index, std::optional<std::string> value);

  std::vector<std::optional<std::string>> values_;  // index 0 is `$1`
  bool bad_index_ = false;
  bool nul_in_text_ = false;
};

// The rows of one result, read as Statement reads them: text parsed on reading.
class PgRows {
 public:
  void Reset(PgResultPtr result) {
    result_ = std::move(result);
    row_ = 0;
  }
  void Clear() {
    result_.reset();
    row_ = -1;
  }
  bool has_result() const { return result_ != nullptr; }
  // Moves to the next row (Reset puts it on the first); true while on one.
  bool Next();
  bool HasRow() const;
  int ColumnCount() const;
  sql::ColumnKind Kind(int column) const;
  bool IsNull(int column) const;
  // Integers as such; a boolean 't'/'f' as 1/0; a decimal truncated; 0 when unreadable.
  std::int64_t Int(int column) const;
  double Double(int column) const;
  std::string_view Text(int column) const;

 private:
  PgResultPtr result_;
  int row_ = -1;  // -1 before the result; then the current row
};

// What a statement of PostgreSQL is besides how it runs: its parameters, bound as text, and the
// rows of its result, parsed on reading. PgStatement runs on its connection, PgRead in a
// PgPipeline.
class PgRowsStatement : public sql::StatementImpl {
 public:
  explicit PgRowsStatement(int parameter_count) : parameters_(parameter_count) {}

  // An index outside 1..parameter count makes the next Step() fail with kInternal; text with a
  // NUL character (which PostgreSQL text cannot hold) with kBadRequest.
  void BindNull(int index) override { parameters_.BindNull(index); }
  void BindInt(int index, std::int64_t value) override { parameters_.BindInt(index, value); }
  void BindDouble(int index, double value) override { parameters_.BindDouble(index, value); }
  void BindText(int index, std::string_view value) override { parameters_.BindText(index, value); }
  int ColumnCount() const override { return rows_.ColumnCount(); }
  sql::ColumnKind Kind(int column) const override { return rows_.Kind(column); }
  bool IsNull(int column) const override { return rows_.IsNull(column); }
  // Integers as such; a boolean 't'/'f' as 1/0; a decimal truncated; 0 when unreadable.
  std::int64_t Int(int column) const override { return rows_.Int(column); }
  double Double(int column) const override { return rows_.Double(column); }
  std::string_view Text(int column) const override { return rows_.Text(column); }

  const PgParameters& parameters() const { return parameters_; }

 protected:
  PgParameters parameters_;
  PgRows rows_;
};

// A read statement that is not run by its connection but sent by a PgPipeline: bound like any
// statement, then given its result, whose rows Step() walks. Reset() is harmless (a read is used
// once: its Statement views are dropped after binding and after reading).
class PgRead final : public PgRowsStatement {
 public:
  PgRead(std::string sql, int parameter_count)
      : PgRowsStatement(parameter_count), sql_(std::move(sql)) {}

  core::Result<bool> Step() override;
  void Reset() override {}

  const std::string& sql() const { return sql_; }
  void SetResult(PgResultPtr result) { rows_.Reset(std::move(result)); }

 private:
  std::string sql_;  // with `?` placeholders
  bool stepped_ = false;
};

}  // namespace zebros::storage::postgres
