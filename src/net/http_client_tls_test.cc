#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <thread>

#include "net/http_client.h"

namespace zebros::net {
namespace {

// Bounds a failing test; never paces a passing one.
constexpr int kDeadlineMillis = 10'000;

// A one-connection HTTPS peer with a fresh self-signed certificate for DNS name "localhost",
// written with plain OpenSSL so the client is not tested against itself.
class TlsPeer {
 public:
  TlsPeer() {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 3600);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert_, name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert_, cert_, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
      X509_add_ext(cert_, extension, -1);
      X509_EXTENSION_free(extension);
    }
    X509_sign(cert_, key_, EVP_sha256());

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
    thread_ = std::thread([this] { ServeOne(); });
  }
  ~TlsPeer() {
    thread_.join();
    ::close(fd_);
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }

  int port() const { return port_; }
  std::string CertificatePem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert_);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return pem;
  }
  // What the client sent as SNI, and whether a request got answered.
  std::string server_name() {
    std::lock_guard lock(mutex_);
    return server_name_;
  }

 private:
  void ServeOne() {
    pollfd waiting{fd_, POLLIN, 0};
    if (::poll(&waiting, 1, kDeadlineMillis) != 1) return;
    const int client = ::accept(fd_, nullptr, nullptr);
    if (client < 0) return;
    timeval timeout{kDeadlineMillis / 1000, 0};
    ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    SSL_CTX* context = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(context, cert_);
    SSL_CTX_use_PrivateKey(context, key_);
    SSL* ssl = SSL_new(context);
    SSL_set_fd(ssl, client);
    if (SSL_accept(ssl) == 1) {
      if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
        std::lock_guard lock(mutex_);
        server_name_ = name;
      }
      std::string request;
      char buffer[1024];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const int read = SSL_read(ssl, buffer, sizeof(buffer));
        if (read <= 0) break;
        request.append(buffer, static_cast<std::size_t>(read));
      }
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nsecure";
      SSL_write(ssl, response.data(), static_cast<int>(response.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
    SSL_CTX_free(context);
    ::close(client);
  }

  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::string server_name_;
};

TEST(HttpClientTls, TrustedCertificateWithMatchingNameSucceeds) {
  TlsPeer peer;
  HttpFetchRequest request{.url = "https://localhost:" + std::to_string(peer.port()) + "/"};
  request.extra_ca_pem = peer.CertificatePem();
  auto response = HttpFetch(request);
  ASSERT_TRUE(response.ok()) << response.error().detail;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "secure");
  EXPECT_EQ(peer.server_name(), "localhost");
}

TEST(HttpClientTls, UntrustedCertificateIsRefused) {
  TlsPeer peer;
  auto response = HttpFetch({.url = "https://localhost:" + std::to_string(peer.port()) + "/"});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().problem_code, "upstream_unavailable");
  EXPECT_NE(response.error().detail.find("TLS handshake"), std::string::npos)
      << response.error().detail;
  EXPECT_NE(response.error().detail.find("certificate verify failed"), std::string::npos)
      << response.error().detail;
}

TEST(HttpClientTls, CertificateForAnotherNameIsRefused) {
  TlsPeer peer;
  // Trusted, but issued to "localhost", not to the address asked for.
  HttpFetchRequest request{.url = "https://127.0.0.1:" + std::to_string(peer.port()) + "/"};
  request.extra_ca_pem = peer.CertificatePem();
  auto response = HttpFetch(request);
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().detail.find("TLS handshake"), std::string::npos)
      << response.error().detail;
  EXPECT_NE(response.error().detail.find("certificate verify failed"), std::string::npos)
      << response.error().detail;
}

TEST(HttpClientTls, MalformedExtraCaIsAnError) {
  TlsPeer peer;
  HttpFetchRequest request{.url = "https://localhost:" + std::to_string(peer.port()) + "/"};
  request.extra_ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  auto response = HttpFetch(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, core::Code::kUnavailable);
}

}  // namespace
}  // namespace zebros::net
