// How a broker's connection.close or channel.close becomes a Status: the reply code picks the
// StatusCode (they share numbers), the reply text becomes the message.
#pragma once

#include <cstdint>
#include <string_view>

#include <burrow/status.h>

namespace burrow::client::amqp {

// The Status for a close the broker sent. The message is the reply text without the code-name
// prefix RabbitMQ puts in front ("NOT_FOUND - no queue 'q' in vhost '/'" becomes kNotFound
// "no queue 'q' in vhost '/'"), the convention of include/burrow/status.h, so to_string() prints
// "NOT_FOUND: no queue ...". A code Burrow has no StatusCode for becomes kInternalError with the
// code and the whole text in the message. Reply code 200 (a normal close) gives kClosed.
Status status_from_reply(uint16_t reply_code, std::string_view reply_text);

}  // namespace burrow::client::amqp
