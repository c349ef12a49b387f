#pragma once
// The bounds of the /metrics endpoint and what it counts; shared by the endpoint module and the
// daemon that loads it.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace boxmon::agent {

using namespace std::chrono_literals;

// The endpoint's bounds; the defaults are what the daemon uses, tests shrink them.
struct EndpointLimits {
    std::chrono::milliseconds read_timeout = 5s;   // accept to the end of the request head
    std::chrono::milliseconds write_timeout = 5s;  // a worker's whole turn: body (if any) and reply
    std::size_t max_connections = 256;             // connections still sending their request head
    std::size_t head_max = 8192;                   // bytes of request line and headers
    std::size_t body_max = 4096;                   // request body bytes (a scrape sends none)
    std::size_t workers = 2;                       // threads that answer complete requests
    std::size_t queue_max = 64;                    // complete requests waiting for a worker
};

// What the endpoint did since it started (for tests and the debug log).
struct EndpointStats {
    std::uint64_t accepted = 0;
    std::uint64_t answered = 0;      // requests a worker answered (any status)
    std::uint64_t timed_out = 0;     // dropped: no complete request head within read_timeout
    std::uint64_t evicted = 0;       // dropped: the table was full and they had waited longest
    std::uint64_t too_large = 0;     // request heads cut at head_max (answered 400 by cpp-httplib)
    std::uint64_t refused = 0;       // dropped: the worker queue was full, or no descriptor was left
    std::uint64_t unauthorized = 0;  // answered 401
};

}  // namespace boxmon::agent
