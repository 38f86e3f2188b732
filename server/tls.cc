// Builds the server TLS context from TlsOptions. Every failure names the file or option at
// fault: the usual mistakes are a wrong path or a key that belongs to another certificate,
// and OpenSSL's own messages ("no start line") do not say which file they are about.
#include "server/tls.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "server/asio_ssl.h"

namespace burrow::server {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL reports a missing file as "system lib"; check first and say it plainly.
Status check_readable(std::string_view what, const std::string& path) {
  if (path.empty()) return invalid_argument(fmt::format("no {} file given", what));
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return invalid_argument(fmt::format("{} file '{}' is a directory", what, path));
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return invalid_argument(
        fmt::format("cannot read {} file '{}': {}", what, path, std::strerror(errno)));
  }
  std::fclose(f);
  return Status();
}

// `expected`: what the file should hold, since OpenSSL's reasons ("no start line",
// "unsupported") do not say.
Status load_failed(std::string_view what, const std::string& path, std::string_view expected,
                   const boost::system::error_code& ec) {
  ERR_clear_error();  // leave nothing behind for the next OpenSSL call on this thread
  return invalid_argument(fmt::format("cannot load {} from '{}' ({} expected): {}", what, path,
                                      expected, ec.message()));
}

Status configure(ssl::context& ctx, const TlsOptions& options) {
  if (options.fail_if_no_peer_cert && !options.verify_peer) {
    return invalid_argument("fail_if_no_peer_cert needs verify_peer");
  }
  if (options.verify_peer && options.ca_file.empty()) {
    return invalid_argument("verify_peer needs a CA file to verify client certificates against");
  }
  if (auto s = check_readable("TLS certificate", options.cert_file); !s.ok()) return s;
  if (auto s = check_readable("TLS private key", options.key_file); !s.ok()) return s;
  if (!options.ca_file.empty()) {
    if (auto s = check_readable("TLS CA certificate", options.ca_file); !s.ok()) return s;
  }

  SSL_CTX* native = ctx.native_handle();
  // TLS 1.2 and 1.3 only (RabbitMQ 3.10's default versions); no renegotiation, which only
  // serves clients trying to make the server burn CPU.
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An encrypted key would make OpenSSL prompt on the terminal; fail instead.
  ctx.set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });

  boost::system::error_code ec;
  ctx.use_certificate_chain_file(options.cert_file, ec);
  if (ec)
    return load_failed("the TLS certificate chain", options.cert_file, "PEM certificates", ec);
  ctx.use_private_key_file(options.key_file, ssl::context::pem, ec);
  // OpenSSL 3 compares the key with the certificate as it loads it; older versions leave
  // that to SSL_CTX_check_private_key.
  const bool mismatch = (ec && ec.category() == boost::asio::error::get_ssl_category() &&
                         ERR_GET_REASON(ec.value()) == X509_R_KEY_VALUES_MISMATCH) ||
                        (!ec && SSL_CTX_check_private_key(native) != 1);
  if (mismatch) {
    ERR_clear_error();
    return invalid_argument(fmt::format("TLS private key '{}' does not match the certificate '{}'",
                                        options.key_file, options.cert_file));
  }
  if (ec) {
    return load_failed("the TLS private key", options.key_file, "an unencrypted PEM key", ec);
  }
  if (!options.ca_file.empty()) {
    ctx.load_verify_file(options.ca_file, ec);
    if (ec) return load_failed("the TLS CA certificates", options.ca_file, "PEM certificates", ec);
    // The issuers a client may pick its certificate from (certificate_authorities).
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.ca_file.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(native, names);
    ERR_clear_error();
  }
  if (options.verify_peer) {
    ssl::verify_mode mode = ssl::verify_peer;
    if (options.fail_if_no_peer_cert) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx.set_verify_mode(mode);
    // Session resumption with client certificates needs a session id context.
    static constexpr unsigned char kSessionContext[] = "burrow-amqps";
    SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  } else {
    ctx.set_verify_mode(ssl::verify_none);
  }
  return Status();
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_tls_server_context(const TlsOptions& options) {
  std::shared_ptr<ssl::context> ctx;
  try {
    ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const boost::system::system_error& e) {  // SSL_CTX_new failed: out of memory
    return internal_error(std::string("cannot create a TLS context: ") + e.what());
  }
  if (auto s = configure(*ctx, options); !s.ok()) return s;
  return ctx;
}

}  // namespace burrow::server
