// TLS settings and the server-side TLS context (amqps; the HTTP API will reuse it). The
// names follow RabbitMQ's ssl_options. Asio and OpenSSL stay out of this header: the context
// is forward-declared and handed around in a shared_ptr.
#pragma once

#include <memory>
#include <string>

#include <burrow/status.h>

namespace boost::asio::ssl {
class context;
}

namespace burrow::server {

// RabbitMQ's ssl_options (certfile, keyfile, cacertfile, verify, fail_if_no_peer_cert).
struct TlsOptions {
  // PEM certificate chain the server presents: its own certificate first, then any
  // intermediates. Required.
  std::string cert_file;
  // PEM private key of that certificate (unencrypted). Required.
  std::string key_file;
  // PEM CA certificates that client certificates are verified against (also sent to clients
  // as the list of acceptable issuers). Required when verify_peer is set. Default: none.
  std::string ca_file;
  // Ask clients for a certificate and verify it against ca_file (RabbitMQ's
  // verify_peer). A client that presents an untrusted certificate fails the handshake.
  // Default: false (verify_none: clients are not asked for a certificate).
  bool verify_peer = false;
  // With verify_peer: also refuse clients that present no certificate at all. Without
  // verify_peer it is rejected as contradictory (as Erlang's ssl does).
  // Default: false.
  bool fail_if_no_peer_cert = false;
};

// Builds a TLS server context: TLS 1.2 or later, the certificate chain, the private key
// (checked against the certificate), the CA file and the verify mode from `options`.
// Thread-safe; the returned context may be shared by any number of listeners and sessions.
// Errors: kInvalidArgument naming the file when a file is missing, unreadable or not valid
// PEM of the expected kind, when the key does not match the certificate, or when the
// options contradict each other (verify_peer without ca_file, fail_if_no_peer_cert without
// verify_peer).
Result<std::shared_ptr<boost::asio::ssl::context>> make_tls_server_context(
    const TlsOptions& options);

}  // namespace burrow::server
