#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace zebros::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Writes one JSON object per line to stderr: {"ts":…,"level":…,"msg":…, …fields}. Thread-safe.
// Callers pass only fields that are safe to keep: never secrets, keys, tokens or PII.
void Log(LogLevel level, std::string_view message, const boost::json::object& fields = {});
// Log for lines written at a high rate (the access log: one per request), kept in memory and
// written together within kLogFlushIntervalMs, in order with every other line (Log writes them
// first), and at the process's normal exit: one write(2) for many lines instead of one each.
// Lost if the process is killed before they are written.
void LogSoon(LogLevel level, std::string_view message, const boost::json::object& fields);
inline constexpr int kLogFlushIntervalMs = 50;
// Lines below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);

}  // namespace zebros::core
