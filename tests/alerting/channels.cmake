# alerting/channels: rendering, the HTTP conformance suite, smtp (aiosmtpd), sendmail (a fake MTA)
# and a real Prometheus Alertmanager, all on loopback.
boxmon_add_tests(alerting_channel_tests
  SOURCES channel_render_test.cpp channel_conformance_test.cpp channel_email_test.cpp
          channel_sendmail_test.cpp channel_alertmanager_test.cpp
  LIBS boxmon_alerting PkgConfig::HTTPLIB nlohmann_json::nlohmann_json)
