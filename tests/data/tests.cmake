# Data tests: the remote-shard test runs a cpp-httplib server in-process.
# Debian's libcpp-httplib-dev is a compiled library (pkg-config cpp-httplib), not header-only.
find_package(PkgConfig REQUIRED)
pkg_check_modules(WEFT_TEST_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
target_link_libraries(weft_tests PRIVATE PkgConfig::WEFT_TEST_HTTPLIB)
