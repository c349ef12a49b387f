# Service collectors (the services issue): process discovery, health checks, the collector.
# Not on macOS: processes are found in /proc and sockets opened with Linux-only flags
# (SOCK_NONBLOCK, SOCK_CLOEXEC); collector/darwin/host_stubs.cpp says "not supported" there.
if(NOT APPLE)
  target_sources(boxmon_collector PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/processes.cpp
    ${CMAKE_CURRENT_LIST_DIR}/checks.cpp
    ${CMAKE_CURRENT_LIST_DIR}/services.cpp)
endif()
