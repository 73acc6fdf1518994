#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace zebros::core {

// Limits a request body's JSON must respect; defaults are generous for a CRM record.
struct JsonLimits {
  std::size_t max_depth = 32;
  std::size_t max_string_bytes = 65536;
  std::size_t max_keys_per_object = 1000;
};

// Parses strict RFC 8259 JSON (no comments, no trailing commas, valid UTF-8, no
// duplicate keys in an object).
// On failure returns kBadRequest with problem code `malformed_json` and the byte offset in the
// public message.
Result<boost::json::value> ParseJson(std::string_view text, const JsonLimits& limits = {});

// Serialises `value` compactly. Unlike boost::json::serialize, doubles are written in the
// shortest round-trip form a person expects ("1234.5", not "1.2345E3").
std::string WriteJson(const boost::json::value& value);
void AppendJson(std::string& out, const boost::json::value& value);
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace zebros::core
