#include "agent/publishers.hpp"

#include <spdlog/spdlog.h>

#include "agent/exposition.hpp"

namespace boxmon::agent {

namespace {

bool same_endpoint(const HttpConfig& a, const HttpConfig& b) {
    return a.listen == b.listen && a.bearer_token.value == b.bearer_token.value;
}

}  // namespace

Result<std::unique_ptr<Publishers>> Publishers::start(const Config& config) {
    auto p = std::make_unique<Publishers>();
    p->m_http = config.http;
    if (!config.http.listen.empty()) {
        BOXMON_TRY(endpoint, start_metrics_endpoint(config.http));
        p->m_endpoint = std::move(endpoint);
    }
    p->m_heartbeat = std::make_unique<Heartbeat>(config.heartbeat);
    return p;
}

void Publishers::publish_state(Pipeline& pipeline) {
    if (m_endpoint) m_endpoint->publish(to_exposition(Sample{}, pipeline.self_metrics(nullptr)));
}

void Publishers::after_tick(Pipeline& pipeline, const TickOutcome& outcome) {
    if (m_endpoint) m_endpoint->publish(to_exposition(outcome.sample, pipeline.self_metrics(&outcome)));
    if (outcome.stored && m_heartbeat) m_heartbeat->beat();
}

void Publishers::reload(const Config& config, Pipeline& pipeline) {
    m_heartbeat = std::make_unique<Heartbeat>(config.heartbeat);
    if (same_endpoint(m_http, config.http)) return;
    if (config.http.listen.empty()) {
        m_endpoint.reset();
    } else {
        // A new address is bound before the old one closes, so a failure leaves it untouched; the
        // same address (a new token) has to be freed first.
        if (config.http.listen == m_http.listen) m_endpoint.reset();
        auto fresh = start_metrics_endpoint(config.http);
        if (!fresh) {
            spdlog::error("SIGHUP: {}; keeping the metrics endpoint as it was", fresh.error().message);
            if (!m_endpoint && !m_http.listen.empty()) {
                if (auto old = start_metrics_endpoint(m_http)) m_endpoint = std::move(*old);
                else spdlog::error("the metrics endpoint is off: {}", old.error().message);
                publish_state(pipeline);
            }
            return;
        }
        m_endpoint = std::move(*fresh);
    }
    m_http = config.http;
    publish_state(pipeline);
}

void Publishers::stop(std::chrono::milliseconds grace) {
    m_endpoint.reset();
    if (m_heartbeat) m_heartbeat->stop(grace);
}

}  // namespace boxmon::agent
