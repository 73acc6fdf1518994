#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "core/clock.h"
#include "core/json.h"
#include "core/time_format.h"

namespace zebros::core {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kInfo};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Writes all of `text` to stderr; gives up when stderr takes nothing (nowhere to log to: the
// program goes on regardless).
void WriteAll(std::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

std::string FormatLine(LogLevel level, std::string_view message,
                       const boost::json::object& fields) {
  std::string line;
  line.reserve(256);
  line += "{\"ts\":\"";
  line += FormatTimestamp(SystemClock().NowMillis());
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"msg\":";
  AppendJsonString(line, message);
  for (const auto& member : fields) {
    line.push_back(',');
    AppendJsonString(line, member.key());
    line.push_back(':');
    AppendJson(line, member.value());
  }
  line += "}\n";
  return line;
}

// Lines LogSoon keeps, and the thread that writes them. Lines reach stderr in the order they
// were logged: whoever writes takes what is kept first, under write_mutex_.
class LineBuffer {
 public:
  ~LineBuffer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
    Flush({});
  }

  void Keep(std::string_view line) {
    bool first = false;
    bool over = false;
    {
      std::lock_guard lock(mutex_);
      if (!stopping_ && !writer_.joinable()) Start();
      first = kept_.empty();
      kept_ += line;
      over = kept_.size() >= kMaxKeptBytes || !writer_.joinable();
    }
    // Past the cap, or without a writer thread, the caller writes (as it did before buffering):
    // a stderr that cannot keep up slows the loggers down instead of growing this buffer.
    if (over) {
      Flush({});
    } else if (first) {
      wake_.notify_one();  // only the first line wakes the writer: a wake-up per line would cost
                           // as much as the write(2) it saves
    }
  }

  // Writes what is kept, then `line`.
  void Flush(std::string_view line) {
    std::lock_guard write_lock(write_mutex_);
    std::string out;
    {
      std::lock_guard lock(mutex_);
      out.swap(kept_);
    }
    out += line;
    WriteAll(out);
  }

 private:
  static constexpr std::size_t kMaxKeptBytes = 4 << 20;

  void Start() {
    try {
      writer_ = std::thread([this] { Run(); });
    } catch (const std::system_error&) {
      // No thread: Keep writes at once.
    }
  }

  void Run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      wake_.wait(lock, [this] { return stopping_ || !kept_.empty(); });
      if (stopping_) break;
      // The first line kept starts the interval; what comes meanwhile goes with it. Slept
      // without the lock, and not on wake_, so loggers have nobody to wake.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(kLogFlushIntervalMs));
      Flush({});
      lock.lock();
    }
  }

  std::mutex write_mutex_;  // taken before mutex_
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string kept_;  // guarded by mutex_
  bool stopping_ = false;
  std::thread writer_;
};

// Set once the buffer is gone (static destruction): later lines are written at once.
std::atomic<bool> g_buffer_gone{false};

struct BufferHolder {
  LineBuffer buffer;
  ~BufferHolder() { g_buffer_gone.store(true); }
};

LineBuffer* Buffer() {
  static BufferHolder holder;
  return g_buffer_gone.load() ? nullptr : &holder.buffer;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }

namespace {
// Log and LogSoon: `soon` keeps the line for the writer thread.
void Emit(LogLevel level, std::string_view message, const boost::json::object& fields, bool soon) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  const std::string line = FormatLine(level, message, fields);
  auto* buffer = Buffer();
  if (buffer == nullptr) return WriteAll(line);
  if (soon) return buffer->Keep(line);
  // At once: after what LogSoon kept, in one write(2) (the kernel keeps a write whole against
  // other writers of the same file, and of a pipe up to PIPE_BUF).
  buffer->Flush(line);
}
}  // namespace

void Log(LogLevel level, std::string_view message, const boost::json::object& fields) {
  Emit(level, message, fields, false);
}

void LogSoon(LogLevel level, std::string_view message, const boost::json::object& fields) {
  Emit(level, message, fields, true);
}

}  // namespace zebros::core
