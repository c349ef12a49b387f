# The rule engine, its persisted state and the backtest.
boxmon_add_tests(rules_tests
  SOURCES engine_table_test.cpp engine_test.cpp state_test.cpp backtest_test.cpp refresh_test.cpp
  LIBS boxmon_rules)
