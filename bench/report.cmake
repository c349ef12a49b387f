# report/: rendering a report over 30 days of 60 s data (certificate and command sections aside).
boxmon_add_bench(report_bench SOURCES report_bench.cpp LIBS boxmon_report)
target_include_directories(report_bench PRIVATE ${PROJECT_SOURCE_DIR})
