# Linux collectors, part A: parsers, temperature discovery, the cpu/memory/pressure/load/uptime/
# temperature collectors on fixture trees, and a live comparison with an independent reading.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  boxmon_add_tests(collector_linux_a_test
    SOURCES linux_a_parse_test.cpp linux_a_collectors_test.cpp
    LIBS boxmon_collector)
  boxmon_add_tests(collector_linux_a_live_test
    SOURCES linux_a_live_test.cpp
    LIBS boxmon_collector
    LABELS live)
endif()
