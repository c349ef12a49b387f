# Service collectors (the services issue).
target_sources(boxmon_collector PRIVATE ${CMAKE_CURRENT_LIST_DIR}/services.cpp)
