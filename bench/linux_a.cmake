# Linux collectors, part A: parsers, sensor discovery, and a full live collection pass.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  boxmon_add_bench(linux_a_bench SOURCES linux_a_bench.cpp LIBS boxmon_collector)
endif()
