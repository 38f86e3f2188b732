// Server and Session: the only code that touches sockets. A Session owns one TCP socket and
// runs its AmqpConnection on a strand: reads feed on_input, OutputBuffer wakes trigger
// batched writes, timers drive the handshake timeout, heartbeats and delayed closes.
#include "server/server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

#include "broker/broker_core.h"
#include "server/asio.h"

namespace burrow::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  // The socket's executor: a strand (the acceptor gives each socket its own), shared by the
  // socket's operations, the timer and posted work, so they never run concurrently.
  using Strand = asio::any_io_executor;

  Session(tcp::socket socket, broker::BrokerCore& core, const ServerOptions& options,
          ConnectionRegistry& registry, std::function<void(Session*)> on_done)
      : strand_(socket.get_executor()),
        socket_(std::move(socket)),
        options_(options),
        timer_(strand_),
        core_(core),
        registry_(registry),
        on_done_(std::move(on_done)) {}

  void start() {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    auto remote = socket_.remote_endpoint(ec);
    PeerInfo peer;
    peer.address =
        ec ? "unknown" : remote.address().to_string() + ":" + std::to_string(remote.port());
    peer.loopback = !ec && remote.address().is_loopback();
    if (!ec) {
      peer.peer_host = remote.address().to_string();
      peer.peer_port = remote.port();
    }
    if (auto local = socket_.local_endpoint(ec); !ec) {
      peer.local_host = local.address().to_string();
      peer.local_port = local.port();
    }
    std::weak_ptr<Session> weak = weak_from_this();
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
    in_.resize(kReadChunk);
    last_read_ = last_write_ = Clock::now();
    deadline_ = Clock::now() + std::chrono::milliseconds(options_.handshake_timeout_ms);
    arm_timer(std::chrono::milliseconds(std::min(options_.handshake_timeout_ms, 1000)));
    read();
  }

  // Called on the strand by Server::stop.
  void close_now() { teardown("server shutting down"); }

  Strand& strand() { return strand_; }

 private:
  void read() {
    if (stopped_ || reading_stopped_) return;
    if (in_.size() - end_ < 4096) {
      // Compact, and grow when a frame does not fit (at most frame_max + overhead).
      if (begin_ > 0) {
        std::memmove(in_.data(), in_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (in_.size() - end_ < 4096) in_.resize(in_.size() * 2);
    }
    socket_.async_read_some(asio::buffer(in_.data() + end_, in_.size() - end_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(boost::system::error_code ec, size_t n) {
    if (stopped_) return;
    if (ec) {
      teardown(ec == asio::error::eof ? "" : ec.message());
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
          delayed_close_ = Clock::now() + std::chrono::milliseconds(options_.silent_close_delay_ms);
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
    asio::async_write(socket_, asio::buffer(writing_buf_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                        self->writing_ = false;
                        if (ec) {
                          self->teardown(ec.message());
                          return;
                        }
                        self->conn_->note_sent(n);
                        self->last_write_ = Clock::now();
                        self->flush();
                      });
  }

  void arm_timer(std::chrono::milliseconds period) {
    timer_.expires_after(period);
    timer_.async_wait([self = shared_from_this(), period](boost::system::error_code ec) {
      if (ec || self->stopped_) return;
      self->on_tick();
      self->arm_timer(self->tick_period(period));
    });
  }

  std::chrono::milliseconds tick_period(std::chrono::milliseconds current) const {
    if (conn_->is_open() && conn_->heartbeat() > 0) {
      return std::chrono::milliseconds(std::max(500, conn_->heartbeat() * 1000 / 2));
    }
    return current;
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
    if (now - last_read_ > std::chrono::seconds(2 * hb)) {
      teardown(fmt::format("missed heartbeats from client, timeout: {}s", hb));
    }
  }

  void teardown(const std::string& why) {
    if (stopped_) return;
    stopped_ = true;
    if (!why.empty()) spdlog::info("closing AMQP connection: {}", why);
    conn_->shutdown();
    out_->close();
    boost::system::error_code ec;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    if (on_done_) on_done_(this);
  }

  Strand strand_;
  tcp::socket socket_;
  const ServerOptions& options_;
  asio::steady_timer timer_;
  broker::BrokerCore& core_;
  ConnectionRegistry& registry_;
  std::function<void(Session*)> on_done_;
  std::shared_ptr<OutputBuffer> out_;
  std::unique_ptr<AmqpConnection> conn_;

  std::vector<char> in_;
  size_t begin_ = 0;
  size_t end_ = 0;
  std::string writing_buf_;
  bool writing_ = false;
  bool stopped_ = false;
  bool reading_stopped_ = false;
  bool close_after_flush_ = false;
  Clock::time_point last_read_;
  Clock::time_point last_write_;
  Clock::time_point deadline_;          // handshake must finish by then
  Clock::time_point delayed_close_;     // silent close at this time
  Clock::time_point closing_deadline_;  // waiting for close-ok until then
};

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(broker::BrokerCore& core, ServerOptions options)
      : core(core), options(options), ioc(core.workers().io_context()) {}

  void accept() {
    acceptor->async_accept(
        asio::make_strand(ioc),
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          if (ec) {
            if (ec == asio::error::operation_aborted) return;
            spdlog::warn("accept failed: {}", ec.message());
            self->accept();
            return;
          }
          self->start_session(std::move(socket));
          self->accept();
        });
  }

  void start_session(tcp::socket socket) {
    std::weak_ptr<Impl> weak = weak_from_this();
    auto session =
        std::make_shared<Session>(std::move(socket), core, options, registry, [weak](Session* s) {
          if (auto self = weak.lock()) self->forget(s);
        });
    {
      std::lock_guard lock(mu);
      if (stopping) return;
      sessions.insert(session);
    }
    asio::post(session->strand(), [session] { session->start(); });
  }

  void forget(Session* s) {
    std::lock_guard lock(mu);
    for (auto it = sessions.begin(); it != sessions.end(); ++it) {
      if (it->get() == s) {
        sessions.erase(it);
        break;
      }
    }
    cv.notify_all();
  }

  broker::BrokerCore& core;
  const ServerOptions options;
  asio::io_context& ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::shared_ptr<Session>> sessions;
  bool stopping = false;
  ConnectionRegistry registry;
};

Server::Server(broker::BrokerCore& core, ServerOptions options)
    : impl_(std::make_shared<Impl>(core, options)) {}

Server::~Server() { stop(); }

ConnectionRegistry& Server::connections() { return impl_->registry; }

Result<uint16_t> Server::listen(const std::string& address, uint16_t port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec) return Status(StatusCode::kInvalidArgument, "invalid bind address '" + address + "'");
  tcp::endpoint endpoint(addr, port);
  auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(impl_->ioc));
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(StatusCode::kIoError,
                  "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  uint16_t bound = acceptor->local_endpoint().port();
  impl_->acceptor = std::move(acceptor);
  impl_->accept();
  return bound;
}

void Server::stop() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
    sessions.assign(impl_->sessions.begin(), impl_->sessions.end());
  }
  if (impl_->acceptor) {
    asio::post(impl_->acceptor->get_executor(), [impl = impl_] {
      boost::system::error_code ec;
      impl->acceptor->close(ec);
    });
  }
  for (auto& s : sessions) asio::post(s->strand(), [s] { s->close_now(); });
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, std::chrono::seconds(5), [&] { return impl_->sessions.empty(); });
}

}  // namespace burrow::server
