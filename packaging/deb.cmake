# The Debian package (CPack's DEB generator): `cmake --build BUILD --target package`, or
# `cpack -G DEB --config BUILD/CPackConfig.cmake`. It holds what the install rules above install
# under /usr (the binary, the units, sysusers.d and tmpfiles.d entries, man pages, completions)
# plus /etc/boxmon/boxmon.toml, the commented built-in defaults, as a conffile (0640; the postinst
# gives it to group boxmon). The maintainer scripts in packaging/debian/ create the user and the
# state directory and enable the daemon; tests/packaging/check_deb.py checks the result.

# The configuration file goes to /etc only through the package: a plain `cmake --install` must
# never overwrite an administrator's /etc/boxmon/boxmon.toml, so it is its own component, left
# out of the default installation.
install(FILES boxmon.toml DESTINATION /etc/boxmon
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        COMPONENT conffiles EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME boxmon)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "single-host monitoring and alerting agent")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
    "boxmon watches one self-hosted server (CPU, GPU, memory, disks, network, temperatures and\n"
    "the configured services), keeps the history in SQLite, and alerts by email and webhooks\n"
    "with the recent values and the tails of the relevant logs when a threshold holds for\n"
    "several samples. It runs as a hardened systemd service or from a timer, and serves\n"
    "Prometheus metrics on loopback when configured.")
set(CPACK_PACKAGE_CONTACT "boxmon maintainers <boxmon@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Absolute destinations (/etc) land in the package through DESTDIR, never on this machine.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Everything of the default installation, then the conffile component.
set(CPACK_INSTALL_CMAKE_PROJECTS
    "${CMAKE_BINARY_DIR};boxmon;ALL;/"
    "${CMAKE_BINARY_DIR};boxmon;conffiles;/")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from dpkg-shlibdeps (package dpkg-dev), plus what it cannot see: libcurl,
# libcrypto and libsystemd are loaded with dlopen when first needed (docs/ARCHITECTURE.md),
# libcurl for every alert channel and check, libcrypto (libssl3) for the report's certificates,
# libsystemd only under systemd. And what the maintainer scripts use.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser | systemd, libcurl4 (>= 7.74.0), libssl3")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates, systemd, libsystemd0")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/conffiles
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
