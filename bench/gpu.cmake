# The GPU collectors' cost per tick: NVIDIA with the fake libnvidia-ml of the tests (built only
# when tests are), AMD on a fixture tree.
if(TARGET boxmon_fake_nvml)
  boxmon_add_bench(gpu_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/gpu_bench.cpp LIBS boxmon_collector ${CMAKE_DL_LIBS})
  target_include_directories(gpu_bench PRIVATE ${PROJECT_SOURCE_DIR})
  add_dependencies(gpu_bench boxmon_fake_nvml)
  target_compile_definitions(gpu_bench PRIVATE BOXMON_FAKE_NVML="$<TARGET_FILE:boxmon_fake_nvml>")
else()
  message(STATUS "gpu_bench skipped: it needs the fake NVML library of the tests (BOXMON_BUILD_TESTS=ON)")
endif()
