# Linux part B: network, filesystem and diskio collectors and their parsers; every collector on
# the fixtures captured in QEMU guests, against the guests' own tools.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  boxmon_add_tests(linux_b_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/linux_b_parsers_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/linux_b_collectors_test.cpp
            ${CMAKE_CURRENT_LIST_DIR}/linux_guest_profiles_test.cpp
    LIBS boxmon_collector)
  boxmon_add_tests(linux_b_live_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/linux_b_live_test.cpp
    LIBS boxmon_collector
    LABELS live)
endif()
