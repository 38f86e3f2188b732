// The smallest embedded Burrow program: open an in-memory broker, declare a queue, consume
// with a callback, publish a few messages and acknowledge them.
#include <burrow/broker.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

int main() {
  auto broker = burrow::Broker::open(burrow::Options{.in_memory = true});
  if (!broker.ok()) {
    std::fprintf(stderr, "open: %s\n", broker.status().to_string().c_str());
    return 1;
  }
  auto channel = (*broker)->open_channel();
  if (!channel.ok()) return 1;
  burrow::Channel& ch = **channel;

  if (auto q = ch.declare_queue("greetings"); !q.ok()) {
    std::fprintf(stderr, "declare: %s\n", q.status().to_string().c_str());
    return 1;
  }

  std::atomic<int> received{0};
  auto tag = ch.consume("greetings", [&](const burrow::Delivery& d) {
    std::printf("received: %s\n", d.message->body.c_str());
    ch.ack(d.delivery_tag).ignore_error();
    received.fetch_add(1);
  });
  if (!tag.ok()) return 1;

  for (int i = 0; i < 3; ++i) {
    if (auto s = ch.publish("", "greetings", "hello #" + std::to_string(i)); !s.ok()) {
      std::fprintf(stderr, "publish: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  for (int i = 0; i < 200 && received.load() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ch.close();
  return received.load() == 3 ? 0 : 1;
}
