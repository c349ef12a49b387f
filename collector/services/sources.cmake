# Service collectors (the services issue): process discovery, health checks, the collector.
target_sources(boxmon_collector PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/processes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/checks.cpp
  ${CMAKE_CURRENT_LIST_DIR}/services.cpp)
