#pragma once
// The daemon's side of the /metrics endpoint. The endpoint itself (agent/http_endpoint.hpp,
// cpp-httplib and through it OpenSSL, zlib and brotli) is built as a module, boxmon-http.so,
// loaded with dlopen only when [http] listen is set: every other process (a one-shot sample,
// status, a daemon without the endpoint) is spared six libraries, OpenSSL's initialisation and
// about 2 MiB of resident pages (docs/ARCHITECTURE.md).

#include <memory>
#include <string>
#include <vector>

#include "agent/endpoint_limits.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace spdlog {
class logger;
}

namespace boxmon::agent {

class MetricsEndpoint {
public:
    virtual ~MetricsEndpoint() = default;
    // Makes `exposition` what /metrics serves from now on; never blocks on a scrape.
    virtual void publish(std::string exposition) = 0;
    // The bound port (useful when the address named port 0).
    virtual int port() const = 0;
    // The bound address as "host:port" ("[::1]:9101" for IPv6).
    virtual std::string address() const = 0;
    // Counters since start.
    virtual EndpointStats stats() const = 0;
};

// The module's file name, and where it is looked for: beside the boxmon executable (a build
// tree), then in ../lib/boxmon/ from it (an installation: /usr/bin/boxmon ->
// /usr/lib/boxmon/boxmon-http.so).
inline constexpr const char* k_http_module = "boxmon-http.so";
std::vector<std::string> http_module_candidates();

// Loads the module (once) and starts the endpoint on `config.listen`. Fails naming the module
// and the loader's message when it cannot be loaded, or as HttpEndpoint::start does.
Result<std::unique_ptr<MetricsEndpoint>> start_metrics_endpoint(const HttpConfig& config,
                                                                EndpointLimits limits = {});

// The entry point the module exports (C linkage, so dlsym finds it by this name). On failure
// it returns null and sets `*error`. spdlog is header-only, so the module has a registry of its
// own: it logs through `logger`, the daemon's default logger, which it makes its default too.
using HttpModuleStartFn = MetricsEndpoint* (*)(const HttpConfig* config, const EndpointLimits* limits,
                                                const std::shared_ptr<spdlog::logger>* logger,
                                                std::string* error);
inline constexpr const char* k_http_module_entry = "boxmon_http_endpoint_start";

}  // namespace boxmon::agent
