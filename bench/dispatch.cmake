# Log tails: the tail of a 1 GB log file (issue 5 item 8: at most 5 ms).
boxmon_add_bench(logtail_bench SOURCES logtail_bench.cpp LIBS boxmon_core)
