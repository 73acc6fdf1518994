#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zebros::core {

// Fills `size` bytes from the operating system's CSPRNG (OpenSSL). Throws on failure: without
// randomness no key or id can be issued safely.
std::string RandomBytes(std::size_t size);
// SHA-256 of `data`: the 32 raw bytes.
std::string Sha256(std::string_view data);
// SHA-256 of `data` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 (RFC 2104) of `data` under `key`, as 64 lowercase hex digits.
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Unpadded base64url (RFC 4648 section 5).
std::string Base64UrlEncode(std::string_view data);
std::optional<std::string> Base64UrlDecode(std::string_view text);
// Compares in time independent of where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace zebros::core
