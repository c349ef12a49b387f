# Tests of store/: the ring, the SQLite store on real files, and its faults (tmpfs disk full,
# read-only mounts, kill -9 in a child process, permission drift).
add_executable(store_test_helper ${CMAKE_CURRENT_LIST_DIR}/store_helper.cpp)
target_link_libraries(store_test_helper PRIVATE boxmon_store boxmon_build_flags)
target_include_directories(store_test_helper PRIVATE ${PROJECT_SOURCE_DIR})

boxmon_add_tests(store_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ring_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/raw_format_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/store_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/store_raw_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/schema_doc_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/salvage_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/store_fault_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/store_crash_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/store_two_writers_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/crash_vfs.cpp
  LIBS boxmon_store PkgConfig::SQLITE3)
add_dependencies(store_tests store_test_helper)
target_compile_definitions(store_tests PRIVATE
  BOXMON_STORE_HELPER="$<TARGET_FILE:store_test_helper>")
