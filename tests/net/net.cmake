# net/: the libcurl wrapper against real receivers on loopback (cpp-httplib, aiosmtpd).
boxmon_add_tests(net_tests
  SOURCES http_test.cpp smtp_test.cpp curl_library_test.cpp
  LIBS boxmon_net PkgConfig::HTTPLIB)
