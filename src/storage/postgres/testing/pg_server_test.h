#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "storage/postgres/pg_connection.h"

namespace zebros::storage::postgres::testing {

// `url` naming database `name` instead (a postgres:// URL or a key=value string).
inline std::string WithDatabase(const std::string& url, const std::string& name) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url + " dbname=" + name;
  const auto query = url.find('?', scheme);
  const auto path = url.find('/', scheme + 3);
  const std::string rest = query == std::string::npos ? "" : url.substr(query);
  const auto host_end = path != std::string::npos && (query == std::string::npos || path < query)
                            ? path
                            : (query == std::string::npos ? url.size() : query);
  return url.substr(0, host_end) + "/" + name + rest;
}

// Each test gets a database of its own, created on the server at ZEBROS_TEST_DATABASE_URL and
// dropped afterwards; skipped when the variable is unset.
class PgServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("ZEBROS_TEST_DATABASE_URL");
    if (url == nullptr || *url == '\0') {
      GTEST_SKIP() << "ZEBROS_TEST_DATABASE_URL is not set; PostgreSQL tests skipped";
    }
    auto admin = PgConnection::Open(url, {});
    ASSERT_TRUE(admin.ok()) << admin.error().detail;
    admin_ = std::move(admin).value();
    std::random_device random;
    name_ = "zebros_test_" + std::to_string(random()) + std::to_string(random());
    auto created = admin_->Exec("CREATE DATABASE " + name_);
    ASSERT_TRUE(created.ok()) << created.error().detail;
    url_ = WithDatabase(url, name_);
  }

  void TearDown() override {
    if (admin_ != nullptr) {
      auto dropped = admin_->Exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      EXPECT_TRUE(dropped.ok()) << dropped.error().detail;
    }
  }

  std::unique_ptr<PgConnection> Connect(PgOptions options = {}) {
    auto connection = PgConnection::Open(url_, options);
    EXPECT_TRUE(connection.ok()) << connection.error().detail;
    return connection.ok() ? std::move(connection).value() : nullptr;
  }

  // The first column of the first row of `sql`, or -1.
  static std::int64_t QueryInt(sql::Session& session, const std::string& sql) {
    auto stmt = session.Prepare(sql);
    EXPECT_TRUE(stmt.ok()) << stmt.error().detail;
    if (!stmt.ok()) return -1;
    auto row = stmt->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return row.ok() && *row ? stmt->Int(0) : -1;
  }

  // The first column of the first row of `sql` as text, or "" when there is none.
  static std::string QueryText(sql::Session& session, const std::string& sql) {
    auto stmt = session.Prepare(sql);
    EXPECT_TRUE(stmt.ok()) << stmt.error().detail;
    if (!stmt.ok()) return "";
    auto row = stmt->Step();
    EXPECT_TRUE(row.ok()) << sql;
    return row.ok() && *row ? std::string(stmt->Text(0)) : "";
  }

  // Waits until the server process `pid` is gone (pg_terminate_backend only signals it).
  void WaitForBackendExit(int pid) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto stmt = admin_->Prepare("SELECT count(*) FROM pg_stat_activity WHERE pid = ?");
      ASSERT_TRUE(stmt.ok());
      stmt->BindInt(1, pid);
      auto row = stmt->Step();
      ASSERT_TRUE(row.ok() && *row);
      if (stmt->Int(0) == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "backend " << pid << " still running";
  }

  void Terminate(int pid) {
    EXPECT_EQ(QueryInt(*admin_, "SELECT pg_terminate_backend(" + std::to_string(pid) + ")::int"),
              1);
    WaitForBackendExit(pid);
  }

  std::unique_ptr<PgConnection> admin_;
  std::string name_;
  std::string url_;
};

}  // namespace zebros::storage::postgres::testing
