# Every dependency comes from the system's packages (Debian 12: scripts/install-deps.sh).
# Nothing is vendored and nothing is fetched at build time.

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(date REQUIRED)
find_package(OpenSSL REQUIRED)

pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3>=3.35)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl>=7.74)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus>=3.0)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)
# httplib.h (built with CPPHTTPLIB_OPENSSL_SUPPORT) calls OpenSSL from its inline code, and a
# test receiver sets its SSL_CTX directly; Debian's cpp-httplib.pc does not say so.
set_property(TARGET PkgConfig::HTTPLIB APPEND PROPERTY INTERFACE_LINK_LIBRARIES OpenSSL::SSL)
# libsystemd is optional: without it sd_notify is a no-op (macOS, minimal builds).
pkg_check_modules(SYSTEMD IMPORTED_TARGET libsystemd)

# fmt and spdlog in their compiled-library mode, their implementation built once into
# boxmon_core (core/fmt_spdlog_build.cpp), and toml++ header-only (its default; three files
# include it): no boxmon process maps any of them as a shared library, and with no shared C++
# library left the executable can carry the C++ runtime itself (BOXMON_STATIC_CXX_RUNTIME).
# docs/ARCHITECTURE.md, "What a one-shot sample's process costs".
get_target_property(BOXMON_FMT_INCLUDES fmt::fmt-header-only INTERFACE_INCLUDE_DIRECTORIES)
add_library(boxmon::fmt INTERFACE IMPORTED)
target_include_directories(boxmon::fmt INTERFACE ${BOXMON_FMT_INCLUDES})
get_target_property(BOXMON_SPDLOG_INCLUDES spdlog::spdlog_header_only INTERFACE_INCLUDE_DIRECTORIES)
add_library(boxmon::spdlog INTERFACE IMPORTED)
target_include_directories(boxmon::spdlog INTERFACE ${BOXMON_SPDLOG_INCLUDES})
target_compile_definitions(boxmon::spdlog INTERFACE SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL)
target_link_libraries(boxmon::spdlog INTERFACE boxmon::fmt Threads::Threads)
add_library(boxmon::tomlplusplus INTERFACE IMPORTED)
target_include_directories(boxmon::tomlplusplus INTERFACE ${TOMLPP_INCLUDE_DIRS})
target_compile_definitions(boxmon::tomlplusplus INTERFACE TOML_HEADER_ONLY=1)

if(BOXMON_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(BOXMON_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
