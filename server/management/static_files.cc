// The path → embedded file table behind find_static_file. The constants are generated from
// server/management/www/ at build time (server/CMakeLists.txt, burrow_embed_file).
#include "server/management/static_files.h"

namespace burrow::server::management {

namespace www {
extern const std::string_view kIndexHtml;
extern const std::string_view kDashboardJs;
extern const std::string_view kDashboardCss;
}  // namespace www

namespace {

struct Route {
  std::string_view path;
  StaticFile file;
};

}  // namespace

const StaticFile* find_static_file(std::string_view path) {
  // Function-local, so it never depends on the order translation units initialize in.
  static const Route kRoutes[] = {
      {"/", {www::kIndexHtml, "text/html; charset=utf-8"}},
      {"/index.html", {www::kIndexHtml, "text/html; charset=utf-8"}},
      {"/dashboard.js", {www::kDashboardJs, "text/javascript; charset=utf-8"}},
      {"/dashboard.css", {www::kDashboardCss, "text/css; charset=utf-8"}},
  };
  for (const Route& route : kRoutes) {
    if (route.path == path) return &route.file;
  }
  return nullptr;
}

}  // namespace burrow::server::management
