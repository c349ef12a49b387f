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
# libsystemd is optional: without it sd_notify is a no-op (macOS, minimal builds).
pkg_check_modules(SYSTEMD IMPORTED_TARGET libsystemd)

if(BOXMON_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(BOXMON_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
