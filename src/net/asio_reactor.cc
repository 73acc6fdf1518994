#include "net/asio_reactor.h"

#include <atomic>
#include <boost/asio/posix/descriptor_base.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <exception>
#include <utility>

#include "core/log.h"

namespace zebros::net {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

// An exception escaping a callback would end the thread running the loop (and with it the
// process, or HttpServer::Run); log it instead.
template <typename Fn, typename... Args>
void Invoke(const Fn& fn, Args... args) {
  try {
    fn(args...);
  } catch (const std::exception& e) {
    core::Log(core::LogLevel::kError, "reactor callback threw", {{"error", e.what()}});
  } catch (...) {
    core::Log(core::LogLevel::kError, "reactor callback threw");
  }
}

class AsioWatch final : public core::Reactor::Watch {
 public:
  AsioWatch(asio::io_context& io_context, int fd) : descriptor_(io_context) {
    error_code ec;
    descriptor_.assign(fd, ec);  // on failure the descriptor stays closed: waits report false
    if (ec) {
      core::Log(core::LogLevel::kWarn, "reactor cannot watch descriptor",
                {{"fd", fd}, {"error", ec.message()}});
    }
  }

  ~AsioWatch() override {
    cancelled_->store(true, std::memory_order_release);
    if (!descriptor_.is_open()) return;
    error_code ignored;
    descriptor_.cancel(ignored);  // a pending wait completes with operation_aborted
    // Unlike close() or the stream_descriptor's destructor, release() takes the descriptor out
    // of epoll and hands it back open: the owner closes it.
    static_cast<void>(descriptor_.release());
  }

  // Plain async_wait suffices although Asio registers descriptors edge-triggered: starting a
  // wait re-arms the registration with EPOLL_CTL_MOD, and the kernel then reports a descriptor
  // that is readable already (data that arrived before the wait, or that an earlier wait
  // reported and nobody read) at once. An error or hang-up completes the wait without an error
  // code. io_reactor_test.cc checks all of this (Boost 1.81 epoll_reactor::start_op).
  void AwaitReadable(std::function<void(bool readable)> ready) override {
    if (!descriptor_.is_open()) {
      asio::post(descriptor_.get_executor(), [ready = std::move(ready)] { Invoke(ready, false); });
      return;
    }
    // The handler may run after the watch is gone, so it holds nothing of the watch but the
    // shared flag.
    descriptor_.async_wait(
        asio::posix::descriptor_base::wait_read,
        [ready = std::move(ready), cancelled = cancelled_](const error_code& ec) {
          Invoke(ready, !ec && !cancelled->load(std::memory_order_acquire));
        });
  }

 private:
  // Set by the destructor, so that a wait which completed just before it, but whose handler
  // runs after, still reports false.
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  asio::posix::stream_descriptor descriptor_;
};

}  // namespace

void AsioReactor::Post(std::function<void()> fn) {
  asio::post(io_context_, [fn = std::move(fn)] { Invoke(fn); });
}

void AsioReactor::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  // The handler owns the timer: it lives until the wait completes, or until the io_context
  // destroys the handler uncalled.
  auto timer = std::make_shared<asio::steady_timer>(io_context_, delay);
  timer->async_wait([timer, fn = std::move(fn)](const error_code& ec) {
    if (!ec) Invoke(fn);
  });
}

std::unique_ptr<core::Reactor::Watch> AsioReactor::WatchDescriptor(int fd) {
  return std::make_unique<AsioWatch>(io_context_, fd);
}

}  // namespace zebros::net
