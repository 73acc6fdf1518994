#include "core/json.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace zebros::core {
namespace {
namespace json = boost::json;

// Asserts `text` fails as malformed JSON whose message names byte `position`.
void ExpectMalformedAt(std::string_view text, std::size_t position, const JsonLimits& limits = {}) {
  auto parsed = ParseJson(text, limits);
  ASSERT_FALSE(parsed.ok()) << text;
  EXPECT_EQ(parsed.error().code, Code::kBadRequest) << text;
  EXPECT_EQ(parsed.error().problem_code, "malformed_json") << text;
  EXPECT_NE(parsed.error().public_message.find("at byte " + std::to_string(position) + ")"),
            std::string::npos)
      << text << " -> " << parsed.error().public_message;
}

void ExpectLimitExceeded(std::string_view text, const JsonLimits& limits) {
  auto parsed = ParseJson(text, limits);
  ASSERT_FALSE(parsed.ok()) << text;
  EXPECT_EQ(parsed.error().code, Code::kBadRequest);
  EXPECT_EQ(parsed.error().problem_code, "json_limit_exceeded") << text;
}

TEST(ParseJsonTest, ParsesValidDocuments) {
  auto parsed = ParseJson(R"({"name":"Ada","n":[1,2.5,-3,true,null],"o":{}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().public_message;
  const auto& object = parsed->as_object();
  EXPECT_EQ(object.at("name"), "Ada");
  EXPECT_EQ(object.at("n").as_array().size(), 5u);
  EXPECT_EQ(object.at("n").as_array()[1].as_double(), 2.5);
  EXPECT_TRUE(ParseJson("  [ ]  \n").ok());
  EXPECT_TRUE(ParseJson("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"").ok());  // é € 😀
  EXPECT_TRUE(ParseJson("0").ok());
}

TEST(ParseJsonTest, ErrorsNameTheBytePosition) {
  ExpectMalformedAt(R"({"a":1,})", 7);    // trailing comma: the '}' is wrong
  ExpectMalformedAt(R"({"a": tru})", 6);  // bad literal: where it starts
  ExpectMalformedAt(R"([1 2])", 3);       // missing comma
  ExpectMalformedAt(R"({'a':1})", 1);     // single quotes
  ExpectMalformedAt(R"({"a":01})", 6);    // leading zero
}

TEST(ParseJsonTest, RejectsWhatStrictJsonForbids) {
  const char* bad[] = {
      "",                      // empty body
      "   ",                   //
      "{",                     // truncated
      R"({"a":)",              //
      R"([1,2,])",             // trailing comma in an array
      R"({"a":1} // note)",    // comment
      R"(/* c */ {"a":1})",    //
      R"({"a":1} {"b":2})",    // two documents
      R"({"a":1} x)",          // trailing garbage
      R"({a:1})",              // unquoted key
      "NaN",                   //
      "Infinity",              //
      "-",                     //
      "1.",                    //
      ".5",                    //
      "+1",                    //
      "0x10",                  //
      "\"tab\tinside\"",       // raw control character in a string
      "\"bad escape \\x41\"",  //
      "\"\\u12\"",             // short \u escape
      "\"\xFF\"",              // invalid UTF-8
      "\"\xC3\"",              // truncated UTF-8 sequence
      "\"\xC0\xAF\"",          // overlong encoding of '/'
      "\"\xED\xA0\x80\"",      // UTF-8 encoded surrogate
  };
  for (const char* text : bad) {
    auto parsed = ParseJson(text);
    ASSERT_FALSE(parsed.ok()) << '"' << text << '"';
    EXPECT_EQ(parsed.error().code, Code::kBadRequest) << text;
    EXPECT_EQ(parsed.error().problem_code, "malformed_json") << text;
  }
  // A NUL byte after the document is trailing garbage, not an end of input.
  EXPECT_FALSE(ParseJson(std::string_view("[1]\0", 4)).ok());
}

TEST(ParseJsonTest, RejectsDuplicateKeys) {
  // Two values for one key let two parsers disagree about a request (the header promises strict
  // parsing and json.cc says duplicates are checked).
  auto parsed = ParseJson(R"({"role":"read_only","role":"admin"})");
  EXPECT_FALSE(parsed.ok()) << "accepted as " << WriteJson(parsed.value());
}

TEST(ParseJsonTest, DepthLimit) {
  JsonLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(ParseJson("[[[1]]]", limits).ok());
  EXPECT_TRUE(ParseJson(R"({"a":{"b":[1]}})", limits).ok());
  EXPECT_FALSE(ParseJson("[[[[1]]]]", limits).ok());
  EXPECT_FALSE(ParseJson(R"({"a":{"b":{"c":{"d":1}}}})", limits).ok());

  // The default allows 32 levels, not 33, and a deep document cannot exhaust the stack.
  const std::string ok_depth = std::string(32, '[') + std::string(32, ']');
  const std::string too_deep = std::string(33, '[') + std::string(33, ']');
  EXPECT_TRUE(ParseJson(ok_depth).ok());
  auto parsed = ParseJson(too_deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, Code::kBadRequest);
  EXPECT_FALSE(ParseJson(std::string(100000, '[')).ok());
}

TEST(ParseJsonTest, StringLengthLimit) {
  JsonLimits limits;
  limits.max_string_bytes = 8;
  EXPECT_TRUE(ParseJson(R"("12345678")", limits).ok());
  ExpectLimitExceeded(R"("123456789")", limits);
  ExpectLimitExceeded(R"({"a":[1,{"b":"123456789"}]})", limits);  // nested anywhere
  ExpectLimitExceeded(R"({"123456789":1})", limits);              // keys too
  // The limit counts bytes of the decoded string, not characters: four 2-byte letters fit,
  // five do not.
  EXPECT_TRUE(ParseJson("\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"", limits).ok());
  ExpectLimitExceeded("\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"", limits);
  // The default is 64 KiB.
  EXPECT_TRUE(ParseJson("\"" + std::string(65536, 'x') + "\"").ok());
  ExpectLimitExceeded("\"" + std::string(65537, 'x') + "\"", JsonLimits{});
}

TEST(ParseJsonTest, KeyCountLimit) {
  JsonLimits limits;
  limits.max_keys_per_object = 2;
  EXPECT_TRUE(ParseJson(R"({"a":1,"b":2})", limits).ok());
  ExpectLimitExceeded(R"({"a":1,"b":2,"c":3})", limits);
  ExpectLimitExceeded(R"([{"x":{"a":1,"b":2,"c":3}}])", limits);
}

TEST(WriteJsonTest, WritesNumbersAsPeopleExpect) {
  EXPECT_EQ(WriteJson(json::value(1234.5)), "1234.5");
  EXPECT_EQ(WriteJson(json::value(0.1)), "0.1");
  EXPECT_EQ(WriteJson(json::value(19.99)), "19.99");
  EXPECT_EQ(WriteJson(json::value(-0.5)), "-0.5");
  EXPECT_EQ(WriteJson(json::value(std::int64_t{42})), "42");
  EXPECT_EQ(WriteJson(json::value(std::numeric_limits<std::int64_t>::min())),
            "-9223372036854775808");
  EXPECT_EQ(WriteJson(json::value(std::numeric_limits<std::uint64_t>::max())),
            "18446744073709551615");
  // Not finite numbers have no JSON form.
  EXPECT_EQ(WriteJson(json::value(std::nan(""))), "null");
  EXPECT_EQ(WriteJson(json::value(std::numeric_limits<double>::infinity())), "null");
}

TEST(WriteJsonTest, EscapesControlCharactersQuotesAndBackslashes) {
  EXPECT_EQ(WriteJson(json::value("a\"b\\c")), R"("a\"b\\c")");
  EXPECT_EQ(WriteJson(json::value("\n\r\t\b\f")), R"("\n\r\t\b\f")");
  EXPECT_EQ(WriteJson(json::value(std::string("\x00\x01\x1f", 3))), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(WriteJson(json::value("\x7f")), "\"\x7f\"");  // DEL needs no escape
  EXPECT_EQ(WriteJson(json::value("</script>")), R"("</script>")");
  EXPECT_EQ(WriteJson(json::value("\xC3\xA9")), "\"\xC3\xA9\"");  // UTF-8 passes through
  // Keys are escaped like values.
  EXPECT_EQ(WriteJson(json::object{{"a\nb", 1}}), R"({"a\nb":1})");
  // Every control character comes out escaped.
  for (int c = 0; c < 0x20; ++c) {
    const std::string text = WriteJson(json::value(std::string(1, static_cast<char>(c))));
    for (char out : text) EXPECT_GE(static_cast<unsigned char>(out), 0x20) << "char " << c;
  }
}

TEST(WriteJsonTest, WritesCompactContainers) {
  json::value value = {{"a", json::array{1, "x", nullptr, true, false}}, {"b", json::object{}}};
  EXPECT_EQ(WriteJson(value), R"({"a":[1,"x",null,true,false],"b":{}})");
  EXPECT_EQ(WriteJson(json::array{}), "[]");
}

TEST(WriteJsonTest, RoundTripsThroughParseJson) {
  std::string all_bytes;
  for (int c = 1; c < 0x80; ++c) all_bytes.push_back(static_cast<char>(c));
  json::value value = {
      {"text", all_bytes},
      {"nul", std::string("a\0b", 3)},
      {"unicode", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},
      {"numbers", json::array{0, -1, 1234.5, 0.1, 1e-7, 1.7976931348623157e308, 5e-324,
                              std::numeric_limits<std::int64_t>::max(),
                              std::numeric_limits<std::uint64_t>::max(), 123456789.125}},
      {"nested", json::array{json::object{{"k", json::array{json::array{}}}}}},
      {"flags", json::array{true, false, nullptr}},
  };
  const std::string text = WriteJson(value);
  auto parsed = ParseJson(text);
  ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().public_message;
  EXPECT_EQ(*parsed, value) << text;
  EXPECT_EQ(WriteJson(*parsed), text);
}

TEST(AppendJsonTest, AppendsToExistingText) {
  std::string out = "x=";
  AppendJson(out, json::array{1, 2});
  AppendJsonString(out, "q\"");
  EXPECT_EQ(out, R"(x=[1,2]"q\"")");
}

}  // namespace
}  // namespace zebros::core
