# The dispatch area: subprocess, log tails, the notification payload, the Preparer and the
# Dispatcher.
boxmon_add_tests(subprocess_tests
  SOURCES subprocess_test.cpp
  LIBS boxmon_core)
boxmon_add_tests(logtail_tests
  SOURCES logtail_test.cpp
  LIBS boxmon_core)
boxmon_add_tests(alerting_dispatch_tests
  SOURCES notification_json_test.cpp preparer_test.cpp dispatcher_test.cpp refresh_test.cpp
  LIBS boxmon_alerting boxmon_store PkgConfig::HTTPLIB)
