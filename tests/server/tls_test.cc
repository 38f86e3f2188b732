// make_tls_server_context: good files give a context; every bad file or option gives an
// error that names it. Certificates are made in-process with OpenSSL (no CLI needed).
#include "server/tls.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

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

}  // namespace
}  // namespace burrow::server
