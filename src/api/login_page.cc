#include "api/login_page.h"

namespace zebros::api {
namespace {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

constexpr char kStyle[] =
    "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1d21}"
    "main{max-width:24rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:.5rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.2)}"
    "h1{font-size:1.5rem;margin-top:0}"
    "label{display:block;font-weight:600;margin-bottom:.25rem}"
    "input{display:block;width:100%;box-sizing:border-box;font-size:1rem;padding:.5rem;"
    "border:1px solid #6b7280;border-radius:.25rem}"
    "input:focus,button:focus{outline:3px solid #2563eb;outline-offset:2px}"
    ".field{margin-bottom:1rem}"
    "button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.25rem;background:#1d4ed8;"
    "color:#fff;cursor:pointer}"
    ".error{border:2px solid #b91c1c;background:#fef2f2;color:#7f1d1d;padding:.75rem;"
    "border-radius:.25rem;margin-bottom:1rem}";

// Headers for every HTML page: no scripts, no framing, nothing cached.
net::HttpResponse HtmlResponse(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "text/html; charset=utf-8");
  // No form-action: browsers apply it to the redirect after the POST, and that goes to the
  // client's (loopback) redirect URI.
  response.SetHeader("Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
                     "base-uri 'none'");
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("X-Frame-Options", "DENY");
  response.SetHeader("Referrer-Policy", "no-referrer");
  response.SetHeader("Cache-Control", "no-store");
  response.body = std::move(body);
  return response;
}

std::string Head(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         Escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
}

constexpr char kFoot[] = "</main>\n</body>\n</html>\n";

}  // namespace

net::HttpResponse LoginPageResponse(int status, const LoginPage& page) {
  const bool failed = !page.error.empty();
  std::string html = Head((failed ? "Error: " : "") + std::string("Sign in – ") + page.realm);
  html += "<h1>Sign in to Zebros CRM</h1>\n<p>Organisation: <strong>" + Escape(page.realm) +
          "</strong></p>\n";
  if (failed) {
    html += "<div class=\"error\" id=\"login-error\" role=\"alert\"><p>" + Escape(page.error) +
            "</p></div>\n";
  }
  html += "<form method=\"post\" action=\"" + Escape(page.action) + "\">\n";
  for (const auto& [name, value] : page.hidden) {
    html +=
        "<input type=\"hidden\" name=\"" + Escape(name) + "\" value=\"" + Escape(value) + "\">\n";
  }
  const std::string invalid =
      failed ? " aria-invalid=\"true\" aria-describedby=\"login-error\"" : "";
  html +=
      "<div class=\"field\"><label for=\"username\">Username or e-mail</label>\n"
      "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" "
      "autocapitalize=\"none\" spellcheck=\"false\" required value=\"" +
      Escape(page.username) + "\"" + invalid + "></div>\n";
  html +=
      "<div class=\"field\"><label for=\"password\">Password</label>\n"
      "<input id=\"password\" name=\"password\" type=\"password\" "
      "autocomplete=\"current-password\" required" +
      invalid + "></div>\n";
  html += "<button type=\"submit\">Sign in</button>\n</form>\n";
  html += kFoot;
  return HtmlResponse(status, std::move(html));
}

net::HttpResponse ErrorPageResponse(int status, const std::string& title,
                                    const std::string& message) {
  std::string html = Head(title);
  html +=
      "<h1>" + Escape(title) + "</h1>\n<div role=\"alert\"><p>" + Escape(message) + "</p></div>\n";
  html += kFoot;
  return HtmlResponse(status, std::move(html));
}

}  // namespace zebros::api
