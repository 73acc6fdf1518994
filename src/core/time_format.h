#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace zebros::core {

// "2026-11-25T15:20:00.123Z"
std::string FormatTimestamp(EpochMillis ms);
// FormatTimestamp appended to `out`.
void AppendTimestamp(std::string& out, EpochMillis ms);
// Accepts RFC 3339 date-times with a 'Z' or numeric offset and optional fraction. Returns
// nullopt for anything else, including impossible dates.
std::optional<EpochMillis> ParseTimestamp(std::string_view text);
// Accepts "YYYY-MM-DD" naming a real calendar day.
bool IsValidDate(std::string_view text);

}  // namespace zebros::core
