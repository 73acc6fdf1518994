#include "net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <exception>
#include <optional>

namespace zebros::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

struct Target {
  bool https = false;
  std::string host;         // for DNS, SNI and certificate checks: no brackets, not encoded
  std::string host_header;  // as written in the URL, with the port when one was given
  std::string port;
  std::string path_and_query;
  bool host_is_ip = false;
};

core::Error Unavailable(std::string detail) {
  return core::MakeError(core::Code::kUnavailable, "upstream_unavailable",
                         "An upstream service is unavailable.", std::move(detail));
}

core::Result<Target> ParseTarget(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Unavailable("invalid URL");
  Target target;
  const auto scheme = parsed->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
    return Unavailable("unsupported URL scheme (http or https only)");
  }
  target.https = scheme == boost::urls::scheme::https;
  // Credentials in a URL would end up in logs and caches; callers must use headers instead.
  if (parsed->has_userinfo()) return Unavailable("credentials in URLs are not supported");
  target.host = parsed->host_address();
  if (target.host.empty()) return Unavailable("URL has no host");
  target.host_is_ip = parsed->host_type() == boost::urls::host_type::ipv4 ||
                      parsed->host_type() == boost::urls::host_type::ipv6;
  target.host_header = std::string(parsed->encoded_host_and_port());
  target.port = parsed->has_port() ? std::string(parsed->port()) : (target.https ? "443" : "80");
  target.path_and_query = std::string(parsed->encoded_path());
  if (target.path_and_query.empty()) target.path_and_query = "/";
  if (parsed->has_query()) target.path_and_query += "?" + std::string(parsed->encoded_query());
  return target;
}

// State of one exchange, all touched from the one thread running its io_context.
struct Call {
  asio::io_context io;
  tcp::resolver resolver{io};
  asio::steady_timer resolve_timer{io};
  SteadyClock::time_point deadline;
  Target target;
  http::request<http::string_body> request;
  std::optional<http::response_parser<http::string_body>> parser;
  beast::flat_buffer buffer;
  std::string extra_ca_pem;
  std::string failure;  // empty while all goes well

  void Fail(std::string_view stage, const beast::error_code& error) {
    if (!failure.empty()) return;
    const bool timed_out =
        error == beast::error::timeout || error == asio::error::operation_aborted;
    failure = target.host + ":" + target.port + " " + std::string(stage) + ": " +
              (timed_out ? std::string("timed out") : error.message());
  }
};

template <typename Stream>
asio::awaitable<void> Exchange(Call& call, Stream& stream) {
  beast::error_code error;
  auto token = asio::redirect_error(asio::use_awaitable, error);
  co_await http::async_write(stream, call.request, token);
  if (error) co_return call.Fail("write", error);
  co_await http::async_read(stream, call.buffer, *call.parser, token);
  if (error == http::error::body_limit) {
    call.failure = call.target.host + ":" + call.target.port + " response body too large";
    co_return;
  }
  if (error) co_return call.Fail("read", error);
}

asio::awaitable<void> Run(Call& call) {
  beast::error_code error;
  auto token = asio::redirect_error(asio::use_awaitable, error);
  // The resolver is not a beast stream, so its share of the deadline is a timer of its own.
  call.resolve_timer.expires_at(call.deadline);
  call.resolve_timer.async_wait([&call](const beast::error_code& waited) {
    if (!waited) call.resolver.cancel();
  });
  auto endpoints = co_await call.resolver.async_resolve(call.target.host, call.target.port, token);
  call.resolve_timer.cancel();
  if (error) co_return call.Fail("resolve", error);

  beast::tcp_stream tcp(call.io);
  // One absolute deadline for every later step: the total time is bounded, not each step.
  tcp.expires_at(call.deadline);
  co_await tcp.async_connect(endpoints, token);
  if (error) co_return call.Fail("connect", error);
  if (!call.target.https) {
    co_await Exchange(call, tcp);
    co_return;
  }

  // A context per call reads the CA store each time; fetches are rare (discovery, key rotation)
  // and this keeps the client free of process-wide state.
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_peer);
  beast::error_code ca_error;
  context.set_default_verify_paths(ca_error);
  if (ca_error) co_return call.Fail("loading CA certificates", ca_error);
  if (!call.extra_ca_pem.empty()) {
    context.add_certificate_authority(asio::buffer(call.extra_ca_pem), ca_error);
    if (ca_error) co_return call.Fail("loading the extra CA certificates", ca_error);
  }
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp), context);
  SSL* ssl_handle = tls.native_handle();
  // Without the name check any trusted certificate would do, so failing to set it up is fatal.
  const bool name_check_set =
      call.target.host_is_ip
          ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), call.target.host.c_str()) == 1
          // SNI, so virtual hosts present the right certificate, and the name check on it.
          : SSL_set_tlsext_host_name(ssl_handle, call.target.host.c_str()) == 1 &&
                SSL_set1_host(ssl_handle, call.target.host.c_str()) == 1;
  if (!name_check_set) {
    call.failure = call.target.host + ":" + call.target.port + " cannot check the TLS host name";
    co_return;
  }
  beast::get_lowest_layer(tls).expires_at(call.deadline);
  co_await tls.async_handshake(ssl::stream_base::client, token);
  if (error) co_return call.Fail("TLS handshake", error);
  co_await Exchange(call, tls);
}

}  // namespace

core::Result<HttpFetchResponse> HttpFetch(const HttpFetchRequest& request) {
  auto target = ParseTarget(request.url);
  if (!target.ok()) return std::move(target).error();
  const http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) return Unavailable("unsupported HTTP method");

  Call call;
  call.target = std::move(*target);
  call.deadline = SteadyClock::now() + request.timeout;
  call.extra_ca_pem = request.extra_ca_pem;
  call.request.method(verb);
  call.request.target(call.target.path_and_query);
  call.request.version(11);
  for (const Header& header : request.headers) {
    // Beast writes header fields verbatim; a line break would smuggle a second request.
    if (header.name.empty() ||
        (header.name + header.value).find_first_of(std::string_view("\r\n\0", 3)) !=
            std::string::npos) {
      return Unavailable("invalid request header");
    }
    call.request.insert(header.name, header.value);
  }
  call.request.set(http::field::host, call.target.host_header);
  if (call.request.find(http::field::user_agent) == call.request.end()) {
    call.request.set(http::field::user_agent, "zebros");
  }
  call.request.set(http::field::connection, "close");
  call.request.body() = request.body;
  call.request.prepare_payload();
  call.parser.emplace();
  call.parser->body_limit(request.max_response_bytes);

  bool finished = false;
  std::exception_ptr thrown;
  asio::co_spawn(call.io, Run(call), [&](std::exception_ptr error) {
    finished = true;
    thrown = error;
  });
  call.io.run();
  if (thrown || !finished) return Unavailable(call.target.host + ": internal client failure");
  if (!call.failure.empty()) return Unavailable(std::move(call.failure));
  auto& response = call.parser->get();
  HttpFetchResponse out;
  out.status = static_cast<int>(response.result_int());
  out.content_type = std::string(response[http::field::content_type]);
  out.body = std::move(response.body());
  return out;
}

}  // namespace zebros::net
