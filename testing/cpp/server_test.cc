// burrow::testing::ServerTest driven by a real AMQP client (rabbitmq-c), as a project's own
// tests would use it: time-driven dead-lettering, faults a client must survive, recording,
// and a reset between tests.
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <burrow/testing/server.h>

namespace {

using namespace std::chrono_literals;

amqp_bytes_t bytes(const std::string& s) { return amqp_cstring_bytes(s.c_str()); }
std::string text(amqp_bytes_t b) { return std::string(static_cast<const char*>(b.bytes), b.len); }

const amqp_field_value_t* find(const amqp_table_t& table, const char* key) {
  for (int i = 0; i < table.num_entries; ++i) {
    if (text(table.entries[i].key) == key) return &table.entries[i].value;
  }
  return nullptr;
}

// A blocking rabbitmq-c connection with one channel (1), the way an application uses it.
class Client {
 public:
  explicit Client(uint16_t port) : conn_(amqp_new_connection()) {
    amqp_socket_t* socket = amqp_tcp_socket_new(conn_);
    opened_ =
        amqp_socket_open(socket, "127.0.0.1", port) == AMQP_STATUS_OK &&
        amqp_login(conn_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest").reply_type ==
            AMQP_RESPONSE_NORMAL &&
        amqp_channel_open(conn_, 1) != nullptr &&
        amqp_get_rpc_reply(conn_).reply_type == AMQP_RESPONSE_NORMAL;
  }
  ~Client() {
    if (opened_) {
      amqp_channel_close(conn_, 1, AMQP_REPLY_SUCCESS);
      amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(conn_);
  }
  bool opened() const { return opened_; }

  // The reply of the last RPC: 0 when normal, else the server's reply code (channel.close or
  // connection.close), or -1 for a library error (e.g. the socket closed).
  int last_reply() {
    amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) return 0;
    if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION) return -1;
    if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
      // The broker closed the connection: answer close-ok, as an application must, so the
      // broker can let the socket go.
      amqp_connection_close_ok_t ok{};
      amqp_send_method(conn_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
      opened_ = false;
      return static_cast<amqp_connection_close_t*>(r.reply.decoded)->reply_code;
    }
    return static_cast<amqp_channel_close_t*>(r.reply.decoded)->reply_code;
  }

  int declare(const std::string& queue, std::vector<amqp_table_entry_t> args = {},
              bool passive = false) {
    amqp_table_t table{static_cast<int>(args.size()), args.data()};
    amqp_queue_declare(conn_, 1, bytes(queue), passive, false, false, false, table);
    return last_reply();
  }
  int bind(const std::string& queue, const std::string& exchange, const std::string& key) {
    amqp_queue_bind(conn_, 1, bytes(queue), bytes(exchange), bytes(key), amqp_empty_table);
    return last_reply();
  }
  int confirm_select() {
    amqp_confirm_select(conn_, 1);
    return last_reply();
  }
  // Publishes and, on a confirm channel, waits for the confirm: "ack", "nack" or an error.
  std::string publish(const std::string& exchange, const std::string& key, const std::string& body,
                      bool wait_confirm = true) {
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.content_type = amqp_cstring_bytes("text/plain");
    if (amqp_basic_publish(conn_, 1, bytes(exchange), bytes(key), 0, 0, &props, bytes(body)) !=
        AMQP_STATUS_OK) {
      return "publish failed";
    }
    if (!wait_confirm) return "sent";
    amqp_frame_t frame;
    if (amqp_simple_wait_frame(conn_, &frame) != AMQP_STATUS_OK) return "connection lost";
    if (frame.frame_type != AMQP_FRAME_METHOD) return "unexpected frame";
    if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) return "ack";
    if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) return "nack";
    return "unexpected method";
  }

  struct Got {
    std::string body;
    bool redelivered = false;
    uint64_t delivery_tag = 0;
    amqp_message_t message{};  // owned; released by the destructor of Client's caller
  };
  // basic.get; nullopt when the queue is empty or the call failed (see last_reply).
  std::optional<Got> get(const std::string& queue, bool no_ack = true) {
    amqp_rpc_reply_t r = amqp_basic_get(conn_, 1, bytes(queue), no_ack);
    if (r.reply_type != AMQP_RESPONSE_NORMAL || r.reply.id != AMQP_BASIC_GET_OK_METHOD) {
      return std::nullopt;
    }
    auto* ok = static_cast<amqp_basic_get_ok_t*>(r.reply.decoded);
    Got got;
    got.redelivered = ok->redelivered;
    got.delivery_tag = ok->delivery_tag;
    if (amqp_read_message(conn_, 1, &got.message, 0).reply_type != AMQP_RESPONSE_NORMAL) {
      return std::nullopt;
    }
    got.body = text(got.message.body);
    return got;
  }
  int ack(uint64_t tag) { return amqp_basic_ack(conn_, 1, tag, 0); }

 private:
  amqp_connection_state_t conn_;
  bool opened_ = false;
};

amqp_table_entry_t int_arg(const char* key, int32_t value) {
  amqp_table_entry_t e{};
  e.key = amqp_cstring_bytes(key);
  e.value.kind = AMQP_FIELD_KIND_I32;
  e.value.value.i32 = value;
  return e;
}

amqp_table_entry_t string_arg(const char* key, const char* value) {
  amqp_table_entry_t e{};
  e.key = amqp_cstring_bytes(key);
  e.value.kind = AMQP_FIELD_KIND_UTF8;
  e.value.value.bytes = amqp_cstring_bytes(value);
  return e;
}

class TestingServerTest : public burrow::testing::ServerTest {
 protected:
  static void SetUpTestSuite() { start_suite_server({.record = true}); }
};

// The proof: a 60 s TTL dead-letters after advancing the clock 61 s, with RabbitMQ's
// x-death, in well under a second of real time.
TEST_F(TestingServerTest, TtlDeadLettersWhenTheClockAdvances) {
  const auto started = std::chrono::steady_clock::now();
  Client c(server().port());
  ASSERT_TRUE(c.opened());
  ASSERT_EQ(c.declare("dlq"), 0);
  ASSERT_EQ(c.bind("dlq", "amq.fanout", ""), 0);
  ASSERT_EQ(c.declare("work", {int_arg("x-message-ttl", 60000),
                               string_arg("x-dead-letter-exchange", "amq.fanout")}),
            0);
  ASSERT_EQ(c.confirm_select(), 0);
  ASSERT_EQ(c.publish("", "work", "order-17"), "ack");
  const burrow::TimeMs published_at = server().now();

  server().advance(59s);
  EXPECT_FALSE(c.get("dlq").has_value()) << "dead-lettered before its TTL";
  server().advance(2s);

  auto got = c.get("dlq");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, "order-17");
  const amqp_basic_properties_t& p = got->message.properties;
  ASSERT_TRUE(p._flags & AMQP_BASIC_HEADERS_FLAG);
  const amqp_field_value_t* x_death = find(p.headers, "x-death");
  ASSERT_NE(x_death, nullptr);
  ASSERT_EQ(x_death->kind, AMQP_FIELD_KIND_ARRAY);
  ASSERT_EQ(x_death->value.array.num_entries, 1);
  const amqp_table_t& death = x_death->value.array.entries[0].value.table;
  EXPECT_EQ(find(death, "count")->value.i64, 1);
  EXPECT_EQ(text(find(death, "reason")->value.bytes), "expired");
  EXPECT_EQ(text(find(death, "queue")->value.bytes), "work");
  EXPECT_EQ(text(find(death, "exchange")->value.bytes), "");
  const amqp_array_t& keys = find(death, "routing-keys")->value.array;
  ASSERT_EQ(keys.num_entries, 1);
  EXPECT_EQ(text(keys.entries[0].value.bytes), "work");
  // The TTL fell due 60 s after the publish, on the broker's clock (seconds in AMQP).
  EXPECT_EQ(find(death, "time")->value.u64, static_cast<uint64_t>((published_at + 60000) / 1000));
  amqp_destroy_message(&got->message);
  const auto real_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  std::printf("60 s of TTL took %lld ms of real time\n", static_cast<long long>(real_ms));
}

// A test that injects a connection drop sees its client reconnect and carry on.
TEST_F(TestingServerTest, ClientReconnectsAfterAnInjectedConnectionDrop) {
  auto c = std::make_unique<Client>(server().port());
  ASSERT_TRUE(c->opened());
  ASSERT_EQ(c->declare("jobs"), 0);
  EXPECT_EQ(server().close_connections(), 1u);
  // The next call on the old connection sees connection.close 320 CONNECTION_FORCED.
  EXPECT_EQ(c->declare("jobs", {}, true), 320);

  // Reconnecting while the broker refuses connections fails, then succeeds.
  server().refuse_connections(300ms);
  EXPECT_FALSE(Client(server().port()).opened());
  int attempts = 1;
  std::unique_ptr<Client> again;
  for (; attempts < 50; ++attempts) {
    again = std::make_unique<Client>(server().port());
    if (again->opened()) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(again->opened());
  EXPECT_GT(attempts, 1);
  ASSERT_EQ(again->confirm_select(), 0);
  EXPECT_EQ(again->publish("", "jobs", "after the drop"), "ack");
  auto got = again->get("jobs");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, "after the drop");
  amqp_destroy_message(&got->message);
}

TEST_F(TestingServerTest, InjectedNacksAndDroppedAcks) {
  Client c(server().port());
  ASSERT_TRUE(c.opened());
  ASSERT_EQ(c.declare("q"), 0);
  ASSERT_EQ(c.confirm_select(), 0);
  server().nack_publishes(1);
  EXPECT_EQ(c.publish("", "q", "first"), "nack");
  EXPECT_EQ(c.publish("", "q", "second"), "ack");

  server().drop_acks(1);
  auto got = c.get("q", /*no_ack=*/false);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, "second") << "a nacked publish was not routed";
  EXPECT_FALSE(got->redelivered);
  ASSERT_EQ(c.ack(got->delivery_tag), 0);
  amqp_destroy_message(&got->message);
  // The ack was "lost": the message is back, redelivered.
  auto again = c.get("q", /*no_ack=*/false);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->body, "second");
  EXPECT_TRUE(again->redelivered);
  ASSERT_EQ(c.ack(again->delivery_tag), 0);
  amqp_destroy_message(&again->message);
  EXPECT_FALSE(c.get("q").has_value());
}

TEST_F(TestingServerTest, DelayedConfirmsArriveLate) {
  Client c(server().port());
  ASSERT_TRUE(c.opened());
  ASSERT_EQ(c.declare("q"), 0);
  ASSERT_EQ(c.confirm_select(), 0);
  server().delay_confirms(200ms);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(c.publish("", "q", "slow"), "ack");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
}

TEST_F(TestingServerTest, RecordsWhatWasPublished) {
  Client c(server().port());
  ASSERT_TRUE(c.opened());
  ASSERT_EQ(c.declare("audit"), 0);
  ASSERT_EQ(c.bind("audit", "amq.topic", "orders.*"), 0);
  ASSERT_EQ(c.confirm_select(), 0);
  ASSERT_EQ(c.publish("amq.topic", "orders.created", "{\"id\":1}"), "ack");
  ASSERT_EQ(c.publish("amq.topic", "users.created", "nobody listens"), "ack");
  auto published = server().published();
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0].exchange, "amq.topic");
  EXPECT_EQ(published[0].routing_key, "orders.created");
  EXPECT_EQ(published[0].body, "{\"id\":1}");
  EXPECT_EQ(published[0].properties.content_type, "text/plain");
  EXPECT_EQ(published[0].queues, std::vector<std::string>{"audit"});
  EXPECT_TRUE(published[1].queues.empty());
}

// Reset isolates tests: the queue the previous test declared is gone.
TEST_F(TestingServerTest, ResetLeavesNothingBehind) {
  Client c(server().port());
  ASSERT_TRUE(c.opened());
  EXPECT_EQ(c.declare("audit", {}, /*passive=*/true), 404);
  EXPECT_TRUE(server().published().empty());
}

// The in-process API and AMQP clients share one broker and one clock.
TEST_F(TestingServerTest, InProcessApiSeesTheSameBroker) {
  auto ch = server().broker().open_channel();
  ASSERT_TRUE(ch.ok());
  ASSERT_TRUE((*ch)->declare_queue("shared").ok());
  ASSERT_TRUE((*ch)->publish("", "shared", "from in-process").ok());
  Client c(server().port());
  ASSERT_TRUE(c.opened());
  auto got = c.get("shared");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body, "from in-process");
  amqp_destroy_message(&got->message);
}

// A suite of 100 small tests with a reset before each (the timing is in docs/testing.md:
// gtest's "(N ms total)" line).
class HundredTests : public burrow::testing::ServerTest,
                     public ::testing::WithParamInterface<int> {};

TEST_P(HundredTests, DeclarePublishConsume) {
  Client c(server().port());
  ASSERT_TRUE(c.opened());
  const std::string queue = "q" + std::to_string(GetParam());
  ASSERT_EQ(c.declare(queue), 0);
  ASSERT_EQ(c.confirm_select(), 0);
  ASSERT_EQ(c.publish("", queue, "m"), "ack");
  auto got = c.get(queue);
  ASSERT_TRUE(got.has_value());
  amqp_destroy_message(&got->message);
  // The previous test's queue is gone.
  if (GetParam() > 0) {
    EXPECT_EQ(c.declare("q" + std::to_string(GetParam() - 1), {}, true), 404);
  }
}

INSTANTIATE_TEST_SUITE_P(Reset, HundredTests, ::testing::Range(0, 100));

}  // namespace
