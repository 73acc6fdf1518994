#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace zebros::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Writes one JSON object per line to stderr: {"ts":…,"level":…,"msg":…, …fields}. Thread-safe.
// Callers pass only fields that are safe to keep: never secrets, keys, tokens or PII.
void Log(LogLevel level, std::string_view message, const boost::json::object& fields = {});
// Lines below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);

}  // namespace zebros::core
