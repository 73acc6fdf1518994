#include "net/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace zebros::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// Generous: the machine is shared; these bound a failure, they never pace a passing test.
constexpr seconds kDeadline{10};

struct ParsedResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  bool Has(const std::string& name) const { return headers.count(name) > 0; }
  std::string Get(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool IsGeneratedId(const std::string& id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A blocking HTTP/1.1 client over a plain POSIX socket; every read is bounded by a deadline.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }

  // Returns false once the peer refuses more data; never raises SIGPIPE.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t sent = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  // Reads one response (an interim 100 counts as one). nullopt on timeout, close or garbage.
  std::optional<ParsedResponse> Read() {
    const auto deadline = SteadyClock::now() + kDeadline;
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    ParsedResponse response;
    const std::string head = buffer_.substr(0, header_end);
    buffer_.erase(0, header_end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) return std::nullopt;
    response.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      const std::size_t value_start = line.find_first_not_of(' ', colon + 1);
      response.headers[Lower(line.substr(0, colon))] =
          value_start == std::string::npos ? "" : line.substr(value_start);
    }
    const std::size_t length =
        response.Has("content-length") ? std::stoul(response.Get("content-length")) : 0;
    while (buffer_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

  // Sends `request` and reads its response.
  std::optional<ParsedResponse> RoundTrip(std::string_view request) {
    if (!Send(request)) return std::nullopt;
    return Read();
  }

  // True if the server closes the connection within `timeout`. Bytes that arrive meanwhile are
  // kept in unread().
  bool WaitClosed(seconds timeout = kDeadline) {
    const auto deadline = SteadyClock::now() + timeout;
    while (Fill(deadline)) {
    }
    return closed_;
  }

  const std::string& unread() const { return buffer_; }

 private:
  bool Fill(SteadyClock::time_point deadline) {
    if (closed_) return false;
    const auto remaining =
        std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now()).count();
    if (remaining <= 0) return false;
    pollfd descriptor{fd_, POLLIN, 0};
    if (::poll(&descriptor, 1, static_cast<int>(remaining)) <= 0) return false;
    char chunk[16 * 1024];
    const ssize_t received = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (received <= 0) {
      closed_ = true;  // orderly close or reset: either way the server is done with us
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(received));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

// A request the handler holds back until the test answers it.
struct Parked {
  HttpRequest* request = nullptr;
  Reply reply;
};

class TestHandler : public HttpHandler {
 public:
  void Handle(HttpRequest& request, Reply reply) override {
    std::unique_lock lock(mu_);
    seen_.push_back(request);
    if (request.path == "/throw") throw std::runtime_error("boom");
    if (request.path == "/park") {
      parked_.push_back({&request, std::move(reply)});
      cv_.notify_all();
      return;
    }
    lock.unlock();
    HttpResponse response;
    response.SetHeader("Content-Type", "text/plain");
    response.body = request.method + " " + request.path + " " + request.query + " " + request.body;
    reply(std::move(response));
  }

  std::optional<Parked> TakeParked() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kDeadline, [this] { return !parked_.empty(); })) return std::nullopt;
    Parked parked = std::move(parked_.front());
    parked_.erase(parked_.begin());
    return parked;
  }

  HttpRequest LastRequest() {
    std::lock_guard lock(mu_);
    return seen_.empty() ? HttpRequest{} : seen_.back();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpRequest> seen_;
  std::vector<Parked> parked_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  ServerOptions Options() {
    ServerOptions options;
    options.port = 0;
    options.io_threads = 2;
    options.shutdown_grace = seconds(5);
    options.make_error = [this](int status, std::string_view code, std::string_view detail) {
      {
        std::lock_guard lock(mu_);
        error_codes_.emplace_back(code);
      }
      HttpResponse response;
      response.status = status;
      response.SetHeader("Content-Type", "application/problem+json");
      response.body =
          "{\"code\":\"" + std::string(code) + "\",\"detail\":\"" + std::string(detail) + "\"}";
      return response;
    };
    options.on_complete = [this](const HttpRequest& request, const HttpResponse& response,
                                 std::chrono::microseconds) {
      std::lock_guard lock(mu_);
      completed_.emplace_back(response.status, request.request_id);
      cv_.notify_all();
    };
    return options;
  }

  void Start(ServerOptions options) {
    server_ = std::make_unique<HttpServer>(std::move(options), handler_);
    auto port = server_->Listen();
    ASSERT_TRUE(port.ok()) << port.error().public_message;
    port_ = port.value();
    ASSERT_GT(port_, 0);
    run_done_ = std::async(std::launch::async, [this] { server_->Run(); });
  }

  bool RunReturned(seconds timeout = kDeadline) {
    return run_done_.valid() && run_done_.wait_for(timeout) == std::future_status::ready;
  }

  void TearDown() override {
    if (server_) {
      server_->Shutdown();
      EXPECT_TRUE(RunReturned());
      server_.reset();
    }
  }

  // Waits for the on_complete call for the `n`th response (1-based); returns its status.
  int CompletedStatus(std::size_t n) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, kDeadline, [&] { return completed_.size() >= n; })) return 0;
    return completed_[n - 1].first;
  }

  std::vector<std::string> ErrorCodes() {
    std::lock_guard lock(mu_);
    return error_codes_;
  }

  // Declared first so that parked replies outlive the server, as a database thread's might.
  TestHandler handler_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> error_codes_;
  std::vector<std::pair<int, std::string>> completed_;
  std::unique_ptr<HttpServer> server_;
  std::future<void> run_done_;
  int port_ = 0;
};

TEST_F(HttpServerTest, GetRoundTripConvertsRequestAndGeneratesRequestId) {
  Start(Options());
  Client client(port_);
  ASSERT_TRUE(client.connected());
  auto response =
      client.RoundTrip("GET /echo?a=1&b=2 HTTP/1.1\r\nHost: test\r\nX-Custom-Thing: Value\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET /echo a=1&b=2 ");
  EXPECT_EQ(response->Get("content-length"), std::to_string(response->body.size()));
  EXPECT_EQ(response->Get("content-type"), "text/plain");
  EXPECT_TRUE(response->Has("date"));
  EXPECT_FALSE(response->Has("connection"));
  const std::string id = response->Get("x-request-id");
  EXPECT_TRUE(IsGeneratedId(id)) << id;

  const HttpRequest seen = handler_.LastRequest();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.target, "/echo?a=1&b=2");
  EXPECT_EQ(seen.request_id, id);
  EXPECT_EQ(seen.remote_address, "127.0.0.1");
  ASSERT_NE(seen.FindHeader("x-custom-thing"), nullptr);
  EXPECT_EQ(*seen.FindHeader("x-custom-thing"), "Value");
  EXPECT_EQ(CompletedStatus(1), 200);
}

TEST_F(HttpServerTest, ReusesSaneRequestIdAndReplacesOthers) {
  Start(Options());
  Client client(port_);
  const std::string sane = "abc.DEF_1:2-3";
  auto response =
      client.RoundTrip("GET /a HTTP/1.1\r\nHost: t\r\nX-Request-Id: " + sane + "\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Get("x-request-id"), sane);

  const std::string longest(128, 'a');
  response =
      client.RoundTrip("GET /a HTTP/1.1\r\nHost: t\r\nX-Request-Id: " + longest + "\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Get("x-request-id"), longest);

  for (const std::string& bad :
       {std::string(129, 'a'), std::string("has space"), std::string("semi;colon")}) {
    response = client.RoundTrip("GET /a HTTP/1.1\r\nHost: t\r\nX-Request-Id: " + bad + "\r\n\r\n");
    ASSERT_TRUE(response);
    EXPECT_TRUE(IsGeneratedId(response->Get("x-request-id"))) << bad;
  }
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start(Options());
  Client client(port_);
  auto first = client.RoundTrip("GET /one HTTP/1.1\r\nHost: t\r\n\r\n");
  auto second = client.RoundTrip("POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "GET /one  ");
  EXPECT_EQ(second->body, "POST /two  hello");
  EXPECT_NE(first->Get("x-request-id"), second->Get("x-request-id"));

  auto last = client.RoundTrip("GET /three HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 200);
  EXPECT_EQ(last->Get("connection"), "close");
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, AcceptsChunkedBodiesAndBackToBackRequests) {
  Start(Options());
  Client client(port_);
  // Two requests in one write: the second waits in the buffer until the first is answered.
  ASSERT_TRUE(
      client.Send("POST /chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                  "GET /second HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto first = client.Read();
  auto second = client.Read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "POST /chunked  abcde");
  EXPECT_EQ(second->body, "GET /second  ");
}

TEST_F(HttpServerTest, Http10KeepAliveIsAcknowledged) {
  Start(Options());
  Client client(port_);
  auto response = client.RoundTrip("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Get("connection"), "keep-alive");
  response = client.RoundTrip("GET /old HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->Get("connection"), "close");
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, AnswersExpectContinueBeforeTheBody) {
  Start(Options());
  Client client(port_);
  auto interim = client.RoundTrip(
      "PUT /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  auto final_response = client.RoundTrip("data");
  ASSERT_TRUE(final_response);
  EXPECT_EQ(final_response->body, "PUT /up  data");
}

TEST_F(HttpServerTest, BodyOverLimitGets413AndClose) {
  ServerOptions options = Options();
  options.body_limit = 1 << 20;
  Start(std::move(options));
  Client client(port_);
  const std::string body(2 << 20, 'x');
  // The server answers after the header; the rest of the body may or may not be accepted.
  client.Send("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n\r\n");
  client.Send(body);
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->Get("connection"), "close");
  EXPECT_TRUE(IsGeneratedId(response->Get("x-request-id")));
  EXPECT_EQ(response->Get("content-type"), "application/problem+json");
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(ErrorCodes(), std::vector<std::string>{"payload_too_large"});
  EXPECT_EQ(CompletedStatus(1), 413);
}

TEST_F(HttpServerTest, HeaderOverLimitGets431AndClose) {
  Start(Options());
  Client client(port_);
  client.Send("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n");
  auto response = client.Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->Get("connection"), "close");
  EXPECT_TRUE(response->Has("x-request-id"));
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(ErrorCodes(), std::vector<std::string>{"headers_too_large"});
}

TEST_F(HttpServerTest, MalformedRequestGets400AndClose) {
  Start(Options());
  Client client(port_);
  auto response = client.RoundTrip("THIS IS NOT HTTP\r\n\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_EQ(ErrorCodes(), std::vector<std::string>{"bad_request"});
}

TEST_F(HttpServerTest, HandlerExceptionGets500AndConnectionSurvives) {
  Start(Options());
  Client client(port_);
  auto failed = client.RoundTrip("GET /throw HTTP/1.1\r\nHost: t\r\nX-Request-Id: req-1\r\n\r\n");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_EQ(failed->Get("x-request-id"), "req-1");
  EXPECT_EQ(failed->body.find("boom"), std::string::npos);
  EXPECT_EQ(ErrorCodes(), std::vector<std::string>{"internal"});
  auto next = client.RoundTrip("GET /fine HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpServerTest, ReplyDeliveredLaterFromAnotherThread) {
  Start(Options());
  Client client(port_);
  ASSERT_TRUE(client.Send("GET /park?late=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto parked = handler_.TakeParked();
  ASSERT_TRUE(parked);
  std::thread replier([parked = std::move(*parked)] {
    HttpResponse response;
    response.status = 201;
    // The request must still be alive: the handler may read it until it replies.
    response.body = "late " + parked.request->query;
    parked.reply(std::move(response));
  });
  auto response = client.Read();
  replier.join();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "late late=1");
  // The connection stays usable after a cross-thread reply.
  auto next = client.RoundTrip("GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

TEST_F(HttpServerTest, SlowClientIsDisconnectedAfterHeaderTimeout) {
  ServerOptions options = Options();
  options.header_timeout = seconds(1);
  Start(std::move(options));
  Client client(port_);
  // Established with a roundtrip first, so the stall below hits a kept-alive connection too.
  ASSERT_TRUE(client.RoundTrip("GET /warm HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto start = SteadyClock::now();
  ASSERT_TRUE(client.Send("GET /slow HTTP/1.1\r\nHost: t\r\nX-Half: "));
  EXPECT_TRUE(client.WaitClosed());
  EXPECT_GE(SteadyClock::now() - start, milliseconds(900));
  EXPECT_EQ(client.unread(), "");
}

TEST_F(HttpServerTest, GracefulShutdownFinishesInFlightReply) {
  Start(Options());
  Client idle(port_);
  ASSERT_TRUE(idle.RoundTrip("GET /idle HTTP/1.1\r\nHost: t\r\n\r\n"));
  Client busy(port_);
  ASSERT_TRUE(busy.Send("GET /park HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto parked = handler_.TakeParked();
  ASSERT_TRUE(parked);

  server_->Shutdown();
  server_->Shutdown();  // idempotent
  EXPECT_TRUE(idle.WaitClosed());
  EXPECT_FALSE(Client(port_).connected());  // no longer accepting
  EXPECT_FALSE(RunReturned(seconds(0)));    // the parked request is still in flight

  std::thread replier([&parked] { parked->reply(HttpResponse{200, {}, "done", ""}); });
  auto response = busy.Read();
  replier.join();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "done");
  EXPECT_EQ(response->Get("connection"), "close");
  EXPECT_TRUE(busy.WaitClosed());
  EXPECT_TRUE(RunReturned());
}

TEST_F(HttpServerTest, GraceElapsesAndLateReplyAfterDestructionIsHarmless) {
  ServerOptions options = Options();
  options.shutdown_grace = seconds(1);
  Start(std::move(options));
  Client client(port_);
  ASSERT_TRUE(client.Send("GET /park HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto parked = handler_.TakeParked();
  ASSERT_TRUE(parked);
  server_->Shutdown();
  EXPECT_TRUE(RunReturned());
  server_.reset();
  EXPECT_TRUE(client.WaitClosed());
  // A database thread finishing its queue after the server is gone: dropped, no crash.
  parked->reply(HttpResponse{200, {}, "too late", ""});
  EXPECT_EQ(client.unread(), "");
}

TEST_F(HttpServerTest, SigtermDrainsAndRunReturns) {
  Start(Options());
  Client client(port_);
  // A completed roundtrip proves Run() is inside the event loop with its signal set installed.
  ASSERT_TRUE(client.RoundTrip("GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_TRUE(RunReturned());
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, ReactorRunsPostsAndTimersOnTheIoThreads) {
  Start(Options());
  std::promise<std::thread::id> posted;
  server_->reactor().Post([&posted] { posted.set_value(std::this_thread::get_id()); });
  auto posted_on = posted.get_future();
  ASSERT_EQ(posted_on.wait_for(kDeadline), std::future_status::ready);
  EXPECT_NE(posted_on.get(), std::this_thread::get_id());

  std::promise<void> fired;
  server_->reactor().After(milliseconds(10), [&fired] { fired.set_value(); });
  EXPECT_EQ(fired.get_future().wait_for(kDeadline), std::future_status::ready);
}

TEST_F(HttpServerTest, PendingReactorWorkDoesNotHoldUpShutdown) {
  ServerOptions options = Options();
  options.shutdown_grace = seconds(600);  // the drain, not the grace, must end Run()
  Start(std::move(options));
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  auto ready_calls = std::make_shared<std::atomic<int>>(0);
  {
    auto watch = server_->reactor().WatchDescriptor(fds[0]);
    watch->AwaitReadable([ready_calls](bool) { ++*ready_calls; });
    server_->reactor().After(std::chrono::hours(1), [ready_calls] { ++*ready_calls; });
    server_->Shutdown();
    EXPECT_TRUE(RunReturned());
  }
  server_.reset();
  EXPECT_EQ(ready_calls->load(), 0);
  EXPECT_EQ(ready_calls.use_count(), 1);  // the callbacks that never ran were destroyed
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(HttpServerTest, ListenReportsBusyPort) {
  Start(Options());
  ServerOptions options = Options();
  options.port = port_;
  HttpServer second(std::move(options), handler_);
  auto result = second.Listen();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, core::Code::kUnavailable);
  EXPECT_EQ(result.error().problem_code, "listen_failed");
}

}  // namespace
}  // namespace zebros::net
