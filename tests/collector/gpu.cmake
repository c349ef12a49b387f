# tests of collector/gpu/: the NVIDIA collector against a fake libnvidia-ml loaded through the
# real dlopen, the AMD collector against fixture trees (tests/fixtures/gpu/amd-*), and the pure
# part of the Apple collector (its IOKit part builds only on macOS).

# The fake NVML: a shared library named like the real one, built from the same declarations.
add_library(boxmon_fake_nvml SHARED ${CMAKE_CURRENT_LIST_DIR}/fake_nvml/fake_nvml.cpp)
target_include_directories(boxmon_fake_nvml PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(boxmon_fake_nvml PRIVATE boxmon_build_flags Threads::Threads)
# Without this g++ marks the library "unique" (STB_GNU_UNIQUE symbols from libstdc++ headers), so
# dlclose never unloads it and the no-library test could not run after the others in one process.
target_compile_options(boxmon_fake_nvml PRIVATE -fno-gnu-unique)
set_target_properties(boxmon_fake_nvml PROPERTIES
  PREFIX "lib" OUTPUT_NAME "nvidia-ml" SUFFIX ".so.1"
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fake_nvml)

boxmon_add_tests(collector_gpu_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/gpu_nvidia_test.cpp ${CMAKE_CURRENT_LIST_DIR}/gpu_amd_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/gpu_apple_test.cpp
  LIBS boxmon_collector boxmon_rules ${CMAKE_DL_LIBS})
add_dependencies(collector_gpu_test boxmon_fake_nvml)
target_compile_definitions(collector_gpu_test PRIVATE BOXMON_FAKE_NVML="$<TARGET_FILE:boxmon_fake_nvml>")
