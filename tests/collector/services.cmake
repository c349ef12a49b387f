# Services collector: process discovery on fixture /proc trees, health checks against real
# loopback servers and processes, and the whole collector over live processes.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  boxmon_add_tests(collector_services_test
    SOURCES services_processes_test.cpp services_checks_test.cpp services_collector_test.cpp
    LIBS boxmon_collector)
endif()
