# `boxmon run` with the /metrics endpoint and the heartbeat, as a real process: curl, promtool,
# a real Prometheus server and an HTTP receiver on 127.0.0.1.
boxmon_add_tests(cli_endpoint_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/endpoint_test.cpp
  LIBS boxmon_core nlohmann_json::nlohmann_json PkgConfig::HTTPLIB
  LABELS e2e
  NEEDS_BINARY)
