# GPU collectors (the GPU issue). NVML is loaded at run time with dlopen, so nothing of NVIDIA's
# is needed to build; dlopen itself is in libc on glibc >= 2.34, CMAKE_DL_LIBS covers older ones.
# apple_stats.cpp, the Apple collector's pure part, builds everywhere so its tests run on Linux;
# the IOKit part is collector/darwin/gpu_apple.cpp, and elsewhere apple_stub.cpp stands in.
target_sources(boxmon_collector PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/nvidia.cpp
  ${CMAKE_CURRENT_LIST_DIR}/nvml_library.cpp
  ${CMAKE_CURRENT_LIST_DIR}/amd.cpp
  ${CMAKE_CURRENT_LIST_DIR}/apple_stats.cpp
)
if(NOT APPLE)
  target_sources(boxmon_collector PRIVATE ${CMAKE_CURRENT_LIST_DIR}/apple_stub.cpp)
endif()
target_link_libraries(boxmon_collector PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
