// What the process uses of the machine, for the alarms, /api/nodes and /metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace burrow::server {

// Resident memory of this process (/proc/self/statm), in bytes.
uint64_t resident_memory_bytes();
// Bytes available to this user on the file system holding `path`; nullopt if it cannot be read.
std::optional<uint64_t> disk_free_bytes(const std::string& path);

}  // namespace burrow::server
