# The /metrics endpoint and the heartbeat, in-process against real sockets and a real HTTP
# receiver on 127.0.0.1.
boxmon_add_tests(agent_endpoint_tests
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/http_endpoint_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/heartbeat_test.cpp
  LIBS boxmon_agent boxmon_http_endpoint PkgConfig::HTTPLIB)
