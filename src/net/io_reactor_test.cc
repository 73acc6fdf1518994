#include "net/io_reactor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace zebros::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// Generous: the machine is shared; these bound a failure, they never pace a passing test.
constexpr seconds kDeadline{10};
// How long a wait that must not fire is watched. Passing never depends on it being short.
constexpr milliseconds kQuiet{100};

// Closes the descriptor it holds.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// The results of a watch's ready callbacks, in order, for the test thread to wait on.
class Readiness {
 public:
  std::function<void(bool)> Callback() {
    return [this](bool readable) {
      std::lock_guard lock(mu_);
      results_.push_back(readable);
      cv_.notify_all();
    };
  }

  // The next result, or nullopt when none arrived within `timeout`.
  std::optional<bool> Next(milliseconds timeout = kDeadline) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [this] { return results_.size() > taken_; })) {
      return std::nullopt;
    }
    return results_[taken_++];
  }

  std::size_t count() {
    std::lock_guard lock(mu_);
    return results_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> results_;  // GUARDED_BY(mu_)
  std::size_t taken_ = 0;      // GUARDED_BY(mu_)
};

bool WriteByte(int fd, char byte = 'x') {
  return ::send(fd, &byte, 1, MSG_NOSIGNAL) == 1 || ::write(fd, &byte, 1) == 1;
}

// Reads what is there without blocking (the watch made the descriptor non-blocking, but the
// test must not hang on a regression of that either).
std::string ReadAvailable(int fd) {
  std::string out;
  char chunk[256];
  for (;;) {
    const ssize_t got = ::recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (got <= 0) break;
    out.append(chunk, static_cast<std::size_t>(got));
  }
  return out;
}

class IoReactorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ours_ = std::make_unique<Fd>(fds[0]);
    peer_ = std::make_unique<Fd>(fds[1]);
  }

  // Runs `fn` on the loop and waits for it; false if it did not run within the deadline.
  bool RunOnLoop(std::function<void()> fn) {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    reactor_->Post([fn = std::move(fn), done] {
      fn();
      done->set_value();
    });
    return finished.wait_for(kDeadline) == std::future_status::ready;
  }

  // Returns once the loop has handled every readiness event the kernel had for it when this was
  // called. Two round trips: the loop may run the first posted handler before it processes the
  // epoll events collected in the same turn, but the second is queued behind them.
  bool Settle() {
    return RunOnLoop([] {}) && RunOnLoop([] {});
  }

  // Declared before the reactor, which is destroyed first: no callback runs once the rest goes.
  std::unique_ptr<Fd> ours_;
  std::unique_ptr<Fd> peer_;
  Readiness readiness_;
  std::unique_ptr<ReactorThread> reactor_ = std::make_unique<ReactorThread>();
};

TEST_F(IoReactorTest, WaitThenWriteReportsReadable) {
  auto watch = reactor_->WatchDescriptor(ours_->get());
  watch->AwaitReadable(readiness_.Callback());
  ASSERT_TRUE(Settle());
  EXPECT_EQ(readiness_.count(), 0u);  // nothing to read yet
  ASSERT_TRUE(WriteByte(peer_->get()));
  EXPECT_EQ(readiness_.Next(), true);
  EXPECT_EQ(ReadAvailable(ours_->get()), "x");
}

TEST_F(IoReactorTest, DataWrittenBeforeTheWatchExistedIsReportedAtOnce) {
  ASSERT_TRUE(WriteByte(peer_->get()));
  auto watch = reactor_->WatchDescriptor(ours_->get());
  // Registering the readable descriptor produced an edge; let the loop consume it with no wait
  // pending, so that the wait below cannot rely on it.
  ASSERT_TRUE(Settle());
  watch->AwaitReadable(readiness_.Callback());
  EXPECT_EQ(readiness_.Next(), true);
}

TEST_F(IoReactorTest, DataWrittenBetweenWaitsIsReportedAtOnce) {
  auto watch = reactor_->WatchDescriptor(ours_->get());
  ASSERT_TRUE(WriteByte(peer_->get()));
  ASSERT_TRUE(Settle());  // the edge of this write reaches the loop while no wait is pending
  watch->AwaitReadable(readiness_.Callback());
  EXPECT_EQ(readiness_.Next(), true);
}

TEST_F(IoReactorTest, UnreadDataIsReportedAgainAndADrainedDescriptorWaitsForNewData) {
  auto watch = reactor_->WatchDescriptor(ours_->get());
  watch->AwaitReadable(readiness_.Callback());
  ASSERT_TRUE(WriteByte(peer_->get(), 'a'));
  ASSERT_EQ(readiness_.Next(), true);

  // Not read: the next waits report it again, though no new edge arrives.
  for (int round = 0; round < 3; ++round) {
    watch->AwaitReadable(readiness_.Callback());
    EXPECT_EQ(readiness_.Next(), true) << "round " << round;
  }

  EXPECT_EQ(ReadAvailable(ours_->get()), "a");
  watch->AwaitReadable(readiness_.Callback());
  EXPECT_EQ(readiness_.Next(kQuiet), std::nullopt);  // drained: the wait stays pending
  ASSERT_TRUE(WriteByte(peer_->get(), 'b'));
  EXPECT_EQ(readiness_.Next(), true);
  EXPECT_EQ(ReadAvailable(ours_->get()), "b");
}

TEST_F(IoReactorTest, CallbackMayStartTheNextWait) {
  auto watch = reactor_->WatchDescriptor(ours_->get());
  std::promise<std::string> received;
  std::string data;
  std::function<void(bool)> on_ready = [&](bool readable) {
    ASSERT_TRUE(readable);
    data += ReadAvailable(ours_->get());
    if (data.size() < 3) {
      watch->AwaitReadable(on_ready);
    } else {
      received.set_value(data);
    }
  };
  watch->AwaitReadable(on_ready);
  auto result = received.get_future();
  for (char byte : std::string("abc")) {
    ASSERT_TRUE(WriteByte(peer_->get(), byte));
    ASSERT_TRUE(Settle());
  }
  ASSERT_EQ(result.wait_for(kDeadline), std::future_status::ready);
  EXPECT_EQ(result.get(), "abc");
}

TEST_F(IoReactorTest, DestroyingTheWatchCancelsTheWaitAndLeavesTheDescriptorOpen) {
  auto watch = reactor_->WatchDescriptor(ours_->get());
  watch->AwaitReadable(readiness_.Callback());
  ASSERT_TRUE(Settle());
  watch.reset();
  // On a running loop the cancelled wait reports false (the contract also allows no call).
  EXPECT_EQ(readiness_.Next(), false);
  ASSERT_TRUE(Settle());
  EXPECT_EQ(readiness_.count(), 1u);

  EXPECT_NE(::fcntl(ours_->get(), F_GETFD), -1);
  ASSERT_TRUE(WriteByte(peer_->get(), 'k'));
  ASSERT_TRUE(WriteByte(ours_->get(), 'r'));
  EXPECT_EQ(readiness_.Next(kQuiet), std::nullopt);  // the old watch no longer listens
  EXPECT_EQ(ReadAvailable(peer_->get()), "r");

  // The descriptor can be watched again.
  auto again = reactor_->WatchDescriptor(ours_->get());
  again->AwaitReadable(readiness_.Callback());
  EXPECT_EQ(readiness_.Next(), true);
  EXPECT_EQ(ReadAvailable(ours_->get()), "k");
}

TEST_F(IoReactorTest, WatchOfAReadyDescriptorDestroyedWhileTheLoopIsBusyReportsFalse) {
  auto watch = reactor_->WatchDescriptor(ours_->get());
  ASSERT_TRUE(WriteByte(peer_->get()));
  // Hold the loop thread, so that the wait cannot complete before the watch is gone.
  std::promise<void> release_loop;
  std::shared_future<void> released = release_loop.get_future().share();
  std::promise<void> loop_held;
  reactor_->Post([&loop_held, released] {
    loop_held.set_value();
    released.wait();
  });
  ASSERT_EQ(loop_held.get_future().wait_for(kDeadline), std::future_status::ready);
  watch->AwaitReadable(readiness_.Callback());
  watch.reset();
  release_loop.set_value();
  EXPECT_EQ(readiness_.Next(), false);
  EXPECT_NE(::fcntl(ours_->get(), F_GETFD), -1);
}

TEST_F(IoReactorTest, PeerClosedCountsAsReadable) {
  auto watch = reactor_->WatchDescriptor(ours_->get());
  watch->AwaitReadable(readiness_.Callback());
  ASSERT_TRUE(Settle());
  peer_->Close();
  EXPECT_EQ(readiness_.Next(), true);
  // Still pending (nothing reads the end of file): reported again at once.
  watch->AwaitReadable(readiness_.Callback());
  EXPECT_EQ(readiness_.Next(), true);
}

TEST_F(IoReactorTest, PipeWriterClosedCountsAsReadable) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  Fd read_end(fds[0]);
  Fd write_end(fds[1]);
  auto watch = reactor_->WatchDescriptor(read_end.get());
  watch->AwaitReadable(readiness_.Callback());
  ASSERT_TRUE(Settle());
  EXPECT_EQ(readiness_.count(), 0u);
  write_end.Close();
  EXPECT_EQ(readiness_.Next(), true);
}

TEST_F(IoReactorTest, PendingSocketErrorCountsAsReadable) {
  // A UDP socket connected to a port nobody listens on: the ICMP port-unreachable answer to a
  // datagram leaves ECONNREFUSED pending on the socket (EPOLLERR, no data).
  Fd closed_port(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::bind(closed_port.get(), reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::getsockname(closed_port.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  closed_port.Close();

  Fd udp(::socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_EQ(::connect(udp.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  auto watch = reactor_->WatchDescriptor(udp.get());
  watch->AwaitReadable(readiness_.Callback());
  ASSERT_TRUE(Settle());
  EXPECT_EQ(readiness_.count(), 0u);
  ASSERT_TRUE(WriteByte(udp.get()));
  EXPECT_EQ(readiness_.Next(), true);
  int error = 0;
  socklen_t error_length = sizeof(error);
  ASSERT_EQ(::getsockopt(udp.get(), SOL_SOCKET, SO_ERROR, &error, &error_length), 0);
  EXPECT_EQ(error, ECONNREFUSED);
  watch.reset();
}

TEST_F(IoReactorTest, UnwatchableDescriptorReportsFalse) {
  auto watch = reactor_->WatchDescriptor(-1);
  watch->AwaitReadable(readiness_.Callback());
  EXPECT_EQ(readiness_.Next(), false);
}

// Asio puts every descriptor it waits on into non-blocking mode; the owner should know.
TEST_F(IoReactorTest, FirstWaitMakesTheDescriptorNonBlockingForGood) {
  ASSERT_EQ(::fcntl(ours_->get(), F_GETFL) & O_NONBLOCK, 0);
  auto watch = reactor_->WatchDescriptor(ours_->get());
  EXPECT_EQ(::fcntl(ours_->get(), F_GETFL) & O_NONBLOCK, 0);
  watch->AwaitReadable(readiness_.Callback());
  EXPECT_NE(::fcntl(ours_->get(), F_GETFL) & O_NONBLOCK, 0);
  watch.reset();
  EXPECT_NE(::fcntl(ours_->get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(IoReactorTest, PostRunsOnTheLoopThreadInOrder) {
  EXPECT_FALSE(reactor_->InLoopThread());
  std::vector<int> order;
  std::vector<bool> on_loop;
  for (int i = 0; i < 5; ++i) {
    reactor_->Post([&order, &on_loop, this, i] {
      order.push_back(i);
      on_loop.push_back(reactor_->InLoopThread());
    });
  }
  ASSERT_TRUE(RunOnLoop([] {}));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(on_loop, std::vector<bool>(5, true));
}

TEST_F(IoReactorTest, AfterRunsOnTheLoopThreadOnceTheDelayPassed) {
  constexpr milliseconds kDelay{150};
  std::promise<std::pair<SteadyClock::time_point, bool>> fired;
  const auto start = SteadyClock::now();
  reactor_->After(kDelay, [&fired, this] {
    fired.set_value({SteadyClock::now(), reactor_->InLoopThread()});
  });
  auto result = fired.get_future();
  ASSERT_EQ(result.wait_for(kDeadline), std::future_status::ready);
  const auto [when, on_loop] = result.get();
  EXPECT_GE(when - start, kDelay);
  EXPECT_TRUE(on_loop);
}

TEST_F(IoReactorTest, TimerPendingWhenTheReactorStopsNeverRunsAndIsFreed) {
  auto ran = std::make_shared<std::atomic<int>>(0);
  reactor_->After(std::chrono::hours(1), [ran] { ++*ran; });
  ASSERT_TRUE(Settle());
  reactor_.reset();
  EXPECT_EQ(ran->load(), 0);
  EXPECT_EQ(ran.use_count(), 1);  // the handler (and with it the timer) was destroyed
}

TEST_F(IoReactorTest, ThrowingCallbackDoesNotStopTheLoop) {
  reactor_->Post([] { throw std::runtime_error("boom"); });
  EXPECT_TRUE(RunOnLoop([] {}));
}

TEST_F(IoReactorTest, ConcurrentPostsFromSeveralThreadsAllRun) {
  constexpr int kThreads = 4;
  constexpr int kPostsPerThread = 2000;
  std::mutex mu;
  std::condition_variable cv;
  int ran = 0;  // GUARDED_BY(mu)
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kPostsPerThread; ++i) {
        reactor_->Post([&] {
          std::lock_guard lock(mu);
          ++ran;
          cv.notify_all();
        });
      }
    });
  }
  for (auto& poster : posters) poster.join();
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, kDeadline, [&] { return ran == kThreads * kPostsPerThread; }))
      << ran;
}

}  // namespace
}  // namespace zebros::net
