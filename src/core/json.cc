#include "core/json.h"

#include <boost/json/parser.hpp>
#include <boost/json/stream_parser.hpp>
#include <charconv>
#include <cmath>

namespace zebros::core {
namespace json = boost::json;
namespace {

// Boost.JSON checks depth while parsing; string lengths and key counts are checked afterwards
// on the parsed tree, which also counts its object keys into `keys`.
const char* CheckTree(const json::value& value, const JsonLimits& limits, std::size_t& keys) {
  switch (value.kind()) {
    case json::kind::string:
      return value.get_string().size() > limits.max_string_bytes ? "string too long" : nullptr;
    case json::kind::array:
      for (const auto& item : value.get_array()) {
        if (const char* problem = CheckTree(item, limits, keys)) return problem;
      }
      return nullptr;
    case json::kind::object: {
      const auto& object = value.get_object();
      if (object.size() > limits.max_keys_per_object) return "too many keys in an object";
      keys += object.size();
      for (const auto& member : object) {
        if (member.key().size() > limits.max_string_bytes) return "key too long";
        if (const char* problem = CheckTree(member.value(), limits, keys)) return problem;
      }
      return nullptr;
    }
    default:
      return nullptr;
  }
}

// Counts the object keys written in `text`, which is known to be valid JSON: a string followed
// by ':' is a key. Boost.JSON keeps the last of duplicate keys silently; comparing this count
// with the parsed tree's reveals them, so two parsers can never read one request differently.
std::size_t CountKeysInText(std::string_view text) {
  std::size_t keys = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '"') {
      ++i;
      continue;
    }
    for (++i; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\') ++i;
    }
    ++i;
    std::size_t j = i;
    while (j < text.size() &&
           (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) {
      ++j;
    }
    if (j < text.size() && text[j] == ':') ++keys;
  }
  return keys;
}

}  // namespace

Result<json::value> ParseJson(std::string_view text, const JsonLimits& limits) {
  json::parse_options options;
  options.max_depth = limits.max_depth;
  options.allow_comments = false;
  options.allow_trailing_commas = false;
  options.allow_invalid_utf8 = false;
  json::stream_parser parser({}, options);
  boost::system::error_code ec;
  const std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    return MakeError(Code::kBadRequest, "malformed_json",
                     "The request body is not valid JSON (at byte " + std::to_string(consumed) +
                         "): " + ec.message() + ".");
  }
  json::value value = parser.release();
  std::size_t keys = 0;
  if (const char* problem = CheckTree(value, limits, keys)) {
    return MakeError(Code::kBadRequest, "json_limit_exceeded",
                     std::string("The request body exceeds a JSON limit: ") + problem + ".");
  }
  if (keys != CountKeysInText(text)) {
    return MakeError(Code::kBadRequest, "duplicate_json_key",
                     "The request body names the same key twice in one object.");
  }
  return value;
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out.push_back('"');
}

void AppendJson(std::string& out, const json::value& value) {
  char buf[32];
  switch (value.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case json::kind::int64: {
      auto r = std::to_chars(buf, buf + sizeof buf, value.get_int64());
      out.append(buf, r.ptr);
      return;
    }
    case json::kind::uint64: {
      auto r = std::to_chars(buf, buf + sizeof buf, value.get_uint64());
      out.append(buf, r.ptr);
      return;
    }
    case json::kind::double_: {
      const double d = value.get_double();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      out.append(buf, r.ptr);
      return;
    }
    case json::kind::string:
      AppendJsonString(out, value.get_string());
      return;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJson(out, item);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(out, member.key());
        out.push_back(':');
        AppendJson(out, member.value());
      }
      out.push_back('}');
      return;
    }
  }
}

std::string WriteJson(const json::value& value) {
  std::string out;
  out.reserve(256);
  AppendJson(out, value);
  return out;
}

}  // namespace zebros::core
