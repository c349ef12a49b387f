#include "agent/notify.hpp"

#include <cstdlib>
#include <mutex>

#ifdef BOXMON_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

#include "core/shared_library.hpp"
#endif

namespace boxmon::agent {

namespace {

#ifdef BOXMON_HAVE_SYSTEMD
// libsystemd (and the compression and crypto libraries it brings) is loaded only when systemd
// asked for notifications: without $NOTIFY_SOCKET sd_notify does nothing anyway, and a one-shot
// sample or a daemon under launchd or a terminal is spared the loading (docs/PERFORMANCE.md).
using SdNotifyFn = decltype(&::sd_notify);

SdNotifyFn load_sd_notify() {
    auto handle = open_shared_library("libsystemd.so.0");
    if (!handle) return nullptr;  // not a systemd host: nothing to tell
    return find_function<SdNotifyFn>(*handle, "sd_notify");
}
#endif

void notify(const char* state) {
#ifdef BOXMON_HAVE_SYSTEMD
    if (std::getenv("NOTIFY_SOCKET") == nullptr) return;
    static std::once_flag once;
    static SdNotifyFn sd_notify_fn = nullptr;
    std::call_once(once, [] { sd_notify_fn = load_sd_notify(); });
    if (sd_notify_fn != nullptr) (void)sd_notify_fn(0, state);
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
