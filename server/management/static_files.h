// The dashboard's files (server/management/www/), compiled into burrowd by
// cmake/embed_file.cmake so the binary serves them with nothing installed beside it.
#pragma once

#include <string_view>

namespace burrow::server::management {

struct StaticFile {
  std::string_view body;
  std::string_view content_type;
};

// The file served at `path` ("/", "/index.html", "/dashboard.js", "/dashboard.css"), or null
// for any other path. The bytes live for the whole program.
const StaticFile* find_static_file(std::string_view path);

}  // namespace burrow::server::management
