// Boost.Asio's TLS layer (OpenSSL), for the .cc files that need it; everything else includes
// only server/asio.h. server/asio.h comes first for its <utility> fix.
#pragma once

#include "server/asio.h"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
