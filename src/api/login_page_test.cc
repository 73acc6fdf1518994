#include "api/login_page.h"

#include <gtest/gtest.h>

namespace zebros::api {
namespace {

std::string Header(const net::HttpResponse& response, const std::string& name) {
  for (const auto& header : response.headers) {
    if (header.name == name) return header.value;
  }
  return {};
}

TEST(LoginPageTest, EscapesEverythingItEchoes) {
  LoginPage page{"acme<script>",
                 "/realms/acme/protocol/openid-connect/auth",
                 {{"state", "\"><script>alert(1)</script>"}},
                 "a'b\"c",
                 "bad & worse"};
  const auto response = LoginPageResponse(400, page);
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(response.body.find("<script"), std::string::npos);
  EXPECT_NE(response.body.find("&quot;&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_NE(response.body.find("value=\"a&#39;b&quot;c\""), std::string::npos);
  EXPECT_NE(response.body.find("bad &amp; worse"), std::string::npos);
}

TEST(LoginPageTest, IsAccessibleAndLockedDown) {
  const auto response = LoginPageResponse(200, LoginPage{"acme", "/auth", {}, {}, {}});
  EXPECT_NE(response.body.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(response.body.find("<label for=\"username\">"), std::string::npos);
  EXPECT_NE(response.body.find("<label for=\"password\">"), std::string::npos);
  EXPECT_EQ(response.body.find("role=\"alert\""), std::string::npos);
  EXPECT_NE(Header(response, "Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);
  EXPECT_NE(Header(response, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(Header(response, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(response, "Cache-Control"), "no-store");
  const auto failed = LoginPageResponse(400, LoginPage{"acme", "/auth", {}, "ada", "Wrong."});
  EXPECT_NE(failed.body.find("role=\"alert\""), std::string::npos);
  EXPECT_NE(failed.body.find("aria-describedby=\"login-error\""), std::string::npos);
}

}  // namespace
}  // namespace zebros::api
