#pragma once
// systemd readiness and watchdog notifications (Type=notify, WatchdogSec). No-ops when boxmon
// was built without libsystemd or does not run under systemd.

namespace boxmon::agent {

void notify_ready();
void notify_reloading();
void notify_stopping();
void notify_watchdog();

}  // namespace boxmon::agent
