#include "api/form_body.h"

#include <gtest/gtest.h>

namespace zebros::api {
namespace {

TEST(FormBodyTest, DecodesPairs) {
  auto params = ParseForm("grant_type=password&username=a%40b.c&password=p+w%2Bd&empty=&flag");
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(FormValue(*params, "grant_type"), "password");
  EXPECT_EQ(FormValue(*params, "username"), "a@b.c");
  EXPECT_EQ(FormValue(*params, "password"), "p w+d");
  EXPECT_EQ(params->count("empty"), 1u);
  EXPECT_EQ(params->count("flag"), 1u);
  EXPECT_EQ(FormValue(*params, "missing"), "");
}

TEST(FormBodyTest, RefusesRepeatsAndBadEscapes) {
  auto repeated = ParseForm("code=a&code=b");
  ASSERT_FALSE(repeated.ok());
  EXPECT_EQ(repeated.error().problem_code, "invalid_request");
  EXPECT_FALSE(ParseForm("code=%zz").ok());
  EXPECT_FALSE(ParseForm("code=%4").ok());
}

TEST(FormBodyTest, RecognisesTheFormContentType) {
  net::HttpRequest request;
  EXPECT_FALSE(IsFormContentType(request));
  request.headers.push_back({"content-type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"});
  EXPECT_TRUE(IsFormContentType(request));
  request.headers[0].value = "application/json";
  EXPECT_FALSE(IsFormContentType(request));
}

}  // namespace
}  // namespace zebros::api
