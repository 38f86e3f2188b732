// The one place the server includes Boost.Asio. <utility> must come first: Boost 1.74's
// awaitable.hpp does not compile under g++ 12 in C++20 without it.
#pragma once

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
