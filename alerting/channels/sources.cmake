# The channels and their shared rendering (smtp, sendmail, slack, discord, webhook, alertmanager, log).
target_sources(boxmon_alerting PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/alertmanager.cpp
  ${CMAKE_CURRENT_LIST_DIR}/channels.cpp
  ${CMAKE_CURRENT_LIST_DIR}/discord.cpp
  ${CMAKE_CURRENT_LIST_DIR}/email.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_channel.cpp
  ${CMAKE_CURRENT_LIST_DIR}/log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/message.cpp
  ${CMAKE_CURRENT_LIST_DIR}/render.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sendmail.cpp
  ${CMAKE_CURRENT_LIST_DIR}/slack.cpp
  ${CMAKE_CURRENT_LIST_DIR}/webhook.cpp)
