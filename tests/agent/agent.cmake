boxmon_add_tests(agent_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/exposition_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/lock_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/pipeline_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/store/crash_vfs.cpp
    ${CMAKE_CURRENT_LIST_DIR}/scheduler_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/service_status_test.cpp
  LIBS boxmon_agent PkgConfig::SQLITE3 PkgConfig::HTTPLIB)
