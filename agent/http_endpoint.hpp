#pragma once
// The daemon's Prometheus endpoint (DESIGN §9; RELIABILITY L8, X8): GET /metrics on the address
// of [http] listen, behind a bearer token when one is configured. cpp-httplib parses each request
// and writes each reply; the sockets are boxmon's own, so that no client can hold a thread while
// it dawdles. One event thread accepts connections and reads each request head without blocking
// (poll), with a deadline from accept to the end of the head and a cap on its size; only complete
// heads reach the small worker pool. When the connection table is full, the connection waiting
// longest is dropped for the new one, so a crowd of idle clients never locks out a scraper. The
// tick thread hands each exposition over with publish(), a pointer swap under a mutex: a scrape
// never delays a tick and a tick never waits for a scrape.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/endpoint_limits.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace boxmon::agent {

class HttpEndpoint {
public:
    // Binds `config.listen` ("127.0.0.1:9101", "[::1]:9101", "localhost:9101") and starts
    // serving; fails (runtime) naming the address and the reason when it cannot listen.
    static Result<std::unique_ptr<HttpEndpoint>> start(const HttpConfig& config, EndpointLimits limits = {});
    // Stops accepting, lets a reply in progress finish (at most write_timeout) and closes every
    // connection.
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    // Makes `exposition` what /metrics serves from now on; never blocks on a scrape.
    void publish(std::string exposition);
    // The bound port (useful when the address named port 0).
    int port() const;
    // The bound address as "host:port" ("[::1]:9101" for IPv6).
    const std::string& address() const;
    // Counters since start.
    EndpointStats stats() const;

    class Impl;

private:
    explicit HttpEndpoint(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Whether `authorization` (an Authorization header value) carries `token` as a bearer token;
// compares in time independent of where the values differ.
bool bearer_matches(std::string_view authorization, std::string_view token);

}  // namespace boxmon::agent
