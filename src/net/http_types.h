#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace zebros::net {

struct Header {
  std::string name;  // lower case on requests; as written on responses
  std::string value;
};

// A complete HTTP request, detached from Beast so handlers compile without its headers.
struct HttpRequest {
  std::string method;           // "GET", "POST", …
  std::string target;           // the raw request-target
  std::string path;             // target up to '?', not percent-decoded
  std::string query;            // target after '?', raw; empty when absent
  std::vector<Header> headers;  // names lower-cased, in arrival order
  std::string body;
  std::string remote_address;  // peer IP
  std::string request_id;      // set by the server: the client's sane X-Request-Id or a new one

  // Returns the first header named `lower_name`, or nullptr.
  const std::string* FindHeader(std::string_view lower_name) const {
    for (const auto& header : headers) {
      if (header.name == lower_name) return &header.value;
    }
    return nullptr;
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<Header>
      headers;  // Content-Length, Connection, Date, X-Request-Id are added by the server
  std::string body;
  // Not sent: the tenant to name in the access log line (empty when unauthenticated).
  std::string log_tenant;

  void SetHeader(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
  }
};

// Delivers the response for one request. Call exactly once, from any thread.
using Reply = std::function<void(HttpResponse)>;

// The application behind the server. Handle may reply before returning (synchronous work) or
// later from another thread (e.g. after a database commit). Must not throw.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(HttpRequest& request, Reply reply) = 0;
};

}  // namespace zebros::net
