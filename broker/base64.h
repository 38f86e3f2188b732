// Base64 through OpenSSL's EVP block codec: RabbitMQ's password hashes, and the management
// API's basic auth and binary payloads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace burrow::broker {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace burrow::broker
