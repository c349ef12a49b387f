#pragma once
// What the daemon sends out after each tick besides alerts: the exposition that the /metrics
// endpoint serves ([http] listen) and the heartbeat ([heartbeat] url). Both work on their own
// threads; after_tick only renders the exposition and hands it over, and raises the heartbeat's
// flag, so neither can delay the next tick.

#include <chrono>
#include <memory>

#include "agent/heartbeat.hpp"
#include "agent/metrics_endpoint.hpp"
#include "agent/pipeline.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace boxmon::agent {

class Publishers {
public:
    // Starts the endpoint when [http] listen is set and the heartbeat when [heartbeat] url is;
    // fails when the endpoint cannot listen.
    static Result<std::unique_ptr<Publishers>> start(const Config& config);

    // Serves boxmon's state before any tick of this process: the last stored tick, the outbox
    // and the rule phases, with no series.
    void publish_state(Pipeline& pipeline);
    // After a tick: the endpoint serves its sample and health; a stored tick sends a heartbeat.
    void after_tick(Pipeline& pipeline, const TickOutcome& outcome);
    // Applies a reloaded configuration. The endpoint is restarted only when its address or token
    // changed; when the new address cannot be bound the old one is kept (logged as an error).
    void reload(const Config& config, Pipeline& pipeline);
    // Stops the endpoint and lets a heartbeat in flight finish within `grace`.
    void stop(std::chrono::milliseconds grace);

    // The endpoint, or nullptr when [http] listen is empty.
    const MetricsEndpoint* endpoint() const { return m_endpoint.get(); }

private:
    HttpConfig m_http;
    std::unique_ptr<MetricsEndpoint> m_endpoint;
    std::unique_ptr<Heartbeat> m_heartbeat;
};

}  // namespace boxmon::agent
