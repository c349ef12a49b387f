# report/: rendering (golden files in tests/fixtures/report/), gatherers on real parts, report
# files, host facts.
boxmon_add_tests(report_tests
  SOURCES
    crypto_library_test.cpp
    gather_test.cpp
    host_test.cpp
    output_test.cpp
    render_test.cpp
  LIBS boxmon_report OpenSSL::Crypto)

# `boxmon report` / `sysinfo` through their CLI wiring, in process.
boxmon_add_tests(report_cli_tests
  SOURCES cli_report_test.cpp
  LIBS boxmon_cli boxmon_report)
