#include "core/ids.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "core/crypto.h"

namespace zebros::core {
namespace {
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::mutex g_mutex;
EpochMillis g_last_ms = -1;
std::array<std::uint8_t, 10> g_last_random{};

bool IsCrockford(char c) {
  for (const char* p = kCrockford; *p; ++p) {
    if (*p == c) return true;
  }
  return false;
}
}  // namespace

std::string IdGenerator::Next(std::string_view prefix) {
  std::array<std::uint8_t, 16> bytes{};
  EpochMillis ms = clock_.NowMillis();
  {
    // The monotonic state is process-wide so that two generators can never issue equal ids.
    std::lock_guard lock(g_mutex);
    if (ms <= g_last_ms) {
      ms = g_last_ms;
      int i = 9;
      while (i >= 0 && ++g_last_random[static_cast<std::size_t>(i)] == 0) --i;
      if (i < 0) ++ms;  // 80-bit overflow: borrow the next millisecond
    } else {
      const std::string fresh = RandomBytes(10);
      for (std::size_t i = 0; i < 10; ++i) g_last_random[i] = static_cast<std::uint8_t>(fresh[i]);
    }
    g_last_ms = ms;
    for (int i = 0; i < 6; ++i) bytes[static_cast<std::size_t>(i)] = (ms >> (40 - 8 * i)) & 0xFF;
    for (std::size_t i = 0; i < 10; ++i) bytes[6 + i] = g_last_random[i];
  }
  std::string out;
  out.reserve(prefix.size() + 27);
  out.append(prefix);
  out.push_back('_');
  // 128 bits as 26 base32 digits, most significant first; the first digit carries 3 bits.
  auto bit = [&bytes](int index) {  // index 0 = least significant bit
    return (bytes[15 - static_cast<std::size_t>(index / 8)] >> (index % 8)) & 1;
  };
  char digits[26];
  for (int d = 0; d < 26; ++d) {
    unsigned v = 0;
    for (int b = 4; b >= 0; --b) {
      const int index = (25 - d) * 5 + b;
      v = (v << 1) | (index < 128 ? static_cast<unsigned>(bit(index)) : 0u);
    }
    digits[d] = kCrockford[v];
  }
  out.append(digits, 26);
  return out;
}

bool IsWellFormedId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 27 || id.substr(0, prefix.size()) != prefix ||
      id[prefix.size()] != '_') {
    return false;
  }
  for (char c : id.substr(prefix.size() + 1)) {
    if (!IsCrockford(c)) return false;
  }
  return id[prefix.size() + 1] <= '7';
}

EpochMillis IdTime(std::string_view id, std::string_view prefix) {
  // The first 10 base32 digits hold the 48-bit time, most significant first.
  const std::string_view digits = id.substr(prefix.size() + 1, 10);
  EpochMillis time = 0;
  for (char c : digits) {
    const char* at = std::strchr(kCrockford, c);
    time = time * 32 + (at - kCrockford);
  }
  return time;
}

}  // namespace zebros::core
