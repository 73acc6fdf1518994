#include "storage/postgres/pg_pipeline.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "core/testing/await.h"
#include "net/io_reactor.h"
#include "storage/postgres/pg_database.h"
#include "storage/postgres/pg_search_pipelines.h"
#include "storage/postgres/testing/pg_server_test.h"
#include "storage/postgres/testing/silent_server.h"

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
    pipeline_ = PgPipeline::Create(url_, options_, reactor_, connector_);
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

  // Sends `read` (on `pipeline`, else on pipeline_); the future gets what its callback saw.
  std::future<Seen> Send(std::unique_ptr<PgRead> read, PgPipeline* pipeline = nullptr) {
    auto promise = std::make_shared<std::promise<Seen>>();
    (pipeline ? *pipeline : *pipeline_).Send(std::move(read), Collect(promise));
    return promise->get_future();
  }
  // The same through search pipelines.
  static std::future<Seen> Search(PgSearchPipelines& searches, std::unique_ptr<PgRead> read) {
    auto promise = std::make_shared<std::promise<Seen>>();
    searches.Send(std::move(read), Collect(promise));
    return promise->get_future();
  }
  // A read's callback that hands `promise` what it saw.
  static PgPipeline::Done Collect(std::shared_ptr<std::promise<Seen>> promise) {
    return [promise](core::Result<sql::Statement> stmt) {
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
    };
  }

  // Asks `pipelines` until they are connected (Ready() starts connecting, on connector_): false
  // when they are not within 20 s.
  template <typename Pipelines>
  static bool Connected(Pipelines& pipelines) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!pipelines.Ready()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  // A pipeline to `silent`, which never answers: each attempt to connect ends at the connect
  // timeout (2 s, libpq's least).
  std::shared_ptr<PgPipeline> SilentPipeline(const testing::SilentServer& silent) {
    PgOptions options = options_;
    options.connect_timeout_s = 2;
    return PgPipeline::Create(silent.url(), options, reactor_, connector_);
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
  core::WorkPool connector_{3, 8};
  std::shared_ptr<PgPipeline> pipeline_;
};

TEST_F(PgPipelineTest, EachReadGetsItsOwnRowsFromManyThreads) {
  ASSERT_TRUE(Connected(*pipeline_));
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
  ASSERT_TRUE(Connected(*pipeline_));
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
  ASSERT_TRUE(Connected(*pipeline_));
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

// The reads sent on a connection that goes fail; one held back (never sent) waits for the next
// connection, as does a read sent while it is made.
TEST_F(PgPipelineTest, ReadsSentOnALostConnectionFailAndHeldOnesGoOverTheNextOne) {
  ASSERT_TRUE(Connected(*pipeline_));
  auto pid_future = Send(Read("SELECT pg_backend_pid()::text"));
  Seen pid = Await(pid_future);
  ASSERT_FALSE(pid.error);
  std::vector<std::future<Seen>> failing;
  for (std::size_t i = 0; i < PgPipeline::kMaxBatchesInFlight; ++i) {
    failing.push_back(Send(Read("SELECT pg_sleep(30)::text")));
    AwaitBatches(*pipeline_, i + 2);
  }
  auto held = Send(Read("SELECT v FROM t WHERE id = ?", {"5"}));
  ASSERT_TRUE(admin_->Exec("SELECT pg_terminate_backend(" + pid.values.at(0) + ")").ok());
  for (auto& future : failing) {
    Seen seen = Await(future);
    ASSERT_TRUE(seen.error);
    EXPECT_EQ(seen.error->problem_code, "database_unavailable");
  }
  auto again = Send(Read("SELECT v FROM t WHERE id = ?", {"6"}));
  for (auto [future, value] : {std::pair{&held, "v5"}, std::pair{&again, "v6"}}) {
    Seen seen = Await(*future);
    ASSERT_FALSE(seen.error) << seen.error->detail;
    EXPECT_EQ(seen.values, std::vector<std::string>{value});
  }
  EXPECT_EQ(pipeline_->counts().connects, 2u);
}

// A read sent before the pipeline has connected waits for the connection, without Ready().
TEST_F(PgPipelineTest, AReadSentBeforeTheConnectionIsMadeWaitsForIt) {
  EXPECT_FALSE(pipeline_->counts().connected);
  auto read = Send(Read("SELECT v FROM t WHERE id = ?", {"7"}));
  Seen seen = Await(read);
  ASSERT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"v7"});
  EXPECT_EQ(pipeline_->counts().connects, 1u);
}

// Reads sent to a server that never answers fail when the attempt to connect times out, and
// from then on at once (for a second), without another attempt.
TEST_F(PgPipelineTest, ReadsWaitingForAConnectionThatCannotBeMadeFailAsAnOutage) {
  testing::SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  auto pipeline = SilentPipeline(silent);
  std::vector<std::future<Seen>> reads;
  for (int i = 0; i < 3; ++i) reads.push_back(Send(Read("SELECT 1::text"), pipeline.get()));
  for (auto& future : reads) {
    Seen seen = Await(future);
    ASSERT_TRUE(seen.error);
    EXPECT_EQ(seen.error->problem_code, "database_unavailable");
  }
  auto late = Send(Read("SELECT 1::text"), pipeline.get());
  Seen seen = Await(late);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->problem_code, "database_unavailable");
  EXPECT_EQ(silent.accepted(), 1);
  pipeline->Close();
}

TEST_F(PgPipelineTest, NoRowsAndManyRowsReadAsStatementsDo) {
  ASSERT_TRUE(Connected(*pipeline_));
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
  ASSERT_TRUE(Connected(*pipeline_));
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
  ASSERT_TRUE(Connected(*pipeline_));
  auto future = Send(Read("SELECT v FROM t WHERE v = ?", {std::string("a\0b", 3)}));
  Seen seen = Await(future);
  ASSERT_TRUE(seen.error);
  EXPECT_EQ(seen.error->code, Code::kBadRequest);
  EXPECT_EQ(pipeline_->counts().reads, 0u);
}

TEST_F(PgPipelineTest, AStatementIsPreparedOnceOnTheConnection) {
  ASSERT_TRUE(Connected(*pipeline_));
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
  ASSERT_TRUE(Connected(*pipeline_));
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

  ASSERT_TRUE(Connected(*pipeline_));
  auto again = Send(Read("SELECT v FROM t WHERE id = ?", {"3"}));
  seen = Await(again);
  EXPECT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"v3"});
  EXPECT_EQ(pipeline_->counts().connects, 2u);
}

TEST_F(PgPipelineTest, AnIdleConnectionTheServerClosedIsNotUsedAgain) {
  ASSERT_TRUE(Connected(*pipeline_));
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
  ASSERT_TRUE(Connected(*pipeline_));
  auto read = Send(Read("SELECT v FROM t WHERE id = ?", {"4"}));
  Seen seen = Await(read);
  EXPECT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"v4"});
}

TEST_F(PgPipelineTest, CloseFailsPendingReadsAndEndsThePipeline) {
  ASSERT_TRUE(Connected(*pipeline_));
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
  auto pipeline =
      PgPipeline::Create("postgres://zebros@127.0.0.1:1/zebros", options_, reactor_, connector_);
  std::atomic<int> attempts{0};
  std::atomic<int> connected{0};
  pipeline->OnConnectAttempt([&](bool made) {
    connected += made ? 1 : 0;
    ++attempts;
  });
  EXPECT_FALSE(pipeline->Ready());  // starts the first attempt
  const auto ended = [&](int count) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (attempts < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    return attempts == count && !pipeline->Connecting();
  };
  ASSERT_TRUE(ended(1));
  EXPECT_FALSE(pipeline->Ready());  // within the second: not even tried
  EXPECT_FALSE(pipeline->Connecting());
  std::this_thread::sleep_for(1100ms);
  EXPECT_FALSE(pipeline->Ready());  // tried again
  ASSERT_TRUE(ended(2));
  EXPECT_EQ(connected, 0);
  EXPECT_EQ(pipeline->counts().connects, 0u);
}

// A server that takes connections and never answers (a hung database, a black-holed network)
// holds up the connector's thread until the connect timeout, never the thread that asked.
TEST_F(PgPipelineTest, ReadyDoesNotWaitForAServerThatNeverAnswers) {
  testing::SilentServer silent;
  ASSERT_NE(silent.port(), 0);
  auto pipeline = SilentPipeline(silent);
  std::promise<bool> attempt;
  pipeline->OnConnectAttempt([&attempt](bool made) { attempt.set_value(made); });
  EXPECT_FALSE(pipeline->Ready());
  // Ready() has returned while the attempt still waits for the server.
  EXPECT_TRUE(pipeline->Connecting());
  EXPECT_FALSE(pipeline->Ready());
  auto made = attempt.get_future();
  EXPECT_FALSE(Await(made));  // the connect timeout ends it
  EXPECT_FALSE(pipeline->Connecting());
  EXPECT_FALSE(pipeline->counts().connected);
  EXPECT_EQ(silent.accepted(), 1);
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
  // Read on this thread (through the pool) until the pipeline has connected.
  for (const auto deadline = std::chrono::steady_clock::now() + 20s;;) {
    bool on_loop = false;
    std::promise<void> answered;
    (*database)->ReadAsync(sql, params, [&](core::Result<sql::Statement>) {
      on_loop = reactor_.InLoopThread();
      answered.set_value();
    });
    answered.get_future().wait();
    if (on_loop || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(5ms);
  }
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

// Searches: each read with a sync of its own, so that a quick one is answered while a slow one
// behind it runs, and at most two at the server — the rest wait for an answer.
TEST_F(PgPipelineTest, OneByOneAnswersEachReadAsItEndsAndHoldsThoseBeyondTwo) {
  auto admin = Connect();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->Exec("SELECT pg_advisory_lock(42)").ok());
  auto pipeline =
      PgPipeline::Create(url_, options_, reactor_, connector_, PgPipeline::Batching::kOneByOne);
  ASSERT_TRUE(Connected(*pipeline));
  std::vector<std::future<Seen>> futures;
  OnLoop([&] {
    futures.push_back(Send(Read("SELECT v FROM t WHERE id = ?", {"1"}), pipeline.get()));
    futures.push_back(
        Send(Read("SELECT 'unlocked' FROM pg_advisory_xact_lock_shared(42)"), pipeline.get()));
    futures.push_back(Send(Read("SELECT v FROM t WHERE id = ?", {"2"}), pipeline.get()));
    futures.push_back(Send(Read("SELECT v FROM t WHERE id = ?", {"3"}), pipeline.get()));
  });
  // The first is answered before the second (blocked on the lock) ends; its answer sent the
  // third, which waits behind the second at the server; the fourth is held.
  Seen first = Await(futures[0]);
  ASSERT_FALSE(first.error) << first.error->detail;
  EXPECT_EQ(first.values, std::vector<std::string>{"v1"});
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  auto waiting = [&] {
    return QueryInt(*admin,
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
  };
  while (waiting() != 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(waiting(), 1);
  EXPECT_EQ(pipeline->counts().batches, 3u);
  for (std::size_t i = 1; i < futures.size(); ++i) {
    EXPECT_EQ(futures[i].wait_for(0s), std::future_status::timeout) << i;
  }
  ASSERT_TRUE(admin->Exec("SELECT pg_advisory_unlock(42)").ok());
  const std::vector<std::string> expected{"unlocked", "v2", "v3"};
  for (std::size_t i = 1; i < futures.size(); ++i) {
    Seen seen = Await(futures[i]);
    ASSERT_FALSE(seen.error) << seen.error->detail;
    EXPECT_EQ(seen.values, std::vector<std::string>{expected[i - 1]});
  }
  const auto counts = pipeline->counts();
  EXPECT_EQ(counts.reads, 4u);
  EXPECT_EQ(counts.batches, 4u);
  pipeline->Close();
}

// Searches wait in one queue for whichever backend answers first: a slow one holds up only the
// search sent behind it on its connection.
TEST_F(PgPipelineTest, SearchPipelinesGiveEachSearchToTheFirstFreeBackend) {
  auto admin = Connect();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->Exec("SELECT pg_advisory_lock(43)").ok());
  auto searches = PgSearchPipelines::Create(url_, options_, reactor_, connector_, 2);
  ASSERT_TRUE(Connected(*searches));
  auto send = [&](std::unique_ptr<PgRead> read) { return Search(*searches, std::move(read)); };
  std::future<Seen> blocked;
  std::vector<std::future<Seen>> quick;
  OnLoop([&] {
    blocked = send(Read("SELECT 'unlocked' FROM pg_advisory_xact_lock_shared(43)"));  // backend 1
    for (int id = 1; id <= 6; ++id) {
      // 1 and 3: backend 2; 2: behind the blocked one; the rest wait for an answer.
      quick.push_back(send(Read("SELECT v FROM t WHERE id = ?", {std::to_string(id)})));
    }
  });
  for (std::size_t i : {0u, 2u, 3u, 4u, 5u}) {
    Seen seen = Await(quick[i]);
    ASSERT_FALSE(seen.error) << seen.error->detail;
    EXPECT_EQ(seen.values, std::vector<std::string>{"v" + std::to_string(i + 1)});
  }
  EXPECT_EQ(blocked.wait_for(0s), std::future_status::timeout);
  EXPECT_EQ(quick[1].wait_for(0s), std::future_status::timeout);
  ASSERT_TRUE(admin->Exec("SELECT pg_advisory_unlock(43)").ok());
  Seen seen = Await(blocked);
  ASSERT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"unlocked"});
  seen = Await(quick[1]);
  ASSERT_FALSE(seen.error) << seen.error->detail;
  EXPECT_EQ(seen.values, std::vector<std::string>{"v2"});

  // Closed: what waits and what is sent later fail as an outage.
  ASSERT_TRUE(admin->Exec("SELECT pg_advisory_lock(43)").ok());
  std::vector<std::future<Seen>> cut;
  OnLoop([&] {
    for (int i = 0; i < 6; ++i) {
      cut.push_back(send(Read("SELECT 'unlocked' FROM pg_advisory_xact_lock_shared(43)")));
    }
    searches->Close();
  });
  cut.push_back(send(Read("SELECT 1::text")));
  for (auto& future : cut) {
    seen = Await(future);
    ASSERT_TRUE(seen.error);
    EXPECT_EQ(seen.error->problem_code, "database_unavailable");
  }
  EXPECT_FALSE(searches->Ready());
  ASSERT_TRUE(admin->Exec("SELECT pg_advisory_unlock(43)").ok());
}

// A backend that goes away fails the searches it had; those waiting go to its pipeline's new
// connection (or the other's), not down with it.
TEST_F(PgPipelineTest, SearchesWaitingWhenABackendIsTerminatedRunOnItsNewConnection) {
  auto admin = Connect();
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->Exec("SELECT pg_advisory_lock(44)").ok());
  auto searches = PgSearchPipelines::Create(url_, options_, reactor_, connector_, 2);
  ASSERT_TRUE(Connected(*searches));
  auto send = [&](std::unique_ptr<PgRead> read) { return Search(*searches, std::move(read)); };
  std::vector<std::future<Seen>> blocked;
  std::vector<std::future<Seen>> waiting;
  OnLoop([&] {
    for (int i = 0; i < 4; ++i) {  // two at each backend, the first of each running
      blocked.push_back(send(Read("SELECT 'unlocked' FROM pg_advisory_xact_lock_shared(44)")));
    }
    for (int id = 1; id <= 3; ++id) {
      waiting.push_back(send(Read("SELECT v FROM t WHERE id = ?", {std::to_string(id)})));
    }
  });
  const std::string running =
      "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
      " AND query LIKE '%pg_advisory_xact_lock_shared(44)%'";
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (QueryInt(*admin, running) != 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(QueryInt(*admin, running), 2);
  ASSERT_EQ(QueryInt(*admin,
                     "SELECT pg_terminate_backend(min(pid))::int FROM pg_stat_activity"
                     " WHERE wait_event_type = 'Lock'"
                     " AND query LIKE '%pg_advisory_xact_lock_shared(44)%'"),
            1);
  // The waiting three run on the terminated backend's successor while the other is blocked.
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    Seen seen = Await(waiting[i]);
    ASSERT_FALSE(seen.error) << seen.error->detail;
    EXPECT_EQ(seen.values, std::vector<std::string>{"v" + std::to_string(i + 1)});
  }
  ASSERT_TRUE(admin->Exec("SELECT pg_advisory_unlock(44)").ok());
  int failed = 0;
  for (auto& future : blocked) {
    Seen seen = Await(future);
    if (seen.error) {
      ++failed;
      EXPECT_EQ(seen.error->problem_code, "database_unavailable");
    } else {
      EXPECT_EQ(seen.values, std::vector<std::string>{"unlocked"});
    }
  }
  EXPECT_EQ(failed, 2);  // the terminated backend's two
  searches->Close();
}

TEST_F(PgPipelineTest, ADatabaseSearchesThroughItsSearchPipelinesOnlyWithAReactor) {
  auto database = PgDatabase::Open(url_, {}, clock_, {});
  ASSERT_TRUE(database.ok()) << database.error().detail;
  const std::string sql =
      "SELECT current_setting('plan_cache_mode') || ' ' || pg_backend_pid() || ' ' || v"
      " FROM t WHERE id = ?";
  const std::vector<boost::json::value> params{boost::json::value(9)};
  // Without one: not taken, and the callback is left to the caller.
  bool called = false;
  sql::Engine::ReadDone done = [&called](core::Result<sql::Statement>) { called = true; };
  EXPECT_FALSE((*database)->SearchAsync(sql, params, std::move(done)));
  ASSERT_TRUE(done);
  EXPECT_FALSE(called);

  (*database)->AttachReactor(&reactor_);
  // Not taken until the search pipelines have connected (asking starts them connecting).
  for (const auto deadline = std::chrono::steady_clock::now() + 20s;;) {
    auto answered = std::make_shared<std::promise<void>>();
    sql::Engine::ReadDone probe = [answered](core::Result<sql::Statement>) {
      answered->set_value();
    };
    if ((*database)->SearchAsync(sql, params, std::move(probe))) {
      answered->get_future().wait();
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(5ms);
  }
  // Two sent in one turn of the loop go to the two search connections, one each.
  using Answer = std::pair<std::string, bool>;  // the row, answered on the loop
  std::vector<std::future<Answer>> answers;
  OnLoop([&] {
    for (int i = 0; i < 2; ++i) {
      auto promise = std::make_shared<std::promise<Answer>>();
      answers.push_back(promise->get_future());
      const bool taken =
          (*database)->SearchAsync(sql, params, [this, promise](core::Result<sql::Statement> stmt) {
            const bool on_loop = reactor_.InLoopThread();
            promise->set_value(
                {stmt.ok() && stmt->Step().value() ? std::string(stmt->Text(0)) : "", on_loop});
          });
      EXPECT_TRUE(taken);
    }
  });
  std::vector<std::string> backends;
  for (auto& future : answers) {
    const auto [row, on_loop] = Await(future);
    EXPECT_TRUE(on_loop);
    // "force_generic_plan <pid> v9"
    const auto space = row.find(' ');
    const auto last = row.rfind(' ');
    ASSERT_NE(space, last) << row;
    EXPECT_EQ(row.substr(0, space), "force_generic_plan");
    EXPECT_EQ(row.substr(last + 1), "v9");
    backends.push_back(row.substr(space + 1, last - space - 1));
  }
  EXPECT_NE(backends[0], backends[1]);
  (*database)->AttachReactor(nullptr);
  done = [](core::Result<sql::Statement>) {};
  EXPECT_FALSE((*database)->SearchAsync(sql, params, std::move(done)));
}

}  // namespace
}  // namespace zebros::storage::postgres
