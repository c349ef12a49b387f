# Linux part B: the net/dev, mountinfo and diskstats parsers on large input, and one pass of the
# network, filesystem and diskio collectors (fixture tree and live host).
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  boxmon_add_bench(linux_b_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/linux_b_bench.cpp LIBS boxmon_collector)
endif()
