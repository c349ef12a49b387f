// boxmon-http.so: the /metrics endpoint as a module the daemon loads only when [http] listen is
// set (agent/metrics_endpoint.hpp). Built from the same sources and flags as the executable, so
// the types that cross (HttpConfig, std::string, spdlog's logger) have the same layout on both
// sides. The module uses the shared libstdc++ (cpp-httplib's library needs it) while the
// executable carries its own: what crosses is plain data, memory from malloc, and virtual calls;
// no exception leaves either side.

#include <exception>

#include <spdlog/spdlog.h>

#include "agent/http_endpoint.hpp"
#include "agent/metrics_endpoint.hpp"

namespace boxmon::agent {
namespace {

class ModuleEndpoint final : public MetricsEndpoint {
public:
    explicit ModuleEndpoint(std::unique_ptr<HttpEndpoint> endpoint) : m_endpoint(std::move(endpoint)) {}
    void publish(std::string exposition) override { m_endpoint->publish(std::move(exposition)); }
    int port() const override { return m_endpoint->port(); }
    std::string address() const override { return m_endpoint->address(); }
    EndpointStats stats() const override { return m_endpoint->stats(); }

private:
    std::unique_ptr<HttpEndpoint> m_endpoint;
};

}  // namespace
}  // namespace boxmon::agent

extern "C" __attribute__((visibility("default"))) boxmon::agent::MetricsEndpoint* boxmon_http_endpoint_start(
    const boxmon::HttpConfig* config, const boxmon::agent::EndpointLimits* limits,
    const std::shared_ptr<spdlog::logger>* logger, std::string* error) {
    try {
        if (logger != nullptr && *logger) spdlog::set_default_logger(*logger);
        auto started = boxmon::agent::HttpEndpoint::start(*config, *limits);
        if (!started) {
            *error = started.error().message;
            return nullptr;
        }
        return new boxmon::agent::ModuleEndpoint(std::move(*started));
    } catch (const std::exception& e) {
        *error = std::string("the metrics endpoint failed to start: ") + e.what();
        return nullptr;
    }
}
