# Compiler flags as INTERFACE targets, linked PRIVATE by every burrow target.
add_library(burrow_warnings INTERFACE)
target_compile_options(burrow_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(burrow_warnings INTERFACE -Wshadow=local)
endif()

add_library(burrow_sanitizers INTERFACE)
if(BURROW_SANITIZE)
  list(JOIN BURROW_SANITIZE "," _san)
  target_compile_options(burrow_sanitizers INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(burrow_sanitizers INTERFACE -fsanitize=${_san})
  # Sanitized tests run the whole suite; -O1 keeps them fast enough for CI.
  string(APPEND CMAKE_CXX_FLAGS_DEBUG " -O1")
endif()

# Every burrow target links this one PRIVATE.
add_library(burrow_build_flags INTERFACE)
target_link_libraries(burrow_build_flags INTERFACE burrow_warnings burrow_sanitizers)
