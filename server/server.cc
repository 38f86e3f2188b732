// Server and Session: the only code that touches sockets. A Session owns one connection's
// stream - a TCP socket, or a TLS stream over one for amqps - and runs its AmqpConnection on
// a strand: reads feed on_input, OutputBuffer wakes trigger batched writes, timers drive the
// handshake timeouts, heartbeats and delayed closes. The session is one template over the
// stream type; only the TLS handshake and the socket calls differ.
#include "server/server.h"
#include "base/logging.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <type_traits>
#include <vector>

#include "broker/broker_core.h"
#include "server/asio_ssl.h"

namespace burrow::server {

namespace {
spdlog::logger& logger() { return module_logger("amqp"); }
}  // namespace

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = ssl::stream<tcp::socket>;

namespace {

// The read buffer of an open connection (reads of up to 64 KiB per system call).
constexpr size_t kReadChunk = 64 * 1024;
// The read buffer until connection.open: enough for any frame before tune-ok (4096 + 8) and a
// little more, so a flood of connections that never authenticate costs 8 KiB each, not 64.
constexpr size_t kHandshakeReadChunk = 8 * 1024;

// A connection's read buffer. Growing leaves the new bytes uninitialized (std::vector would
// zero them): pages a connection never reads into are never touched, so an open connection
// that sends small frames keeps a few KiB of its 64 KiB resident, not all of it.
class ReadBuffer {
 public:
  char* data() { return data_.get(); }
  size_t size() const { return size_; }
  // Grows (or shrinks) to n bytes, keeping the bytes that fit.
  void resize(size_t n) {
    auto next = std::make_unique_for_overwrite<char[]>(n);
    if (size_ > 0) std::memcpy(next.get(), data_.get(), std::min(size_, n));
    data_ = std::move(next);
    size_ = n;
  }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
};

}  // namespace

// What Server needs from a session of any stream type. Methods run on the session's strand.
class Session {
 public:
  // The socket's executor: a strand (the acceptor gives each socket its own), shared by the
  // socket's operations, the timer and posted work, so they never run concurrently.
  using Strand = asio::any_io_executor;

  virtual ~Session() = default;
  virtual void start() = 0;
  // Called on the strand by Server::stop: an open connection is sent connection.close (320,
  // as RabbitMQ does when it stops) and ends when the client answers; any other is closed.
  virtual void close_gracefully() = 0;
  // Called on the strand by Server::stop, for sessions that did not end in time.
  virtual void close_now() = 0;
  virtual Strand& strand() = 0;
  // A resource alarm was raised or cleared. Called on the strand.
  virtual void set_alarm(bool memory, bool disk) = 0;
};

// Stream is tcp::socket (amqp) or ssl::stream<tcp::socket> (amqps).
template <typename Stream>
class BasicSession final : public Session,
                           public std::enable_shared_from_this<BasicSession<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `stream_args` construct the Stream: (socket) or (socket, ssl context).
  template <typename... StreamArgs>
  BasicSession(broker::BrokerCore& core, const ServerOptions& options, ConnectionRegistry& registry,
               std::function<void(Session*)> on_done, StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        strand_(stream_.get_executor()),
        options_(options),
        timer_(strand_),
        core_(core),
        registry_(registry),
        on_done_(std::move(on_done)) {}

  void start() override {
    boost::system::error_code ec;
    socket().set_option(tcp::no_delay(true), ec);
    auto remote = socket().remote_endpoint(ec);
    PeerInfo peer;
    peer.address =
        ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
    peer.loopback = !ec && remote.address().is_loopback();
    if (!ec) {
      peer.peer_host = remote.address().to_string();
      peer.peer_port = remote.port();
    }
    if (auto local = socket().local_endpoint(ec); !ec) {
      peer.local_host = local.address().to_string();
      peer.local_port = local.port();
    }
    peer.tls = kTls;
    if constexpr (kTls) {
      tls_handshake(std::move(peer));
    } else {
      start_amqp(std::move(peer));
    }
  }

  void close_gracefully() override {
    if (stopped_) return;
    if (!conn_ || !conn_->is_open()) {
      teardown("server shutting down");
      return;
    }
    // rabbit_reader's text when the node stops.
    conn_->force_close("broker forced connection closure with reason 'shutdown'");
    after_input();
  }

  void close_now() override { teardown("server shutting down"); }

  Strand& strand() override { return strand_; }

 private:
  tcp::socket& socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // amqps: the TLS handshake, bounded by the handshake timeout, comes before the AMQP one.
  // A failure closes this socket only. Instantiated for TLS streams only.
  void tls_handshake(PeerInfo peer) {
    auto self = this->shared_from_this();
    timer_.expires_after(std::chrono::milliseconds(options_.handshake_timeout_ms));
    timer_.async_wait([self](boost::system::error_code ec) {
      // A completed handshake may race with an expiry already queued: conn_ tells.
      if (ec || self->stopped_ || self->conn_) return;
      self->teardown("TLS handshake timeout from " + self->tls_peer_address_, true);
    });
    tls_peer_address_ = peer.address;
    stream_.async_handshake(ssl::stream_base::server, [self, peer = std::move(peer)](
                                                          boost::system::error_code ec) mutable {
      if (self->stopped_) return;
      if (ec) {
        self->teardown(fmt::format("TLS handshake with {} failed: {}", peer.address, ec.message()),
                       true);
        return;
      }
      SSL* native = self->stream_.native_handle();
      peer.tls_protocol = SSL_get_version(native);
      peer.tls_cipher = SSL_get_cipher_name(native);
      logger().debug("TLS connection from {}: {} {}", peer.address, peer.tls_protocol,
                     peer.tls_cipher);
      self->start_amqp(std::move(peer));
    });
  }

  void start_amqp(PeerInfo peer) {
    std::weak_ptr<BasicSession> weak = this->weak_from_this();
    out_ = std::make_shared<OutputBuffer>([weak] {
      if (auto self = weak.lock()) asio::post(self->strand_, [self] { self->flush(); });
    });
    conn_ =
        std::make_unique<AmqpConnection>(core_, options_.limits, std::move(peer), out_, &registry_);
    conn_->set_poster([weak](AmqpConnection::Task task) {
      auto self = weak.lock();
      if (!self) return;
      asio::post(self->strand_, [self, task = std::move(task)] {
        if (self->stopped_) return;
        task(*self->conn_);
        self->after_input();
      });
    });
    conn_->set_delayed_poster([weak](int64_t ms, AmqpConnection::Task task) {
      auto self = weak.lock();
      if (!self) return;
      auto timer = std::make_shared<asio::steady_timer>(self->strand_);
      timer->expires_after(std::chrono::milliseconds(ms));
      timer->async_wait([weak, timer, task = std::move(task)](boost::system::error_code ec) {
        auto session = weak.lock();
        if (ec || !session || session->stopped_) return;
        task(*session->conn_);
        session->after_input();
      });
    });
    if (options_.alarms != nullptr && options_.alarms->any()) {
      conn_->set_resource_alarm(options_.alarms->memory_alarm(), options_.alarms->disk_alarm());
    }
    in_.resize(kHandshakeReadChunk);
    last_read_ = last_write_ = Clock::now();
    deadline_ = Clock::now() + std::chrono::milliseconds(options_.handshake_timeout_ms);
    arm_timer(std::chrono::milliseconds(std::min(options_.handshake_timeout_ms, 1000)));
    read();
  }

  void set_alarm(bool memory, bool disk) override {
    if (stopped_ || !conn_) return;
    conn_->set_resource_alarm(memory, disk);
    if (paused_ && !conn_->reading_paused()) {
      // Unblocked: frames read before the block come first, then the socket again.
      paused_ = false;
      last_read_ = Clock::now();
      size_t used = conn_->on_input(std::string_view(in_.data() + begin_, end_ - begin_));
      begin_ += used;
      if (begin_ == end_) begin_ = end_ = 0;
      after_input();
      read();
    } else {
      after_input();
    }
  }

  void read() {
    if (stopped_ || reading_stopped_) return;
    // Blocked by a resource alarm: the socket is not read until it clears (rabbit_reader).
    if (conn_ && conn_->reading_paused()) {
      paused_ = true;
      return;
    }
    if (in_.size() < kReadChunk && conn_ && conn_->is_open()) in_.resize(kReadChunk);
    if (in_.size() - end_ < 4096) {
      // Compact, and grow when a frame does not fit (at most frame_max + overhead).
      if (begin_ > 0) {
        std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (in_.size() - end_ < 4096) in_.resize(in_.size() * 2);
    }
    stream_.async_read_some(asio::buffer(in_.data() + end_, in_.size() - end_),
                            [self = this->shared_from_this()](boost::system::error_code ec,
                                                              size_t n) { self->on_read(ec, n); });
  }

  void on_read(boost::system::error_code ec, size_t n) {
    if (stopped_) return;
    if (ec) {
      // A TLS client that drops the TCP connection without close_notify ends the same way
      // as a plain one that closes its socket.
      const bool eof = ec == asio::error::eof || ec == ssl::error::stream_truncated;
      teardown(eof ? "" : ec.message());
      return;
    }
    end_ += n;
    last_read_ = Clock::now();
    size_t used = conn_->on_input(std::string_view(in_.data() + begin_, end_ - begin_));
    begin_ += used;
    if (begin_ == end_) begin_ = end_ = 0;
    after_input();
    read();
  }

  void after_input() {
    if (conn_->awaiting_close_ok() && closing_deadline_ == Clock::time_point{}) {
      closing_deadline_ = Clock::now() + std::chrono::milliseconds(options_.closing_timeout_ms);
    }
    switch (conn_->next_step()) {
      case NextStep::kContinue:
        break;
      case NextStep::kCloseAfterFlush:
        reading_stopped_ = true;
        close_after_flush_ = true;
        flush();
        break;
      case NextStep::kCloseAfterDelay:
        reading_stopped_ = true;
        if (delayed_close_ == Clock::time_point{}) {
          const std::chrono::milliseconds delay(options_.silent_close_delay_ms);
          delayed_close_ = Clock::now() + delay;
          // Close on time (RabbitMQ: 3.00 s), not at the next periodic tick.
          arm_timer(delay);
        }
        flush();
        break;
    }
  }

  // Writes everything the OutputBuffer holds, one batch at a time.
  void flush() {
    if (stopped_ || writing_) return;
    writing_buf_.clear();
    if (!out_->take(writing_buf_)) {
      if (close_after_flush_) teardown("");
      return;
    }
    writing_ = true;
    asio::async_write(stream_, asio::buffer(writing_buf_),
                      [self = this->shared_from_this()](boost::system::error_code ec, size_t n) {
                        self->writing_ = false;
                        if (ec) {
                          self->teardown(ec.message());
                          return;
                        }
                        self->last_write_ = Clock::now();
                        self->conn_->note_sent(n);
                        self->flush();
                      });
  }

  void arm_timer(std::chrono::milliseconds period) {
    timer_.expires_after(period);
    timer_.async_wait([self = this->shared_from_this(), period](boost::system::error_code ec) {
      if (ec || self->stopped_) return;
      self->on_tick();
      self->arm_timer(self->tick_period(period));
    });
  }

  std::chrono::milliseconds tick_period(std::chrono::milliseconds current) const {
    std::chrono::milliseconds period = current;
    if (conn_->is_open() && conn_->heartbeat() > 0) {
      period = std::chrono::milliseconds(std::max(500, conn_->heartbeat() * 1000 / 2));
    }
    if (delayed_close_ != Clock::time_point{}) {
      // The next tick is no later than the silent close.
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(delayed_close_ - Clock::now());
      period = std::max(std::min(left, period), std::chrono::milliseconds(1));
    }
    return period;
  }

  void on_tick() {
    const auto now = Clock::now();
    if (delayed_close_ != Clock::time_point{} && now >= delayed_close_) {
      teardown("");
      return;
    }
    if (closing_deadline_ != Clock::time_point{} && now >= closing_deadline_) {
      teardown("no connection.close-ok from client");
      return;
    }
    if (!conn_->is_open()) {
      if (now >= deadline_ && !conn_->awaiting_close_ok() &&
          delayed_close_ == Clock::time_point{}) {
        teardown("handshake timeout");
      }
      return;
    }
    const int hb = conn_->heartbeat();
    if (hb <= 0) return;
    // rabbit_heartbeat: send after heartbeat/2 of silence; give up after two heartbeats
    // without hearing from the client.
    if (now - last_write_ >= std::chrono::milliseconds(hb * 1000 / 2)) {
      conn_->send_heartbeat();
    }
    // A blocked connection's silence is ours, not the client's (rabbit_heartbeat is paused).
    if (!paused_ && now - last_read_ > std::chrono::seconds(2 * hb)) {
      teardown(fmt::format("missed heartbeats from client, timeout: {}s", hb));
    }
  }

  // Closes the socket (without a TLS close_notify: the AMQP close handshake has already
  // ended the conversation, and clients treat the TCP close as the end). `warn`: a TLS
  // handshake failure, which happens before there is an AMQP connection to log it.
  void teardown(const std::string& why, bool warn = false) {
    if (stopped_) return;
    stopped_ = true;
    if (warn) {
      logger().warn("{}", why);
    } else if (!why.empty()) {
      logger().info("closing AMQP connection: {}", why);
    }
    if (conn_) conn_->shutdown();
    if (out_) out_->close();
    boost::system::error_code ec;
    timer_.cancel();
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
    if (on_done_) on_done_(this);
  }

  Stream stream_;
  Strand strand_;
  const ServerOptions& options_;
  asio::steady_timer timer_;
  broker::BrokerCore& core_;
  ConnectionRegistry& registry_;
  std::function<void(Session*)> on_done_;
  std::shared_ptr<OutputBuffer> out_;
  std::unique_ptr<AmqpConnection> conn_;  // null until the TLS handshake is done
  bool paused_ = false;                   // not reading: blocked by a resource alarm
  std::string tls_peer_address_;          // for the TLS handshake timeout's log line

  ReadBuffer in_;
  size_t begin_ = 0;
  size_t end_ = 0;
  std::string writing_buf_;
  bool writing_ = false;
  bool stopped_ = false;
  bool reading_stopped_ = false;
  bool close_after_flush_ = false;
  Clock::time_point last_read_;
  Clock::time_point last_write_;
  Clock::time_point deadline_;          // AMQP handshake must finish by then
  Clock::time_point delayed_close_;     // silent close at this time
  Clock::time_point closing_deadline_;  // waiting for close-ok until then
};

size_t default_socket_limit() {
  struct rlimit files {};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0) return 1024;
  const size_t total =
      files.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(files.rlim_cur);
  const size_t reserved = std::min<size_t>(100, total / 2);
  return std::max<size_t>(1, (total - reserved) * 9 / 10);
}

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  // One bound port; `tls` is null for plain AMQP.
  struct Listener {
    std::unique_ptr<tcp::acceptor> acceptor;
    std::shared_ptr<ssl::context> tls;
    bool paused = false;  // at the socket limit: not accepting (guarded by Impl::mu)
  };

  Impl(broker::BrokerCore& core, ServerOptions options)
      : core(core),
        options(options),
        ioc(core.workers().io_context()),
        socket_limit(options.socket_limit != 0 ? options.socket_limit : default_socket_limit()) {}

  // Tells every session about an alarm change (on their strands).
  void on_alarm(bool memory, bool disk) {
    std::vector<std::shared_ptr<Session>> all;
    {
      std::lock_guard lock(mu);
      all.assign(sessions.begin(), sessions.end());
    }
    for (auto& s : all) {
      asio::post(s->strand(), [s, memory, disk] { s->set_alarm(memory, disk); });
    }
  }

  Result<uint16_t> listen(const std::string& address, uint16_t port,
                          std::shared_ptr<ssl::context> tls) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) return Status(StatusCode::kInvalidArgument, "invalid bind address '" + address + "'");
    tcp::endpoint endpoint(addr, port);
    auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(ioc));
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status(StatusCode::kIoError, "cannot listen on " + address + ":" +
                                              std::to_string(port) + ": " + ec.message());
    }
    uint16_t bound = acceptor->local_endpoint().port();
    auto listener = std::make_shared<Listener>(Listener{std::move(acceptor), std::move(tls)});
    {
      std::lock_guard lock(mu);
      if (stopping) return Status(StatusCode::kClosed, "server stopped");
      listeners.push_back(listener);
    }
    accept(listener);
    return bound;
  }

  // How long the acceptor waits after running out of descriptors or memory.
  static constexpr std::chrono::milliseconds kAcceptBackoff{100};

  static bool out_of_resources(const boost::system::error_code& ec) {
    return ec == asio::error::no_descriptors ||                         // EMFILE
           ec == boost::system::errc::too_many_files_open_in_system ||  // ENFILE
           ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
  }

  void accept(const std::shared_ptr<Listener>& listener) {
    listener->acceptor->async_accept(
        asio::make_strand(ioc),
        [self = shared_from_this(), listener](boost::system::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec == asio::error::operation_aborted || !listener->acceptor->is_open()) return;
            if (out_of_resources(ec)) {
              // The pending connection stays in the backlog, so accepting again at once
              // would fail again at once: a busy loop filling the log until a descriptor
              // frees. Back off as RabbitMQ's acceptor (ranch) does.
              logger().warn("accept failed: {}; accepting again in {} ms", ec.message(),
                            kAcceptBackoff.count());
              auto timer = std::make_shared<asio::steady_timer>(listener->acceptor->get_executor(),
                                                                kAcceptBackoff);
              timer->async_wait([self, listener, timer](boost::system::error_code wait_ec) {
                if (!wait_ec && listener->acceptor->is_open()) self->accept(listener);
              });
              return;
            }
            logger().warn("accept failed: {}", ec.message());
            self->accept(listener);
            return;
          }
          if (self->registry.refusing()) {
            // Fault injection (refuse_connections): the client sees its socket closed
            // before the handshake.
            socket.close(ec);
          } else {
            self->start_session(std::move(socket), listener->tls);
          }
          if (!self->pause_at_socket_limit(listener)) self->accept(listener);
        });
  }

  // At the socket limit the listener stops accepting (the descriptors left stay for the
  // store and the management API, and the process never runs out); forget() resumes it.
  bool pause_at_socket_limit(const std::shared_ptr<Listener>& listener) {
    std::lock_guard lock(mu);
    if (sessions.size() < socket_limit) return false;
    listener->paused = true;
    if (!at_socket_limit) {
      at_socket_limit = true;
      logger().warn("socket limit ({}) reached: new connections wait until one closes",
                    socket_limit);
    }
    return true;
  }

  void start_session(tcp::socket socket, const std::shared_ptr<ssl::context>& tls) {
    std::weak_ptr<Impl> weak = weak_from_this();
    auto on_done = [weak](Session* s) {
      if (auto self = weak.lock()) self->forget(s);
    };
    std::shared_ptr<Session> session;
    if (tls) {
      session = std::make_shared<BasicSession<TlsStream>>(
          core, options, registry, std::move(on_done), std::move(socket), *tls);
    } else {
      session = std::make_shared<BasicSession<tcp::socket>>(core, options, registry,
                                                            std::move(on_done), std::move(socket));
    }
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      sessions.insert(session);
    }
    asio::post(session->strand(), [session] { session->start(); });
  }

  void forget(Session* s) {
    std::vector<std::shared_ptr<Listener>> resume;
    {
      std::lock_guard lock(mu);
      for (auto it = sessions.begin(); it != sessions.end(); ++it) {
        if (it->get() == s) {
          sessions.erase(it);
          break;
        }
      }
      if (!stopping && sessions.size() < socket_limit) {
        for (const auto& l : listeners) {
          if (l->paused) {
            l->paused = false;
            resume.push_back(l);
          }
        }
        if (at_socket_limit && !resume.empty()) {
          at_socket_limit = false;
          logger().info("below the socket limit ({}) again: accepting", socket_limit);
        }
      }
      cv.notify_all();
    }
    for (const auto& l : resume) {
      asio::post(l->acceptor->get_executor(), [self = shared_from_this(), l] {
        if (l->acceptor->is_open()) self->accept(l);
      });
    }
  }

  broker::BrokerCore& core;
  const ServerOptions options;
  asio::io_context& ioc;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<Listener>> listeners;  // guarded by mu
  std::set<std::shared_ptr<Session>> sessions;       // guarded by mu
  bool stopping = false;                             // guarded by mu
  const size_t socket_limit;
  bool at_socket_limit = false;  // guarded by mu; for logging once per episode
  ConnectionRegistry registry;
};

Server::Server(broker::BrokerCore& core, ServerOptions options)
    : impl_(std::make_shared<Impl>(core, options)) {
  if (options.alarms != nullptr) {
    std::weak_ptr<Impl> weak = impl_;
    alarm_subscription_ = options.alarms->subscribe([weak](bool memory, bool disk) {
      if (auto impl = weak.lock()) impl->on_alarm(memory, disk);
    });
  }
}

Server::~Server() {
  stop();
  if (impl_->options.alarms != nullptr) impl_->options.alarms->unsubscribe(alarm_subscription_);
}

ConnectionRegistry& Server::connections() { return impl_->registry; }

size_t Server::socket_limit() const { return impl_->socket_limit; }

Result<uint16_t> Server::listen(const std::string& address, uint16_t port) {
  return impl_->listen(address, port, nullptr);
}

Result<uint16_t> Server::listen_tls(const std::string& address, uint16_t port,
                                    std::shared_ptr<ssl::context> tls) {
  if (!tls) return invalid_argument("listen_tls needs a TLS context");
  return impl_->listen(address, port, std::move(tls));
}

void Server::stop() {
  std::vector<std::shared_ptr<Session>> sessions;
  std::vector<std::shared_ptr<Impl::Listener>> listeners;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
    sessions.assign(impl_->sessions.begin(), impl_->sessions.end());
    listeners = impl_->listeners;
  }
  for (auto& listener : listeners) {
    asio::post(listener->acceptor->get_executor(), [listener] {
      boost::system::error_code ec;
      listener->acceptor->close(ec);
    });
  }
  // Clients are told (320 CONNECTION_FORCED) and given a moment to answer close-ok; the
  // sockets still open after it are closed.
  for (auto& s : sessions) asio::post(s->strand(), [s] { s->close_gracefully(); });
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, std::chrono::seconds(1), [&] { return impl_->sessions.empty(); });
  sessions.assign(impl_->sessions.begin(), impl_->sessions.end());
  lock.unlock();
  for (auto& s : sessions) asio::post(s->strand(), [s] { s->close_now(); });
  lock.lock();
  impl_->cv.wait_for(lock, std::chrono::seconds(5), [&] { return impl_->sessions.empty(); });
}

}  // namespace burrow::server
