# Linux host collectors (the foundation issue).
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_sources(boxmon_collector PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/cpu.cpp
    ${CMAKE_CURRENT_LIST_DIR}/memory.cpp
    ${CMAKE_CURRENT_LIST_DIR}/pressure.cpp
    ${CMAKE_CURRENT_LIST_DIR}/load.cpp
    ${CMAKE_CURRENT_LIST_DIR}/network.cpp
    ${CMAKE_CURRENT_LIST_DIR}/filesystem.cpp
    ${CMAKE_CURRENT_LIST_DIR}/diskio.cpp
    ${CMAKE_CURRENT_LIST_DIR}/temperature.cpp
    ${CMAKE_CURRENT_LIST_DIR}/uptime.cpp
  )
endif()
# Linux part A: pure parsers of /proc files and temperature sensor discovery.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_sources(boxmon_collector PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/parse_proc.cpp
    ${CMAKE_CURRENT_LIST_DIR}/hwmon.cpp
  )
endif()
# Linux part B: pure parsers of /proc/net/dev, mountinfo and diskstats, and timed statfs.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  target_sources(boxmon_collector PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/parse_net.cpp
    ${CMAKE_CURRENT_LIST_DIR}/mounts.cpp
    ${CMAKE_CURRENT_LIST_DIR}/parse_diskstats.cpp
  )
endif()
