boxmon_add_bench(rules_bench SOURCES rules_bench.cpp LIBS boxmon_rules)
