#include "core/time_format.h"

#include <charconv>
#include <cstdio>

namespace zebros::core {
namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool IsLeap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysInMonth(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool ReadDigits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool ParseDateAt(std::string_view text, int& y, int& m, int& d) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return false;
  if (!ReadDigits(text, 0, 4, y) || !ReadDigits(text, 5, 2, m) || !ReadDigits(text, 8, 2, d)) {
    return false;
  }
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && static_cast<unsigned>(d) <= DaysInMonth(y, m);
}

}  // namespace

void AppendTimestamp(std::string& out, EpochMillis ms) {
  std::int64_t days = ms / 86400000;
  std::int64_t rem = ms % 86400000;
  if (rem < 0) {
    rem += 86400000;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  const int hh = static_cast<int>(rem / 3600000);
  const int mm = static_cast<int>(rem / 60000 % 60);
  const int ss = static_cast<int>(rem / 1000 % 60);
  const int milli = static_cast<int>(rem % 1000);
  if (y < 0 || y > 9999) {  // outside what the API accepts; printf knows how to write it
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(y), m, d, hh, mm, ss, milli);
    out += buf;
    return;
  }
  // Digit by digit: list pages write three of these per record, and printf's format parsing
  // was a visible share of rendering one.
  char buf[] = "0000-00-00T00:00:00.000Z";
  const auto put = [&buf](int at, int width, int value) {
    for (int i = at + width - 1; i >= at; --i) {
      buf[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, 4, static_cast<int>(y));
  put(5, 2, static_cast<int>(m));
  put(8, 2, static_cast<int>(d));
  put(11, 2, hh);
  put(14, 2, mm);
  put(17, 2, ss);
  put(20, 3, milli);
  out.append(buf, sizeof buf - 1);
}

std::string FormatTimestamp(EpochMillis ms) {
  std::string out;
  out.reserve(24);
  AppendTimestamp(out, ms);
  return out;
}

std::optional<EpochMillis> ParseTimestamp(std::string_view text) {
  int y, mo, d, h, mi, s;
  if (!ParseDateAt(text, y, mo, d)) return std::nullopt;
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  if (!ReadDigits(text, 11, 2, h) || !ReadDigits(text, 14, 2, mi) || !ReadDigits(text, 17, 2, s)) {
    return std::nullopt;
  }
  if (h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::size_t pos = 19;
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (int i = digits; i < 3; ++i) millis *= 10;
  }
  if (pos >= text.size()) return std::nullopt;
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh, om;
    if (pos + 6 != text.size() || text[pos + 3] != ':' || !ReadDigits(text, pos + 1, 2, oh) ||
        !ReadDigits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t secs =
      days * 86400 + h * 3600 + mi * 60 + (s == 60 ? 59 : s) - offset_minutes * 60;
  // An offset can carry the instant out of years 1..9999, which FormatTimestamp cannot write
  // back as four digits.
  static const std::int64_t kFirstSecond = DaysFromCivil(1, 1, 1) * 86400;
  static const std::int64_t kLastSecond = DaysFromCivil(9999, 12, 31) * 86400 + 86399;
  if (secs < kFirstSecond || secs > kLastSecond) return std::nullopt;
  return secs * 1000 + millis;
}

bool IsValidDate(std::string_view text) {
  int y, m, d;
  return text.size() == 10 && ParseDateAt(text, y, m, d);
}

}  // namespace zebros::core
