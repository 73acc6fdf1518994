#include "net/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/cpu_cores.h"
#include "core/log.h"
#include "net/asio_reactor.h"

namespace zebros::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using SteadyClock = std::chrono::steady_clock;

// After an error response the client may still be sending (e.g. the rest of a 2 MiB body).
// Closing at once would make the kernel answer with RST, which can destroy our response before
// the client read it; so we half-close and discard input for at most this long.
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kMinRead = 4 * 1024;
constexpr std::size_t kMaxRead = 64 * 1024;
constexpr std::size_t kMaxRequestIdLength = 128;
constexpr std::string_view kInternalDetail = "The server failed to handle the request.";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A failed accept (typically EMFILE) is retried after this pause instead of in a hot loop.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

std::string_view ToStd(beast::string_view text) { return {text.data(), text.size()}; }

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

bool IsSaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

// Request ids only need to be unique, not unpredictable, so a per-thread PRNG is enough and
// costs nothing per request.
void AssignNewRequestId(std::string& out) {
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(32);
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = engine();
    for (int i = 0; i < 16; ++i, bits >>= 4) out[half * 16 + i] = kHex[bits & 15];
  }
}

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), formatted once per second per thread.
std::string_view HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached_second = -1;
  thread_local char text[32];
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm parts{};
    gmtime_r(&now, &parts);
    std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[parts.tm_wday],
                  parts.tm_mday, kMonths[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour,
                  parts.tm_min, parts.tm_sec);
    cached_second = now;
  }
  return {text, 29};
}

bool IsTokenChar(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Header names and values come from handlers and may carry user data (a file name, a URL).
// Anything that could split the response is dropped rather than sent.
bool IsSafeHeader(const Header& header) {
  if (header.name.empty() || !std::all_of(header.name.begin(), header.name.end(), IsTokenChar)) {
    return false;
  }
  return header.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// The server owns framing; a handler's own copy of these would contradict it.
bool IsServerHeader(std::string_view name) {
  return IEquals(name, "content-length") || IEquals(name, "connection") || IEquals(name, "date") ||
         IEquals(name, "x-request-id") || IEquals(name, "transfer-encoding");
}

void AppendNumber(std::string& out, std::uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out.append(digits, result.ptr);
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

enum class ConnectionHeader { kNone, kKeepAlive, kClose };

// Serialises the status line and header block into `out`, reusing its capacity.
void BuildResponseHead(const HttpResponse& response, std::string_view request_id,
                       ConnectionHeader connection, std::string& out) {
  const int status = (response.status >= 200 && response.status <= 599) ? response.status : 500;
  out.clear();
  out.append("HTTP/1.1 ");
  AppendNumber(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  const auto known = http::int_to_status(static_cast<unsigned>(status));
  out.append(known == http::status::unknown ? std::string_view("Unknown")
                                            : ToStd(http::obsolete_reason(known)));
  out.append("\r\n");
  for (const Header& header : response.headers) {
    if (IsServerHeader(header.name) || !IsSafeHeader(header)) continue;
    AppendHeader(out, header.name, header.value);
  }
  AppendHeader(out, "Date", HttpDate());
  out.append("Content-Length: ");
  AppendNumber(out, response.body.size());
  out.append("\r\n");
  AppendHeader(out, "X-Request-Id", request_id);
  if (connection == ConnectionHeader::kClose) AppendHeader(out, "Connection", "close");
  if (connection == ConnectionHeader::kKeepAlive) AppendHeader(out, "Connection", "keep-alive");
  out.append("\r\n");
}

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

HttpResponse DefaultErrorResponse(int status, std::string_view code, std::string_view detail) {
  HttpResponse response;
  response.status = status;
  response.SetHeader("Content-Type", "application/problem+json");
  response.body = R"({"type":"about:blank","status":)";
  AppendNumber(response.body, static_cast<std::uint64_t>(status));
  response.body.append(R"(,"code":)");
  AppendJsonString(response.body, code);
  response.body.append(R"(,"detail":)");
  AppendJsonString(response.body, detail);
  response.body.push_back('}');
  return response;
}

std::string PeerAddress(const tcp::socket& socket) {
  beast::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return {};
  asio::ip::address address = peer.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

class Session;

// Shared by all copies of one request's Reply. It holds the session only until the response is
// delivered, so a Reply the handler keeps around after using it does not pin the connection (nor
// delay a graceful drain); a Reply dropped unused releases the session, which then closes.
struct PendingReply {
  explicit PendingReply(std::shared_ptr<Session> target) : session(std::move(target)) {}
  std::atomic<bool> delivered{false};
  std::shared_ptr<Session> session;  // touched only by whoever flips `delivered` first
};

// Owns the io_contexts, the acceptor and the registry of live sessions. All members that are not
// atomics or mutex-guarded are touched only on `control_` (or before Run / after it returned).
//
// One io_context per I/O thread, each run by its own thread; a connection stays on the one it
// was accepted onto (round robin). With one io_context shared by all threads, every handler
// queued or completed took that context's lock, and the threads woke one another through it:
// about one contended futex call per request in a GET's profile.
class Server {
 public:
  Server(ServerOptions options, HttpHandler& handler);
  ~Server();

  core::Result<int> Listen();
  void Run();
  void Shutdown();

  // The first thread's: the acceptor, signals, timers and the reactor (HttpServer::reactor) live
  // there.
  asio::io_context& io_context() { return *contexts_.front(); }
  int io_threads() const { return static_cast<int>(contexts_.size()); }
  const ServerOptions& options() const { return options_; }
  HttpHandler& handler() { return handler_; }
  bool shutting_down() const { return shutting_down_.load(std::memory_order_acquire); }
  HttpResponse MakeError(int status, std::string_view code, std::string_view detail) const;
  void ReportComplete(const HttpRequest& request, const HttpResponse& response,
                      SteadyClock::time_point start) const;
  void Register(const std::shared_ptr<Session>& session);
  // Called from ~Session on whatever thread dropped the last reference.
  void Unregister(Session* session);

 private:
  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void BeginDrain();
  void MaybeFinishDrain();
  void StopAll();

  ServerOptions options_;
  HttpHandler& handler_;
  std::atomic<bool> shutting_down_{false};

  // Declared before the io_context so that sessions destroyed while it is torn down find the
  // registry still alive.
  std::mutex sessions_mu_;
  std::condition_variable sessions_cv_;  // signalled when an entry leaves the registry
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // GUARDED_BY(sessions_mu_)

  std::vector<std::unique_ptr<asio::io_context>> contexts_;  // one per I/O thread
  std::size_t next_context_ = 0;  // the one the next connection goes to (control_ only)
  Strand control_;
  tcp::acceptor acceptor_;
  asio::steady_timer grace_timer_;
  asio::steady_timer accept_retry_timer_;
  std::optional<asio::signal_set> signals_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  bool drained_ = false;
};

// One connection. Owns itself through its pending operations (and through an outstanding Reply);
// every handler runs on the connection's strand, which is the socket's executor.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, tcp::socket socket);
  ~Session();

  // Registers with the server and starts reading on the strand.
  void Start();
  // On the strand: closes the connection if it waits for a request that has not begun.
  void CloseIfIdle();
  // REQUIRES: no thread runs the io_context. Drops the socket so the session can outlive the
  // server; later replies are discarded.
  void Detach();
  asio::any_io_executor executor() { return stream_->get_executor(); }

 private:
  enum class State { kReading, kHandling, kWriting, kClosing, kClosed };

  void Begin();
  void ReadRequest();
  void ContinueReading();
  void ReadMore();
  void OnReadSome(beast::error_code ec, std::size_t bytes);
  void OnContinueWritten(beast::error_code ec, std::size_t bytes);
  bool ExpectsContinue() const;
  void HandleRequest();
  void RespondWithError(int status, std::string_view code, std::string_view detail);
  // Any thread, at most once per PendingReply: hands the response to the strand.
  static void Deliver(PendingReply& pending, HttpResponse response);
  void OnReply(HttpResponse response);
  void Write();
  void OnWrite(beast::error_code ec, std::size_t bytes);
  void Linger();
  void DiscardMore();
  void OnDiscard(beast::error_code ec, std::size_t bytes);
  void Close();
  void FillRequestHead();
  void ClearRequest();

  Server& server_;

  std::mutex reply_mu_;
  bool detached_ = false;  // GUARDED_BY(reply_mu_)

  // Strand-only below. `stream_` is reset only by Detach or the destructor, because the socket
  // must not outlive the io_context.
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  // Beast parsers serve one message each; re-emplaced per request.
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;  // handed to the handler by reference; alive until its reply arrives
  HttpResponse response_;
  std::string head_;
  std::string remote_address_;
  State state_ = State::kReading;
  SteadyClock::time_point request_parsed_at_;
  bool first_request_ = true;
  bool request_started_ = false;  // first byte of the current request seen
  bool continue_sent_ = false;
  bool keep_alive_ = false;
  bool http10_ = false;
  bool head_only_ = false;
  bool reject_shutting_down_ = false;  // connection opened after Shutdown: answer 503
  bool linger_after_write_ = false;
  bool close_after_write_ = false;
};

// ---------------------------------------------------------------------------------------------
// Session

Session::Session(Server& server, tcp::socket socket) : server_(server) {
  beast::error_code ec;
  // Small responses must not wait for Nagle's algorithm.
  socket.set_option(tcp::no_delay(true), ec);
  remote_address_ = PeerAddress(socket);
  stream_.emplace(std::move(socket));
}

Session::~Session() {
  {
    std::lock_guard lock(reply_mu_);
    if (detached_) return;  // the server is gone or going; it already dropped our socket
  }
  // The socket goes first: once Unregister returns, a destructing server may destroy the
  // io_context the socket belongs to.
  stream_.reset();
  server_.Unregister(this);
}

void Session::Start() {
  server_.Register(shared_from_this());
  asio::dispatch(executor(), beast::bind_front_handler(&Session::Begin, shared_from_this()));
}

void Session::Begin() {
  // Accepted just as shutdown began: the client may already have sent its request, so answer it
  // rather than resetting the connection.
  reject_shutting_down_ = server_.shutting_down();
  ReadRequest();
}

void Session::CloseIfIdle() {
  if (state_ == State::kReading && buffer_.size() == 0 && parser_ && !parser_->got_some()) {
    Close();
  }
}

void Session::Detach() {
  std::lock_guard lock(reply_mu_);
  detached_ = true;
  stream_.reset();
}

void Session::ReadRequest() {
  if (server_.shutting_down() && !reject_shutting_down_ && buffer_.size() == 0) {
    Close();
    return;
  }
  const ServerOptions& options = server_.options();
  state_ = State::kReading;
  request_started_ = false;
  continue_sent_ = false;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max())));
  parser_->body_limit(static_cast<std::uint64_t>(options.body_limit));
  // A new connection must start its request promptly; a kept-alive one may idle longer.
  stream_->expires_after(first_request_ ? options.header_timeout : options.idle_timeout);
  first_request_ = false;
  ContinueReading();
}

void Session::ContinueReading() {
  while (buffer_.size() > 0) {
    beast::error_code ec;
    const std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::body_limit) {
      RespondWithError(413, "payload_too_large", "The request body exceeds the size limit.");
      return;
    }
    if (ec == http::error::header_limit) {
      RespondWithError(431, "headers_too_large", "The request header block is too large.");
      return;
    }
    if (ec && ec != http::error::need_more) {
      RespondWithError(400, "bad_request", "The request is not valid HTTP/1.1.");
      return;
    }
    if (parser_->is_done()) {
      HandleRequest();
      return;
    }
    if (ec || used == 0) break;
  }
  // The whole request must arrive within header_timeout of its first byte, however slowly the
  // client trickles it in.
  if (!request_started_ && (parser_->got_some() || buffer_.size() > 0)) {
    request_started_ = true;
    stream_->expires_after(server_.options().header_timeout);
  }
  if (!continue_sent_ && ExpectsContinue()) {
    continue_sent_ = true;
    asio::async_write(*stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      beast::bind_front_handler(&Session::OnContinueWritten, shared_from_this()));
    return;
  }
  ReadMore();
}

bool Session::ExpectsContinue() const {
  if (!parser_->is_header_done() || buffer_.size() > 0) return false;
  return IEquals(ToStd(parser_->get()[http::field::expect]), "100-continue");
}

void Session::ReadMore() {
  const std::size_t free_space = buffer_.capacity() - buffer_.size();
  stream_->async_read_some(buffer_.prepare(std::clamp(free_space, kMinRead, kMaxRead)),
                           beast::bind_front_handler(&Session::OnReadSome, shared_from_this()));
}

void Session::OnReadSome(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    // End of stream, reset, timeout (the stream already closed the socket) or our own Close.
    Close();
    return;
  }
  buffer_.commit(bytes);
  ContinueReading();
}

void Session::OnContinueWritten(beast::error_code ec, std::size_t) {
  if (ec) {
    Close();
    return;
  }
  ReadMore();
}

void Session::FillRequestHead() {
  const auto& message = parser_->get();
  request_.method.assign(ToStd(message.method_string()));
  request_.target.assign(ToStd(message.target()));
  const std::string_view target = request_.target;
  const std::size_t question = target.find('?');
  request_.path.assign(target.substr(0, question));
  if (question == std::string_view::npos) {
    request_.query.clear();
  } else {
    request_.query.assign(target.substr(question + 1));
  }
  // Assign into existing elements so that their string capacity is reused across requests.
  std::size_t count = 0;
  for (const auto& field : message) {
    if (count == request_.headers.size()) request_.headers.emplace_back();
    Header& header = request_.headers[count++];
    const std::string_view name = ToStd(field.name_string());
    header.name.resize(name.size());
    std::transform(name.begin(), name.end(), header.name.begin(), ToLowerAscii);
    header.value.assign(ToStd(field.value()));
  }
  request_.headers.resize(count);
  request_.remote_address = remote_address_;
  const std::string* incoming_id = request_.FindHeader("x-request-id");
  if (incoming_id != nullptr && IsSaneRequestId(*incoming_id)) {
    request_.request_id = *incoming_id;
  } else {
    AssignNewRequestId(request_.request_id);
  }
}

void Session::ClearRequest() {
  request_.method.clear();
  request_.target.clear();
  request_.path.clear();
  request_.query.clear();
  request_.headers.clear();
  request_.body.clear();
  request_.remote_address = remote_address_;
  AssignNewRequestId(request_.request_id);
}

void Session::HandleRequest() {
  state_ = State::kHandling;
  request_parsed_at_ = SteadyClock::now();
  FillRequestHead();
  request_.body = std::move(parser_->get().body());
  keep_alive_ = parser_->keep_alive();
  http10_ = parser_->get().version() == 10;
  head_only_ = parser_->get().method() == http::verb::head;
  if (reject_shutting_down_) {
    keep_alive_ = false;
    response_ = server_.MakeError(503, "shutting_down", "The server is shutting down.");
    Write();
    return;
  }
  auto pending = std::make_shared<PendingReply>(shared_from_this());
  try {
    server_.handler().Handle(
        request_, [pending](HttpResponse response) { Deliver(*pending, std::move(response)); });
  } catch (const std::exception& e) {
    core::Log(core::LogLevel::kError, "http handler threw",
              {{"request_id", request_.request_id}, {"error", e.what()}});
    Deliver(*pending, server_.MakeError(500, "internal", kInternalDetail));
  } catch (...) {
    core::Log(core::LogLevel::kError, "http handler threw", {{"request_id", request_.request_id}});
    Deliver(*pending, server_.MakeError(500, "internal", kInternalDetail));
  }
}

void Session::RespondWithError(int status, std::string_view code, std::string_view detail) {
  state_ = State::kHandling;
  request_parsed_at_ = SteadyClock::now();
  if (parser_->is_header_done()) {
    FillRequestHead();
    request_.body.clear();
  } else {
    ClearRequest();
  }
  keep_alive_ = false;
  head_only_ = false;
  linger_after_write_ = true;
  response_ = server_.MakeError(status, code, detail);
  Write();
}

void Session::Deliver(PendingReply& pending, HttpResponse response) {
  // A second call (a handler bug, or the handler replying after it threw) is dropped.
  if (pending.delivered.exchange(true, std::memory_order_acq_rel)) return;
  std::shared_ptr<Session> self = std::move(pending.session);
  std::lock_guard lock(self->reply_mu_);
  if (self->detached_) return;  // the server is gone; nobody can send this any more
  // Runs inline when the handler replies synchronously on the strand; otherwise posted. Done
  // under the lock so that Detach cannot destroy the executor underneath.
  const asio::any_io_executor executor = self->executor();
  asio::dispatch(executor, [self, response = std::move(response)]() mutable {
    self->OnReply(std::move(response));
  });
}

void Session::OnReply(HttpResponse response) {
  if (state_ != State::kHandling) return;
  response_ = std::move(response);
  Write();
}

void Session::Write() {
  state_ = State::kWriting;
  close_after_write_ = !keep_alive_ || server_.shutting_down();
  ConnectionHeader connection = ConnectionHeader::kNone;
  if (close_after_write_) {
    connection = ConnectionHeader::kClose;
  } else if (http10_) {
    connection = ConnectionHeader::kKeepAlive;
  }
  BuildResponseHead(response_, request_.request_id, connection, head_);
  stream_->expires_after(server_.options().idle_timeout);
  const std::array<asio::const_buffer, 2> buffers{
      asio::buffer(head_), head_only_ ? asio::const_buffer() : asio::buffer(response_.body)};
  asio::async_write(*stream_, buffers,
                    beast::bind_front_handler(&Session::OnWrite, shared_from_this()));
}

void Session::OnWrite(beast::error_code ec, std::size_t) {
  server_.ReportComplete(request_, response_, request_parsed_at_);
  if (ec) {
    Close();
    return;
  }
  if (linger_after_write_) {
    Linger();
    return;
  }
  if (close_after_write_) {
    stream_->socket().shutdown(tcp::socket::shutdown_send, ec);
    Close();
    return;
  }
  ReadRequest();
}

void Session::Linger() {
  state_ = State::kClosing;
  beast::error_code ec;
  stream_->socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    Close();
    return;
  }
  stream_->expires_after(kLingerTime);
  DiscardMore();
}

void Session::DiscardMore() {
  buffer_.clear();
  stream_->async_read_some(buffer_.prepare(kMaxRead),
                           beast::bind_front_handler(&Session::OnDiscard, shared_from_this()));
}

void Session::OnDiscard(beast::error_code ec, std::size_t) {
  if (ec) {
    Close();
    return;
  }
  DiscardMore();
}

void Session::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  stream_->close();
}

// ---------------------------------------------------------------------------------------------
// Server

int ThreadCount(int requested) {
  if (requested > 0) return requested;
  return core::UsableCores();
}

std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int count) {
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  // Each is run by one thread (other threads only post to it): the hint lets Asio skip waking
  // other runners.
  for (int i = 0; i < count; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
  return contexts;
}

Server::Server(ServerOptions options, HttpHandler& handler)
    : options_(std::move(options)),
      handler_(handler),
      contexts_(MakeContexts(ThreadCount(options_.io_threads))),
      control_(asio::make_strand(*contexts_.front())),
      acceptor_(control_),
      grace_timer_(control_),
      accept_retry_timer_(control_) {}

Server::~Server() {
  beast::error_code ec;
  acceptor_.close(ec);
  std::vector<std::shared_ptr<Session>> alive;
  {
    std::unique_lock lock(sessions_mu_);
    for (auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) alive.push_back(std::move(session));
    }
    for (auto& session : alive) {
      session->Detach();
      sessions_.erase(session.get());
    }
    // What remains are sessions whose last reference is being dropped on another thread (a
    // handler releasing its Reply) right now; wait until they have left.
    sessions_cv_.wait(lock, [this] { return sessions_.empty(); });
  }
  // Sessions still referenced by a handler's Reply live on without a socket; those held only by
  // queued operations die with the io_contexts below.
}

core::Result<int> Server::Listen() {
  const auto fail = [this](const std::string& what, const beast::error_code& ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return core::MakeError(core::Code::kUnavailable, "listen_failed",
                           "cannot " + what + " " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
  };
  if (options_.port < 0 || options_.port > 65535) {
    return core::MakeError(core::Code::kUnavailable, "listen_failed",
                           "port out of range: " + std::to_string(options_.port));
  }
  beast::error_code ec;
  tcp::endpoint endpoint;
  const asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, static_cast<unsigned short>(options_.port));
  } else {
    tcp::resolver resolver(io_context());
    const auto results =
        resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive, ec);
    if (ec) return fail("resolve", ec);
    if (results.empty()) return fail("resolve", asio::error::host_not_found);
    endpoint = results.begin()->endpoint();
  }
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open socket for", ec);
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("set SO_REUSEADDR on", ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind", ec);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on", ec);
  const tcp::endpoint local = acceptor_.local_endpoint(ec);
  if (ec) return fail("query the address of", ec);
  // Catch SIGINT/SIGTERM from here on, not only once Run() starts: a supervisor may signal as
  // soon as it sees the port open, and the signal waits in Asio's queue until Run().
  signals_.emplace(control_, SIGINT, SIGTERM);
  signals_->async_wait([this](beast::error_code wait_ec, int) {
    if (!wait_ec) Shutdown();
  });
  return static_cast<int>(local.port());
}

void Server::Run() {
  if (!acceptor_.is_open()) return;
  // Handlers may hold a request with no socket operation pending (waiting for a database); the
  // guard keeps run() from returning until the drain says all sessions are gone.
  for (auto& context : contexts_) work_.emplace_back(context->get_executor());
  DoAccept();
  std::vector<std::thread> threads;
  threads.reserve(contexts_.size() - 1);
  for (std::size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([context = contexts_[i].get()] { context->run(); });
  }
  contexts_.front()->run();
  for (auto& thread : threads) thread.join();
  // Give SIGINT/SIGTERM back to their default behaviour.
  signals_.reset();
  work_.clear();
}

void Server::Shutdown() {
  if (shutting_down_.exchange(true, std::memory_order_acq_rel)) return;
  asio::post(control_, [this] { BeginDrain(); });
}

void Server::DoAccept() {
  asio::io_context& context = *contexts_[next_context_];
  next_context_ = (next_context_ + 1) % contexts_.size();
  acceptor_.async_accept(
      asio::make_strand(context),
      [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void Server::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    accept_retry_timer_.expires_after(kAcceptRetryDelay);
    accept_retry_timer_.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) DoAccept();
    });
    return;
  }
  std::make_shared<Session>(*this, std::move(socket))->Start();
  DoAccept();
}

void Server::BeginDrain() {
  beast::error_code ec;
  acceptor_.close(ec);
  accept_retry_timer_.cancel();
  if (signals_) signals_->cancel(ec);
  grace_timer_.expires_after(options_.shutdown_grace);
  grace_timer_.async_wait([this](beast::error_code wait_ec) {
    // Grace elapsed with work still in flight: abandon it. Sessions are detached and freed by
    // the destructor.
    if (!wait_ec) StopAll();
  });
  std::vector<std::shared_ptr<Session>> alive;
  {
    std::lock_guard lock(sessions_mu_);
    for (auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) alive.push_back(std::move(session));
    }
  }
  for (auto& session : alive) {
    asio::post(session->executor(), [session] { session->CloseIfIdle(); });
  }
  MaybeFinishDrain();
}

void Server::MaybeFinishDrain() {
  if (!shutting_down() || drained_) return;
  {
    std::lock_guard lock(sessions_mu_);
    if (!sessions_.empty()) return;
  }
  drained_ = true;
  grace_timer_.cancel();
  work_.clear();
  // The server's own work is done. What may remain is reactor work (a database connection
  // waiting on its socket, a timer an hour away), which would keep run() from returning.
  StopAll();
}

void Server::StopAll() {
  for (auto& context : contexts_) context->stop();
}

void Server::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(sessions_mu_);
  sessions_.emplace(session.get(), session);
}

void Server::Unregister(Session* session) {
  std::lock_guard lock(sessions_mu_);
  sessions_.erase(session);
  // Still under the lock: once it is released, a destructing server may destroy the io_context.
  if (sessions_.empty() && shutting_down()) {
    asio::post(control_, [this] { MaybeFinishDrain(); });
  }
  sessions_cv_.notify_all();
}

HttpResponse Server::MakeError(int status, std::string_view code, std::string_view detail) const {
  if (options_.make_error) {
    try {
      return options_.make_error(status, code, detail);
    } catch (...) {
      // Fall through to the built-in body: an error page must not take the connection down.
    }
  }
  return DefaultErrorResponse(status, code, detail);
}

void Server::ReportComplete(const HttpRequest& request, const HttpResponse& response,
                            SteadyClock::time_point start) const {
  if (!options_.on_complete) return;
  const auto duration =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
  try {
    options_.on_complete(request, response, duration);
  } catch (...) {
    // The access log failing must not take the I/O thread down.
  }
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, HttpHandler& handler)
      : server(std::move(options), handler), reactor(server.io_context()) {}
  Server server;
  AsioReactor reactor;  // after the server, whose io_context it uses
};

HttpServer::HttpServer(ServerOptions options, HttpHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

HttpServer::~HttpServer() = default;

core::Result<int> HttpServer::Listen() { return impl_->server.Listen(); }

void HttpServer::Run() { impl_->server.Run(); }

void HttpServer::Shutdown() { impl_->server.Shutdown(); }

core::Reactor& HttpServer::reactor() { return impl_->reactor; }

int HttpServer::io_threads() const { return impl_->server.io_threads(); }

}  // namespace zebros::net
