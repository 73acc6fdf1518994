#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/result.h"
#include "net/http_types.h"

namespace zebros::net {

// One outbound HTTP/1.1 request.
struct HttpFetchRequest {
  std::string method = "GET";
  std::string url;              // http:// or https:// only
  std::vector<Header> headers;  // sent as given; Host, Content-Length, Connection are set for you
  std::string body;
  // Bounds the whole exchange (connect, TLS handshake, write, read), also against a peer that
  // accepts and then never answers. Name resolution is included but relies on the system
  // resolver returning (a hung DNS server can hold the call until the resolver gives up).
  std::chrono::milliseconds timeout{5000};
  // A response body larger than this is an error, not a truncated success.
  std::size_t max_response_bytes = 1 << 20;
  // https: PEM certificates trusted in addition to the system CA store (a private CA in front of
  // an identity provider). Empty: the system store only.
  std::string extra_ca_pem;
};

struct HttpFetchResponse {
  int status = 0;
  std::string body;
  std::string content_type;  // the Content-Type header, empty when absent
};

// Sends `request` and waits for the whole response (redirects are not followed: a 3xx comes back
// as a response). https verifies the peer's chain against the system CA store and its name
// against the URL's host (SNI sent for names). Any HTTP status is a success; failures to talk
// at all (bad URL, DNS, connect, TLS, timeout, oversized or malformed response) are kUnavailable
// with problem code `upstream_unavailable` and a detail naming the host and the cause.
// Blocks the calling thread; thread-safe (each call has its own connection).
core::Result<HttpFetchResponse> HttpFetch(const HttpFetchRequest& request);

}  // namespace zebros::net
