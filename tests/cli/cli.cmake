boxmon_add_tests(cli_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/daemon_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/history_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sample_fixture_test.cpp
  LIBS boxmon_core nlohmann_json::nlohmann_json
  LABELS e2e
  NEEDS_BINARY)
