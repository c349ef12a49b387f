# GPU collectors (the GPU issue).
target_sources(boxmon_collector PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/nvidia.cpp
  ${CMAKE_CURRENT_LIST_DIR}/amd.cpp
  ${CMAKE_CURRENT_LIST_DIR}/apple_stub.cpp
)
