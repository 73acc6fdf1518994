#pragma once

// Helpers for the unit tests of storage/sqlite (test code only).

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "storage/sqlite/connection.h"

namespace zebros::storage::sqlite::testing {

// A connection to `path`, or null after a test failure.
inline std::unique_ptr<Connection> OpenOrDie(const std::string& path,
                                             Connection::Mode mode = Connection::Mode::kReadWrite) {
  auto connection = Connection::Open(path, mode);
  EXPECT_TRUE(connection.ok());
  return connection.ok() ? std::move(connection).value() : nullptr;
}

// The first column of the first row `sql` returns, as text; the statement is reset after, so it
// holds no read transaction open.
inline std::string QueryOne(Connection& connection, const std::string& sql) {
  auto stmt = connection.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << sql;
  if (!stmt.ok()) return "";
  auto row = stmt->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  std::string text(stmt->Text(0));
  stmt->Reset();
  return text;
}

}  // namespace zebros::storage::sqlite::testing
