#include "storage/postgres/pg_pipeline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "core/testing/await.h"
#include "net/io_reactor.h"
#include "storage/postgres/pg_database.h"
#include "storage/postgres/testing/pg_server_test.h"

namespace zebros::storage::postgres {
namespace {
using core::Code;
using core::testing::Await;
using namespace std::chrono_literals;

class FixedClock final : public core::Clock {
 public:
  core::EpochMillis NowMillis() const override { return 1767225600000; }  // 2026-01-01
};

// What a read's callback saw: the first column of each row as text, or the error.
struct Seen {
  std::vector<std::string> values;
  std::optional<core::Error> error;
};

// A database of its own on the server at ZEBROS_TEST_DATABASE_URL (PgServerTest), read through
// a pipeline on a reactor thread; skipped when the variable is unset.
class PgPipelineTest : public testing::PgServerTest {
 protected:
  void SetUp() override {
    PgServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto setup = Connect();
    ASSERT_NE(setup, nullptr);
    ASSERT_TRUE(setup
                    ->Exec("CREATE TABLE t (id integer PRIMARY KEY, v text);"
                           " INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 1000) g")
                    .ok());
    pipeline_ = PgPipeline::Create(url_, options_, reactor_);
  }

  void TearDown() override {
    if (pipeline_ != nullptr) pipeline_->Close();
    pipeline_.reset();
    PgServerTest::TearDown();
  }

  static std::unique_ptr<PgRead> Read(std::string sql, std::vector<std::string> params = {}) {
    auto read = std::make_unique<PgRead>(std::move(sql), static_cast<int>(params.size()));
    for (std::size_t i = 0; i < params.size(); ++i) {
      read->BindText(static_cast<int>(i) + 1, params[i]);
    }
    return read;
  }

  // Sends `read`; the future gets what its callback saw.
  std::future<Seen> Send(std::unique_ptr<PgRead> read) {
    auto promise = std::make_shared<std::promise<Seen>>();
    auto future = promise->get_future();
    pipeline_->Send(std::move(read), [promise](core::Result<sql::Statement> stmt) {
      Seen seen;
      if (!stmt.ok()) {
        seen.error = stmt.error();
      } else {
        for (;;) {
          auto row = stmt->Step();
          if (!row.ok()) {
            seen.error = row.error();
            break;
          }
          if (!*row) break;
          seen.values.emplace_back(stmt->Text(0));
        }
      }
      promise->set_value(std::move(seen));
    });
    return future;
  }

  // Runs `fn` on the reactor's thread and waits for it: what it sends goes in one batch.
  void OnLoop(const std::function<void()>& fn) {
    std::promise<void> done;
    auto future = done.get_future();
    reactor_.Post([&] {
      fn();
      done.set_value();
    });
    future.wait();
  }

  PgOptions options_;
  FixedClock clock_;
  net::ReactorThread reactor_;
  std::shared_ptr<PgPipeline> pipeline_;
};

TEST_F(PgPipelineTest, EachReadGetsItsOwnRowsFromManyThreads) {
  ASSERT_TRUE(pipeline_->Ready());
  constexpr int kThreads = 4;
  constexpr int kReads = 250;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::future<Seen>>> futures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kReads; ++i) {
        const int id = (t * kReads + i) % 1000 + 1;
        futures[t].push_back(Send(Read("SELECT v FROM t WHERE id = ?", {std::to_string(id)})));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kReads; ++i) {
      Seen seen = Await(futures[t][i]);
      ASSERT_FALSE(seen.error) << seen.error->detail;
      ASSERT_EQ(seen.values.size(), 1u);
      EXPECT_EQ(seen.values[0], "v" + std::to_string((t * kReads + i) % 1000 + 1));
    }
  }
  const auto counts = pipeline_->counts();
  EXPECT_EQ(counts.reads, static_cast<std::uint64_t>(kThreads * kReads));
  EXPECT_EQ(counts.connects, 1u);
}

TEST_F(PgPipelineTest, ReadsSentInOneTurnOfTheLoopShareOneSync) {
  ASSERT_TRUE(pipeline_->Ready());
  std::vector<std::future<Seen>> futures;
  OnLoop([&] {
    for (int id = 1; id <= 10; ++id) {
      futures.push_back(Send(Read("SELECT v FROM t WHERE id = ?", {std::to_string(id)})));
    }
  });
  for (int id = 1; id <= 10; ++id) {
    Seen seen = Await(futures[static_cast<std::size_t>(id) - 1]);
    ASSERT_FALSE(seen.error) << seen.error->detail;
    EXPECT_EQ(seen.values, std::vector<std::string>{"v" + std::to_string(id)});
  }
  EXPECT_EQ(pipeline_->counts().batches, 1u);
}

// Waits until the pipeline has sent `batches` syncs.
void AwaitBatches(PgPipeline& pipeline, std::uint64_t batches) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (pipeline.counts().batches < batches && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(pipeline.counts().batches, batches);
}

TEST_F(PgPipelineTest, ReadsSentWhileABatchIsOutGoTogetherWhenItIsAnswered) {
  ASSERT_TRUE(pipeline_->Ready());
  constexpr std::size_t kSlow = PgPipeline::kMaxBatchesInFlight;
  std::vector<std::future<Seen>> slow;
  for (std::size_t i = 0; i < kSlow; ++i) {
    slow.push_back(Send(Read("SELECT pg_sleep(0.3)::text")));
    AwaitBatches(*pipeline_, i + 1);
  }
  // Sent one by one from this thread while the server sleeps: each would have gone alone.
  std::vector<std::future<Seen>> futures;
  for (int id = 1; id <= 10; ++id) {
    futures.push_back(Send(Read("SELECT v FROM t WHERE id = ?", {std::to_string(id)})));
  }
  for (auto& future : slow) EXPECT_FALSE(Await(future).error);
  for (int id = 1; id <= 10; ++id) {
    Seen seen = Await(futures[static_cast<std::size_t>(id) - 1]);
    ASSERT_FALSE(seen.error) << seen.error->detail;
    EXPECT_EQ(seen.values, std::vector<std::string>{"v" + std::to_string(id)});
  }
  const auto counts = pipeline_->counts();
  EXPECT_EQ(counts.batches, kSlow + 1);
  EXPECT_EQ(counts.reads, kSlow + 10);
}

TEST_F(PgPipelineTest, ReadsHeldForALostBatchFailAndTheNextReadConnectsAgain) {
  ASSERT_TRUE(pipeline_->Ready());
  auto pid_future = Send(Read("SELECT pg_backend_pid()::text"));
  Seen pid = Await(pid_future);
  ASSERT_FALSE(pid.error);
  std::vector<std::future<Seen>> failing;
  for (std::size_t i = 0; i < PgPipeline::kMaxBatchesInFlight; ++i) {
    failing.push_back(Send(Read("SELECT pg_sleep(30)::text")));
    AwaitBatches(*pipeline_, i + 2);
  }
  failing.push_back(Send(Read("SELECT v FROM t WHERE id = ?", {"5"})));  // held
  ASSERT_TRUE(admin_->Exec("SELECT pg_terminate_backend(" + pid.values.at(0) + ")").ok());
  for (auto& future : failing) {
    Seen seen = Await(future);
    ASSERT_TRUE(seen.error);
    EXPECT_EQ(seen.error->problem_code, "database_unavailable");
  }
  ASSERT_TRUE(pipeline_->Ready());
  auto again = Send(Read("SELECT v FROM t WHERE id = ?", {"6"}));
  Seen seen = Await(again);
  EXPECT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"v6"});
}

TEST_F(PgPipelineTest, NoRowsAndManyRowsReadAsStatementsDo) {
  ASSERT_TRUE(pipeline_->Ready());
  auto none = Send(Read("SELECT v FROM t WHERE id = ?", {"5000"}));
  auto many = Send(Read("SELECT v FROM t WHERE id <= ? ORDER BY id", {"3"}));
  Seen seen = Await(none);
  EXPECT_FALSE(seen.error);
  EXPECT_TRUE(seen.values.empty());
  seen = Await(many);
  EXPECT_FALSE(seen.error);
  EXPECT_EQ(seen.values, (std::vector<std::string>{"v1", "v2", "v3"}));
}

TEST_F(PgPipelineTest, AFailingReadFailsAloneAndTheRestOfItsBatchIsAnswered) {
  ASSERT_TRUE(pipeline_->Ready());
  std::future<Seen> before, failing, after;
  OnLoop([&] {
    before = Send(Read("SELECT v FROM t WHERE id = ?", {"1"}));
    failing = Send(Read("SELECT (1 / ?::int)::text", {"0"}));  // division by zero
    after = Send(Read("SELECT v FROM t WHERE id = ?", {"2"}));
  });
  Seen seen = Await(before);
  EXPECT_FALSE(seen.error);
  EXPECT_EQ(seen.values, std::vector<std::string>{"v1"});
  seen = Await(failing);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->code, Code::kUnavailable);
  EXPECT_EQ(seen.error->problem_code, "database_error");
  EXPECT_NE(seen.error->detail.find("22012"), std::string::npos) << seen.error->detail;
  seen = Await(after);  // aborted with the failing one's batch, then sent again
  EXPECT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"v2"});
  EXPECT_EQ(pipeline_->counts().connects, 1u);
}

TEST_F(PgPipelineTest, TextWithANulCharacterIsRefusedBeforeItIsSent) {
  ASSERT_TRUE(pipeline_->Ready());
  auto future = Send(Read("SELECT v FROM t WHERE v = ?", {std::string("a\0b", 3)}));
  Seen seen = Await(future);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->code, Code::kBadRequest);
  EXPECT_EQ(pipeline_->counts().reads, 0u);
}

TEST_F(PgPipelineTest, AStatementIsPreparedOnceOnTheConnection) {
  ASSERT_TRUE(pipeline_->Ready());
  for (int i = 0; i < 3; ++i) {
    auto future = Send(Read("SELECT v FROM t WHERE id = ?", {"7"}));
    ASSERT_FALSE(Await(future).error);
  }
  // This session's prepared statements: the read above and this one.
  auto future = Send(Read("SELECT count(*)::text FROM pg_prepared_statements"));
  Seen seen = Await(future);
  ASSERT_FALSE(seen.error);
  EXPECT_EQ(seen.values, std::vector<std::string>{"2"});
}

TEST_F(PgPipelineTest, ALostConnectionFailsItsPendingReadsAndTheNextReadConnectsAgain) {
  ASSERT_TRUE(pipeline_->Ready());
  auto pid_future = Send(Read("SELECT pg_backend_pid()::text"));
  Seen pid = Await(pid_future);
  ASSERT_FALSE(pid.error);
  auto sleeping = Send(Read("SELECT pg_sleep(30)::text"));
  // Terminated while the read runs: the read fails as unavailable, not after 30 s.
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(admin_->Exec("SELECT pg_terminate_backend(" + pid.values.at(0) + ")").ok());
  Seen seen = Await(sleeping);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->code, Code::kUnavailable);
  EXPECT_EQ(seen.error->problem_code, "database_unavailable");

  ASSERT_TRUE(pipeline_->Ready());
  auto again = Send(Read("SELECT v FROM t WHERE id = ?", {"3"}));
  seen = Await(again);
  EXPECT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"v3"});
  EXPECT_EQ(pipeline_->counts().connects, 2u);
}

TEST_F(PgPipelineTest, AnIdleConnectionTheServerClosedIsNotUsedAgain) {
  ASSERT_TRUE(pipeline_->Ready());
  auto pid_future = Send(Read("SELECT pg_backend_pid()::text"));
  Seen pid = Await(pid_future);
  ASSERT_FALSE(pid.error);
  ASSERT_TRUE(admin_->Exec("SELECT pg_terminate_backend(" + pid.values.at(0) + ")").ok());
  // The pipeline watches its idle socket: it lets the connection go when the server closes it.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (pipeline_->counts().connected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(pipeline_->counts().connected);
  ASSERT_TRUE(pipeline_->Ready());
  auto read = Send(Read("SELECT v FROM t WHERE id = ?", {"4"}));
  Seen seen = Await(read);
  EXPECT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"v4"});
}

TEST_F(PgPipelineTest, CloseFailsPendingReadsAndEndsThePipeline) {
  ASSERT_TRUE(pipeline_->Ready());
  std::future<Seen> sleeping;
  OnLoop([&] {
    sleeping = Send(Read("SELECT pg_sleep(30)::text"));
    pipeline_->Close();  // before the sync went out: nothing was sent yet
  });
  Seen seen = Await(sleeping);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->problem_code, "database_unavailable");
  EXPECT_FALSE(pipeline_->Ready());
  auto late = Send(Read("SELECT 1::text"));
  seen = Await(late);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->problem_code, "database_unavailable");
}

TEST_F(PgPipelineTest, AnUnreachableServerIsNotReadyAndIsTriedAgainLater) {
  auto pipeline = PgPipeline::Create("postgres://zebros@127.0.0.1:1/zebros", options_, reactor_);
  EXPECT_FALSE(pipeline->Ready());
  EXPECT_FALSE(pipeline->Ready());  // within the second: not even tried
  EXPECT_EQ(pipeline->counts().connects, 0u);
}

TEST_F(PgPipelineTest, ADatabaseReadsThroughThePipelineOnlyWithAReactor) {
  auto database = PgDatabase::Open(url_, {}, clock_, {});
  ASSERT_TRUE(database.ok()) << database.error().detail;
  const std::string sql = "SELECT v FROM t WHERE id = ?";
  const std::vector<boost::json::value> params{boost::json::value(8)};
  // Without one: answered before ReadAsync returns, on this thread.
  std::optional<std::string> value;
  (*database)->ReadAsync(sql, params, [&value](core::Result<sql::Statement> stmt) {
    ASSERT_TRUE(stmt.ok());
    ASSERT_TRUE(stmt->Step().value());
    value = std::string(stmt->Text(0));
  });
  EXPECT_EQ(value, "v8");

  (*database)->AttachReactor(&reactor_);
  std::promise<std::pair<std::string, bool>> promise;
  auto future = promise.get_future();
  (*database)->ReadAsync(sql, params, [&](core::Result<sql::Statement> stmt) {
    const bool on_loop = reactor_.InLoopThread();
    promise.set_value(
        {stmt.ok() && stmt->Step().value() ? std::string(stmt->Text(0)) : "", on_loop});
  });
  const auto [text, on_loop] = Await(future);
  EXPECT_EQ(text, "v8");
  EXPECT_TRUE(on_loop);
  (*database)->AttachReactor(nullptr);
}

}  // namespace
}  // namespace zebros::storage::postgres
