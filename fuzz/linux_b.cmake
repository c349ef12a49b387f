# Linux part B parsers: /proc/net/dev, mountinfo (with the mount selection and statvfs.txt),
# /proc/diskstats.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  boxmon_add_fuzz(net_dev SOURCE ${PROJECT_SOURCE_DIR}/fuzz/net_dev.cpp LIBS boxmon_collector)
  boxmon_add_fuzz(mountinfo SOURCE ${PROJECT_SOURCE_DIR}/fuzz/mountinfo.cpp LIBS boxmon_collector)
  boxmon_add_fuzz(diskstats SOURCE ${PROJECT_SOURCE_DIR}/fuzz/diskstats.cpp LIBS boxmon_collector)
endif()
