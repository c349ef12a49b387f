# Benchmarks of store/: tick append (fsync on and off), range queries over generated history
# (30 days raw at 60 s, 1 year through hourly rollups) and the database size after 30 days.
boxmon_add_bench(store_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/store_bench.cpp
                             ${CMAKE_CURRENT_LIST_DIR}/store_history.cpp
                 LIBS boxmon_store PkgConfig::SQLITE3)
target_include_directories(store_bench PRIVATE ${PROJECT_SOURCE_DIR})

# The history generator on its own: store_history_gen DB [days] writes `days` (default 30) of
# 60 s ticks for the default series set, through the real write path.
add_executable(store_history_gen ${CMAKE_CURRENT_LIST_DIR}/store_history.cpp
                                 ${CMAKE_CURRENT_LIST_DIR}/store_history_main.cpp)
target_link_libraries(store_history_gen PRIVATE boxmon_store PkgConfig::SQLITE3)
target_include_directories(store_history_gen PRIVATE ${PROJECT_SOURCE_DIR})

# RELIABILITY L6: store_retention_1s DB [days] [retention_days] writes days of 1 s ticks with a
# short raw retention and prints the file size, free pages, raw values held and the cost per
# tick every 6 simulated hours.
add_executable(store_retention_1s ${CMAKE_CURRENT_LIST_DIR}/store_history.cpp
                                  ${CMAKE_CURRENT_LIST_DIR}/store_retention_1s.cpp)
target_link_libraries(store_retention_1s PRIVATE boxmon_store PkgConfig::SQLITE3)
target_include_directories(store_retention_1s PRIVATE ${PROJECT_SOURCE_DIR})
