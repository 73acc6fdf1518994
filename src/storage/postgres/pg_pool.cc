#include "storage/postgres/pg_pool.h"

namespace zebros::storage::postgres {

PgPool::Lease& PgPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = other.pool_;
    connection_ = std::move(other.connection_);
  }
  return *this;
}

PgPool::Lease::~Lease() { Release(); }

void PgPool::Lease::Release() {
  if (connection_ != nullptr && pool_ != nullptr) pool_->Return(std::move(connection_));
  connection_.reset();
}

namespace {

// How long after a failed attempt to connect the next may be made (see PgPool).
constexpr auto kRetryDownAfter = std::chrono::seconds(1);

}  // namespace

PgPool::PgPool(std::string url, PgOptions options, int max_size)
    : url_(std::move(url)), options_(options), max_size_(max_size < 1 ? 1 : max_size) {}

PgPool::~PgPool() = default;

core::Result<PgPool::Lease> PgPool::Acquire(std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::unique_lock lock(mutex_);
  for (;;) {
    while (!idle_.empty()) {
      std::unique_ptr<PgConnection> connection = std::move(idle_.back());
      idle_.pop_back();
      // A connection whose server went away while it sat idle is noticed here rather than by
      // the caller's first statement. The check reads the socket: outside the lock, so that
      // borrowers on other threads do not queue behind it.
      lock.unlock();
      if (connection->CheckAlive()) return Lease(this, std::move(connection));
      connection.reset();
      lock.lock();
      --total_;
    }
    if (total_ < max_size_) {
      const bool probe = down_;
      if (probe) {
        const auto since = std::chrono::steady_clock::now() - failed_at_;
        if (probing_ || since < kRetryDownAfter) {
          return DatabaseUnavailable(
              "the database did not take a connection " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(since).count()) +
              " ms ago" + (probing_ ? "; another attempt is under way" : ""));
        }
        probing_ = true;
      }
      ++total_;  // reserves the slot while connecting outside the lock
      lock.unlock();
      auto opened = PgConnection::Open(url_, options_);
      lock.lock();
      if (probe) probing_ = false;
      down_ = !opened.ok();
      if (down_) {
        failed_at_ = std::chrono::steady_clock::now();
        --total_;
        returned_.notify_one();
        return std::move(opened).error();
      }
      return Lease(this, std::move(opened).value());
    }
    const bool available = returned_.wait_until(
        lock, deadline, [this] { return !idle_.empty() || total_ < max_size_; });
    if (!available) {
      return DatabaseUnavailable("no pooled connection free within " +
                                 std::to_string(wait.count()) + " ms (" +
                                 std::to_string(max_size_) + " open)");
    }
  }
}

void PgPool::Return(std::unique_ptr<PgConnection> connection) {
  bool keep = !connection->Broken();
  if (keep && connection->InTransaction()) {
    // Left inside a (possibly failed) transaction by its borrower: the next one must start clean.
    keep = connection->Exec("ROLLBACK").ok() && !connection->InTransaction();
  }
  if (!keep) connection.reset();  // closed outside the lock
  std::lock_guard lock(mutex_);
  if (keep) {
    idle_.push_back(std::move(connection));
  } else {
    --total_;
  }
  returned_.notify_one();
}

int PgPool::idle() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(idle_.size());
}

int PgPool::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace zebros::storage::postgres
