boxmon_add_tests(cli_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/config_cli_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/daemon_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/history_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/sample_fixture_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/terminal_test.cpp
  LIBS boxmon_core nlohmann_json::nlohmann_json PkgConfig::SQLITE3
  LABELS e2e
  NEEDS_BINARY)
# What the executable was linked with decides which C++ runtime a sample maps.
if(BOXMON_STATIC_CXX_RUNTIME)
  target_compile_definitions(cli_tests PRIVATE BOXMON_TEST_STATIC_CXX_RUNTIME=1)
endif()
