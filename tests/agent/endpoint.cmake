# The /metrics endpoint in-process against real sockets on 127.0.0.1.
boxmon_add_tests(agent_endpoint_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/http_endpoint_test.cpp
  LIBS boxmon_agent PkgConfig::HTTPLIB)
