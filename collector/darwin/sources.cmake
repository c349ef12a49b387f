# macOS (the GPU issue, Apple Silicon): the GPU through IOKit, and for each collector only Linux
# has so far a stub that says "not supported on this platform". Selected by collector/CMakeLists.txt
# when APPLE; never built yet, for want of a macOS machine (docs/ARCHITECTURE.md, "macOS").
target_sources(boxmon_collector PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/gpu_apple.cpp
  ${CMAKE_CURRENT_LIST_DIR}/host_stubs.cpp
)
target_link_libraries(boxmon_collector PRIVATE "-framework IOKit" "-framework CoreFoundation")
