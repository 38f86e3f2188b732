// RETURN_IF_ERROR / ASSIGN_OR_RETURN: propagate a failed Status or Result<T> to the caller.
#pragma once

#include <burrow/status.h>

#define BURROW_CONCAT_INNER(a, b) a##b
#define BURROW_CONCAT(a, b) BURROW_CONCAT_INNER(a, b)

// Evaluates `expr` (a Status) and returns it from the enclosing function if it is an error.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::burrow::Status _burrow_status = (expr);        \
    if (!_burrow_status.ok()) return _burrow_status; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, f());` declares x from a Result<T>, or returns its error status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  BURROW_ASSIGN_OR_RETURN_IMPL(BURROW_CONCAT(_burrow_result_, __LINE__), lhs, expr)
#define BURROW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
