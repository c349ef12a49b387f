# Fuzz targets of the Linux /proc parsers (part A); seeds in corpus/<name>/ come from the fixture
# trees plus hand-made odd cases.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  boxmon_add_fuzz(proc_stat SOURCE ${PROJECT_SOURCE_DIR}/fuzz/proc_stat.cpp LIBS boxmon_collector)
  boxmon_add_fuzz(meminfo SOURCE ${PROJECT_SOURCE_DIR}/fuzz/meminfo.cpp LIBS boxmon_collector)
  boxmon_add_fuzz(pressure SOURCE ${PROJECT_SOURCE_DIR}/fuzz/pressure.cpp LIBS boxmon_collector)
  boxmon_add_fuzz(loadavg SOURCE ${PROJECT_SOURCE_DIR}/fuzz/loadavg.cpp LIBS boxmon_collector)
endif()
