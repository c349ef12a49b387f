# Render cost per notification per channel (alerting/channels).
boxmon_add_bench(channels_bench
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/channels_bench.cpp
  LIBS boxmon_alerting nlohmann_json::nlohmann_json)
target_include_directories(channels_bench PRIVATE ${PROJECT_SOURCE_DIR})
