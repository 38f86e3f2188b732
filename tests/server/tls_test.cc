// make_tls_server_context: good files give a context; every bad file or option gives an
// error that names it. Server::listen_tls: the TLS handshake timeout (burrowd has no flag
// for it, so test_tls.py cannot reach it). Certificates are made in-process with OpenSSL.
#include "server/tls.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "broker/broker_core.h"
#include "server/server.h"

namespace burrow::server {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() / ("burrow-tls-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Writes a self-signed P-256 certificate and its key as PEM.
void make_self_signed(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  std::FILE* f = std::fopen(cert_path.c_str(), "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

class TlsContext : public ::testing::Test {
 protected:
  void SetUp() override {
    make_self_signed(dir_.file("cert.pem"), dir_.file("key.pem"));
    make_self_signed(dir_.file("other.pem"), dir_.file("other-key.pem"));
    std::ofstream(dir_.file("garbage.pem")) << "not a certificate\n";
    options_.cert_file = dir_.file("cert.pem");
    options_.key_file = dir_.file("key.pem");
  }

  // The error of building a context from options_; asserts there is one.
  Status error() {
    auto ctx = make_tls_server_context(options_);
    EXPECT_FALSE(ctx.ok());
    return ctx.status();
  }

  TempDir dir_;
  TlsOptions options_;
};

TEST_F(TlsContext, BuildsFromGoodFiles) {
  auto ctx = make_tls_server_context(options_);
  ASSERT_TRUE(ctx.ok()) << ctx.status().to_string();
  EXPECT_NE(*ctx, nullptr);
}

TEST_F(TlsContext, BuildsWithPeerVerification) {
  options_.ca_file = dir_.file("other.pem");
  options_.verify_peer = true;
  options_.fail_if_no_peer_cert = true;
  auto ctx = make_tls_server_context(options_);
  EXPECT_TRUE(ctx.ok()) << ctx.status().to_string();
}

TEST_F(TlsContext, MissingCertificateNamesTheFile) {
  options_.cert_file = dir_.file("missing.pem");
  Status s = error();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(options_.cert_file), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No such file"), std::string::npos) << s.message();
}

TEST_F(TlsContext, MissingKeyNamesTheFile) {
  options_.key_file = dir_.file("missing-key.pem");
  Status s = error();
  EXPECT_NE(s.message().find(options_.key_file), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("private key"), std::string::npos) << s.message();
}

TEST_F(TlsContext, MissingCaNamesTheFile) {
  options_.ca_file = dir_.file("missing-ca.pem");
  Status s = error();
  EXPECT_NE(s.message().find(options_.ca_file), std::string::npos) << s.message();
}

TEST_F(TlsContext, DirectoryIsNotAFile) {
  options_.cert_file = dir_.file("");
  Status s = error();
  EXPECT_NE(s.message().find("is a directory"), std::string::npos) << s.message();
}

TEST_F(TlsContext, InvalidPemNamesTheFile) {
  options_.cert_file = dir_.file("garbage.pem");
  EXPECT_NE(error().message().find(options_.cert_file), std::string::npos);
  options_.cert_file = dir_.file("cert.pem");
  options_.key_file = dir_.file("garbage.pem");
  EXPECT_NE(error().message().find(options_.key_file), std::string::npos);
  options_.key_file = dir_.file("key.pem");
  options_.ca_file = dir_.file("garbage.pem");
  EXPECT_NE(error().message().find(options_.ca_file), std::string::npos);
}

TEST_F(TlsContext, KeyOfAnotherCertificateIsRefused) {
  options_.key_file = dir_.file("other-key.pem");
  Status s = error();
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(options_.key_file), std::string::npos) << s.message();
}

TEST_F(TlsContext, ContradictoryOptionsAreRefused) {
  options_.verify_peer = true;  // no CA file
  EXPECT_NE(error().message().find("CA file"), std::string::npos);
  options_.verify_peer = false;
  options_.fail_if_no_peer_cert = true;
  EXPECT_NE(error().message().find("verify_peer"), std::string::npos);
}

// The same files, now behind a listener.
class TlsListener : public TlsContext {};

// A TCP connection to 127.0.0.1:port; -1 on failure.
int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Milliseconds until the peer closes `fd` (reading and discarding), or -1 after `limit_ms`.
int64_t ms_until_closed(int fd, int limit_ms) {
  const auto start = std::chrono::steady_clock::now();
  char buf[4096];
  for (;;) {
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    if (ms >= limit_ms) return -1;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit_ms - ms)) <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - start)
          .count();
    }
  }
}

TEST_F(TlsListener, SilentClientIsClosedAfterTheHandshakeTimeout) {
  auto ctx = make_tls_server_context(options_);
  ASSERT_TRUE(ctx.ok()) << ctx.status().to_string();
  auto core = broker::BrokerCore::open(Options{.in_memory = true, .worker_threads = 2});
  ASSERT_TRUE(core.ok());
  ServerOptions server_options;
  server_options.handshake_timeout_ms = 300;
  Server server(**core, server_options);
  auto plain_port = server.listen("127.0.0.1", 0);
  auto tls_port = server.listen_tls("127.0.0.1", 0, *ctx);
  ASSERT_TRUE(plain_port.ok() && tls_port.ok());

  int silent = connect_to(*tls_port);
  ASSERT_GE(silent, 0);
  int64_t ms = ms_until_closed(silent, 5000);
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 3000);
  ::close(silent);

  // The plain listener beside it still answers the protocol header with connection.start.
  int plain = connect_to(*plain_port);
  ASSERT_GE(plain, 0);
  ASSERT_EQ(::write(plain, "AMQP\0\0\x09\x01", 8), 8);
  char first = 0;
  EXPECT_EQ(::read(plain, &first, 1), 1);
  EXPECT_EQ(first, 1);  // a method frame
  ::close(plain);

  server.stop();
  (*core)->shutdown();
}

TEST_F(TlsListener, ListenTlsWithoutAContextIsRefused) {
  auto core = broker::BrokerCore::open(Options{.in_memory = true, .worker_threads = 1});
  ASSERT_TRUE(core.ok());
  Server server(**core);
  auto port = server.listen_tls("127.0.0.1", 0, nullptr);
  EXPECT_EQ(port.status().code(), StatusCode::kInvalidArgument);
  server.stop();
  (*core)->shutdown();
}

}  // namespace
}  // namespace burrow::server
