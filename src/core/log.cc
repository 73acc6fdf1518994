#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>

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
}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }

void Log(LogLevel level, std::string_view message, const boost::json::object& fields) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
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
  // One write(2) per line and no lock: the kernel keeps a write whole against other writers of
  // the same file (and of a pipe, up to PIPE_BUF), and the I/O threads, which each log every
  // request, no longer queue on a mutex.
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // nowhere to log to: the request goes on regardless
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace zebros::core
