# Whole-system scenarios: the real boxmon binary against real processes and receivers on
# loopback, as the issues' "done when" describe them.
boxmon_add_tests(scenario_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/service_scenario_test.cpp ${CMAKE_CURRENT_LIST_DIR}/crash_test.cpp
  LIBS boxmon_core PkgConfig::HTTPLIB nlohmann_json::nlohmann_json
  LABELS e2e
  NEEDS_BINARY)
