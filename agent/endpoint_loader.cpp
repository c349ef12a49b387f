#include <unistd.h>

#include <filesystem>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "agent/metrics_endpoint.hpp"
#include "core/fs.hpp"
#include "core/shared_library.hpp"

namespace boxmon::agent {

std::vector<std::string> http_module_candidates() {
    const auto exe = own_executable_path();
    if (exe.empty()) return {};
    const auto dir = exe.parent_path();
    return {(dir / k_http_module).string(), (dir.parent_path() / "lib" / "boxmon" / k_http_module).string()};
}

namespace {

struct Module {
    std::once_flag once;
    HttpModuleStartFn start = nullptr;
    std::string error;
};

Module& module() {
    static Module m;
    return m;
}

void load(Module& m) {
    const auto candidates = http_module_candidates();
    std::string why;
    for (const auto& path : candidates) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) continue;
        // Never closed: the endpoint's threads and vtables live in it until the process ends.
        auto handle = open_shared_library(path);
        if (!handle) {
            why = fmt::format("{}: {}", path, handle.error().message);
            continue;
        }
        m.start = find_function<HttpModuleStartFn>(*handle, k_http_module_entry);
        if (m.start != nullptr) return;
        why = fmt::format("{} lacks {}", path, k_http_module_entry);
    }
    if (why.empty())
        why = candidates.empty() ? std::string("the executable's own path is unknown (/proc not mounted?)")
                                 : fmt::format("not found at {}", fmt::join(candidates, " or "));
    m.error = fmt::format("cannot load the metrics endpoint module {} ({}); reinstall boxmon, or leave "
                          "[http] listen empty",
                          k_http_module, why);
}

}  // namespace

Result<std::unique_ptr<MetricsEndpoint>> start_metrics_endpoint(const HttpConfig& config, EndpointLimits limits) {
    Module& m = module();
    std::call_once(m.once, [&m] { load(m); });
    if (m.start == nullptr) return fail("{}", m.error);
    std::string error;
    const std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
    MetricsEndpoint* endpoint = m.start(&config, &limits, &logger, &error);
    if (endpoint == nullptr) return fail("{}", error);
    return std::unique_ptr<MetricsEndpoint>(endpoint);
}

}  // namespace boxmon::agent
