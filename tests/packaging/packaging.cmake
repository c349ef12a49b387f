# Packaging checks that need the built tree (included from tests/CMakeLists.txt). Exit code 77
# is a skip, with the reason printed.

# The shipped /etc/boxmon/boxmon.toml is the built-in defaults, commented out.
add_test(NAME packaging.default_config_is_the_defaults_commented
  COMMAND ${BOXMON_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_default_config.py $<TARGET_FILE:boxmon>
          ${PROJECT_SOURCE_DIR})
# systemd-analyze verify and security --offline=true (exposure <= 2.0) on the units as written.
add_test(NAME packaging.systemd_units_verify_and_stay_hardened
  COMMAND ${BOXMON_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_units.py ${PROJECT_SOURCE_DIR}/packaging/systemd
          $<TARGET_FILE:boxmon> ${PROJECT_BINARY_DIR}/packaging ${PROJECT_SOURCE_DIR}/packaging/man)
set_tests_properties(packaging.default_config_is_the_defaults_commented
                     packaging.systemd_units_verify_and_stay_hardened
                     PROPERTIES LABELS lint SKIP_RETURN_CODE 77)

