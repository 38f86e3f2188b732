# Third-party packages, all from Debian 12 (scripts/install-deps.sh installs them).
#
# BURROW_STATIC_DEPS (on in the release preset) links the archives Debian's -dev packages ship
# (OpenSSL, protobuf, Boost.program_options) instead of their shared objects: burrowd then
# spends ~8 ms less in the dynamic loader relocating them, which is most of the difference
# between a 24 ms and a 17 ms start (docs/benchmarks.md, "Startup"). RocksDB is static already.
option(BURROW_STATIC_DEPS "Link OpenSSL, protobuf and Boost statically (faster start)" OFF)
if(BURROW_STATIC_DEPS)
  set(OPENSSL_USE_STATIC_LIBS TRUE)
  set(Protobuf_USE_STATIC_LIBS ON)
  set(Boost_USE_STATIC_LIBS ON)
endif()
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(RocksDB CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(OpenSSL REQUIRED)
if(BURROW_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(BURROW_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
find_program(BURROW_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
