# Services collector: per-tick cost with 20 services and 20 checks against a loopback server.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  boxmon_add_bench(services_bench SOURCES services_bench.cpp LIBS boxmon_collector)
endif()
