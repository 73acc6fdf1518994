#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/reactor.h"
#include "core/result.h"
#include "net/http_types.h"

namespace zebros::net {

struct ServerOptions {
  // Address to bind: an IP literal or a host name resolved once by Listen().
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = ephemeral
  // Threads running the I/O loop; handlers called synchronously run on them too.
  int io_threads = 0;                    // 0 = core::UsableCores()
  std::size_t body_limit = 1 << 20;      // larger body -> 413, then the connection closes
  std::size_t header_limit = 16 * 1024;  // larger request line + header block -> 431, then close
  // From a request's first byte, the whole request (headers and body) must arrive within this;
  // otherwise the connection is closed without a response (slowloris protection).
  std::chrono::seconds header_timeout{10};
  // A keep-alive connection waiting for its next request is closed after this. Also bounds the
  // time a client may take to read a response.
  std::chrono::seconds idle_timeout{60};
  // After Shutdown(), in-flight requests get this long to finish before Run() returns anyway.
  std::chrono::seconds shutdown_grace{20};
  // Builds an error response (problem+json) for errors the server itself detects:
  // (413, "payload_too_large"), (431, "headers_too_large"), (400, "bad_request"),
  // (500, "internal") when the handler throws, (503, "shutting_down") for the first request of
  // a connection accepted just as Shutdown() began. Called on an I/O thread; must not block.
  // When empty, a minimal application/problem+json body is produced.
  std::function<HttpResponse(int status, std::string_view code, std::string_view detail)>
      make_error;
  // Called on an I/O thread once per response when its write finished, successfully or not
  // (server-generated errors included), for the access log. `duration` runs from the request
  // being fully parsed to the write finishing. Must not block. May be empty.
  std::function<void(const HttpRequest&, const HttpResponse&, std::chrono::microseconds duration)>
      on_complete;
};

// An HTTP/1.1 server (keep-alive, one request at a time per connection) in front of an
// HttpHandler. Every response carries X-Request-Id, Date and Content-Length.
//
// Lifecycle: construct, Listen(), Run() (blocks), and destroy after Run() returned.
// Shutdown() may be called from any thread, including from inside a handler.
// A Reply may outlive the server: invoking or dropping it afterwards is harmless (the response is
// discarded), so a database thread can finish its queue after the server is gone.
class HttpServer {
 public:
  // `handler` must outlive the server and is called concurrently from the I/O threads.
  HttpServer(ServerOptions options, HttpHandler& handler);
  // REQUIRES: Run() is not executing.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Returns the bound port (useful with port 0), or kUnavailable
  // ("listen_failed") naming the address and the system error. Call once, before Run().
  core::Result<int> Listen();

  // Runs the I/O threads and blocks until Shutdown() completed (all connections closed, or
  // shutdown_grace elapsed), or a SIGINT/SIGTERM arrived and the same drain finished.
  // REQUIRES: Listen() succeeded; returns at once otherwise. Call at most once.
  void Run();

  // Graceful: stop accepting, close idle keep-alive connections, let in-flight requests finish
  // and their responses (sent with Connection: close) be written, up to shutdown_grace; then
  // Run() returns. Thread-safe and idempotent; before Run() it takes effect when Run() starts.
  void Shutdown();

  // The server's event loop, for components that wait on sockets of their own (the PostgreSQL
  // read pipeline). Its callbacks run on the first I/O thread while Run() executes; callbacks
  // posted before Run() wait for it, those pending when Run() returns never run. Run() does not
  // wait for pending reactor work (a wait, a timer) once its own drain is complete. Valid from
  // construction until destruction; every Watch made by it must be destroyed before the server.
  core::Reactor& reactor();

  // How many I/O threads Run() runs: ServerOptions::io_threads, or the cores this process may use.
  int io_threads() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zebros::net
