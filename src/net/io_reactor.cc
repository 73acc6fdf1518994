#include "net/io_reactor.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <utility>

#include "net/asio_reactor.h"

namespace zebros::net {

namespace asio = boost::asio;

class ReactorThread::Impl {
 public:
  Impl() : thread_([this] { io_context_.run(); }) {}

  ~Impl() {
    work_.reset();
    io_context_.stop();
    thread_.join();
    // The members go next: the io_context last, destroying the handlers that never ran.
  }

  AsioReactor& reactor() { return reactor_; }
  bool InLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  asio::io_context io_context_{1};  // concurrency hint: one thread runs it
  // Keeps run() going while nothing is pending.
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_context_.get_executor()};
  AsioReactor reactor_{io_context_};
  std::thread thread_;  // last: starts once everything it uses exists
};

ReactorThread::ReactorThread() : impl_(std::make_unique<Impl>()) {}

ReactorThread::~ReactorThread() = default;

void ReactorThread::Post(std::function<void()> fn) { impl_->reactor().Post(std::move(fn)); }

void ReactorThread::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  impl_->reactor().After(delay, std::move(fn));
}

std::unique_ptr<core::Reactor::Watch> ReactorThread::WatchDescriptor(int fd) {
  return impl_->reactor().WatchDescriptor(fd);
}

bool ReactorThread::InLoopThread() const { return impl_->InLoopThread(); }

}  // namespace zebros::net
