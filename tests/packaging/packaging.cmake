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

# The .deb, built by CPack and checked; then installed and purged where that is allowed (root,
# BOXMON_TEST_DPKG_INSTALL=1). The release configuration builds the package; a sanitizer build
# is not one to ship, so it does not.
if(NOT BOXMON_SANITIZE)
  add_test(NAME packaging.deb_contents
    COMMAND ${BOXMON_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_deb.py contents ${CMAKE_CPACK_COMMAND}
            ${PROJECT_BINARY_DIR}/CPackConfig.cmake ${PROJECT_BINARY_DIR}/deb ${PROJECT_VERSION}
            ${PROJECT_SOURCE_DIR})
  add_test(NAME packaging.deb_install
    COMMAND ${BOXMON_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/check_deb.py install ${PROJECT_BINARY_DIR}/deb)
  set_tests_properties(packaging.deb_contents packaging.deb_install
                       PROPERTIES LABELS packaging SKIP_RETURN_CODE 77 TIMEOUT 300 RESOURCE_LOCK boxmon_deb)
  set_tests_properties(packaging.deb_install PROPERTIES DEPENDS packaging.deb_contents)
endif()
