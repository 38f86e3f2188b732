// Server-generated names, in RabbitMQ's formats: "amq.gen-<22 chars>" for queues and
// "amq.ctag-<22 chars>" for consumer tags (base64url of 128 random bits).
#pragma once

#include <string>
#include <string_view>

namespace burrow::broker {

// Thread-safe.
std::string generate_name(std::string_view prefix);

}  // namespace burrow::broker
