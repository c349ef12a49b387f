# The channels and their shared rendering (smtp, sendmail, slack, discord, webhook, alertmanager, log).
target_sources(boxmon_alerting PRIVATE ${CMAKE_CURRENT_LIST_DIR}/channels.cpp)
