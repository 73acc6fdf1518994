#include "net/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "net/http_server.h"

namespace zebros::net {
namespace {

// The peer: the project's own server, answering by path.
class TestHandler : public HttpHandler {
 public:
  void Handle(HttpRequest& request, Reply reply) override {
    HttpResponse response;
    if (request.path == "/json") {
      response.SetHeader("Content-Type", "application/json");
      response.body = R"({"ok":true})";
    } else if (request.path == "/echo") {
      response.SetHeader("Content-Type", "text/plain");
      const std::string* test = request.FindHeader("x-test");
      const std::string* host = request.FindHeader("host");
      response.body = request.method + "|" + request.target + "|" + (test ? *test : "-") + "|" +
                      (host ? *host : "-") + "|" + request.body;
    } else if (request.path == "/big") {
      response.body = std::string(std::stoul(request.query), 'x');
    } else {
      response.status = 404;
      response.body = "nope";
    }
    reply(std::move(response));
  }
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.port = 0;
    options.io_threads = 1;
    options.shutdown_grace = std::chrono::seconds(1);
    server_ = std::make_unique<HttpServer>(options, handler_);
    auto port = server_->Listen();
    ASSERT_TRUE(port.ok());
    port_ = *port;
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

void ExpectUnavailable(const core::Result<HttpFetchResponse>& result) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::Code::kUnavailable);
  EXPECT_EQ(result.error().problem_code, "upstream_unavailable");
  EXPECT_FALSE(result.error().detail.empty());
}

// A socket that accepts connections (the kernel completes the handshake) but never reads or
// answers: the worst kind of upstream.
class SilentPeer {
 public:
  SilentPeer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        ::listen(fd_, 8) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }
  ~SilentPeer() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(HttpClientTest, GetReturnsStatusBodyAndContentType) {
  auto response = HttpFetch({.url = Url("/json")});
  ASSERT_TRUE(response.ok()) << response.error().detail;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"ok":true})");
  EXPECT_EQ(response->content_type, "application/json");
}

TEST_F(HttpClientTest, PostSendsMethodTargetHeadersAndBody) {
  HttpFetchRequest request;
  request.method = "POST";
  request.url = Url("/echo?a=1&b=%20");
  request.headers.push_back({"X-Test", "yes"});
  request.body = "payload";
  auto response = HttpFetch(request);
  ASSERT_TRUE(response.ok()) << response.error().detail;
  EXPECT_EQ(response->body,
            "POST|/echo?a=1&b=%20|yes|127.0.0.1:" + std::to_string(port_) + "|payload");
  EXPECT_EQ(response->content_type, "text/plain");
}

TEST_F(HttpClientTest, ErrorStatusesAreResponsesNotFailures) {
  auto response = HttpFetch({.url = Url("/missing")});
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, "nope");
}

TEST_F(HttpClientTest, OversizedResponsesAreErrors) {
  HttpFetchRequest request{.url = Url("/big?1000")};
  request.max_response_bytes = 1000;
  auto exact = HttpFetch(request);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->body.size(), 1000u);
  request.url = Url("/big?1001");
  ExpectUnavailable(HttpFetch(request));
  // The default limit is 1 MiB.
  ExpectUnavailable(HttpFetch({.url = Url("/big?1048577")}));
  auto at_default = HttpFetch({.url = Url("/big?1048576")});
  ASSERT_TRUE(at_default.ok());
  EXPECT_EQ(at_default->body.size(), 1048576u);
}

TEST_F(HttpClientTest, HttpsToAPlainHttpPeerFailsTheHandshake) {
  auto response = HttpFetch({.url = "https://127.0.0.1:" + std::to_string(port_) + "/json"});
  ExpectUnavailable(response);
  EXPECT_NE(response.error().detail.find("TLS handshake"), std::string::npos)
      << response.error().detail;
}

TEST(HttpClient, SilentPeerTimesOut) {
  SilentPeer peer;
  ASSERT_NE(peer.port(), 0);
  HttpFetchRequest request{.url = "http://127.0.0.1:" + std::to_string(peer.port()) + "/"};
  request.timeout = std::chrono::milliseconds(200);
  auto response = HttpFetch(request);
  ExpectUnavailable(response);
  EXPECT_NE(response.error().detail.find("timed out"), std::string::npos)
      << response.error().detail;
  // The same bound holds for a TLS handshake that never gets an answer.
  request.url = "https://127.0.0.1:" + std::to_string(peer.port()) + "/";
  response = HttpFetch(request);
  ExpectUnavailable(response);
  EXPECT_NE(response.error().detail.find("timed out"), std::string::npos)
      << response.error().detail;
}

TEST(HttpClient, RefusedConnectionIsUnavailable) {
  int port = 0;
  {
    SilentPeer closed_soon;
    port = closed_soon.port();
  }
  auto response = HttpFetch({.url = "http://127.0.0.1:" + std::to_string(port) + "/"});
  ExpectUnavailable(response);
  EXPECT_NE(response.error().detail.find("connect"), std::string::npos);
}

TEST(HttpClient, BadRequestsFailWithoutTouchingTheNetwork) {
  for (const char* url : {"", "not a url", "ftp://127.0.0.1/", "file:///etc/passwd",
                          "http://user:secret@127.0.0.1/", "http:///path", "//127.0.0.1/"}) {
    auto response = HttpFetch({.url = url});
    ExpectUnavailable(response);
    EXPECT_EQ(response.error().detail.find("secret"), std::string::npos);
  }
  ExpectUnavailable(HttpFetch({.method = "BREW", .url = "http://127.0.0.1:1/"}));
  HttpFetchRequest smuggling{.url = "http://127.0.0.1:1/"};
  smuggling.headers.push_back({"X-A", "1\r\nGET /admin HTTP/1.1"});
  ExpectUnavailable(HttpFetch(smuggling));
}

}  // namespace
}  // namespace zebros::net
