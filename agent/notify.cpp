#include "agent/notify.hpp"

#ifdef BOXMON_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace boxmon::agent {

namespace {
void notify(const char* state) {
#ifdef BOXMON_HAVE_SYSTEMD
    (void)::sd_notify(0, state);
#else
    (void)state;
#endif
}
}  // namespace

void notify_ready() { notify("READY=1\nSTATUS=sampling"); }
void notify_reloading() { notify("RELOADING=1"); }
void notify_stopping() { notify("STOPPING=1"); }
void notify_watchdog() { notify("WATCHDOG=1"); }

}  // namespace boxmon::agent
