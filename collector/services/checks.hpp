#pragma once
// Health checks of the services collector: HTTP (through net::http_request), TCP connect and a
// command run without a shell. Every check ends within its own timeout, DNS included; a batch
// runs on a bounded pool of threads and ends by a deadline.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace boxmon::collector::services {

// How one check went.
struct CheckOutcome {
    bool ran = false;        // false: the batch's deadline passed before a thread was free
    bool up = false;
    double latency_seconds = 0;  // from start to verdict, failures included
    std::string detail;      // why it is down ("" when up)
};

// Runs one check with `timeout` as its limit (the check's own timeout, or less when the batch
// deadline is nearer). Never fails: a failure is an outcome with up = false and the reason.
CheckOutcome run_check(const CheckConfig& check, std::chrono::milliseconds timeout);

// The pieces run_check uses, one per check type.
CheckOutcome run_http_check(const CheckConfig& check, std::chrono::milliseconds timeout);
CheckOutcome run_tcp_check(const CheckConfig& check, std::chrono::milliseconds timeout);
CheckOutcome run_command_check(const CheckConfig& check, std::chrono::milliseconds timeout);

// Splits "host:port" or "[v6]:port"; false when malformed.
bool split_host_port(const std::string& address, std::string& host, std::string& port);

// Runs `checks` on at most `max_threads` threads and returns their outcomes in order. Each check
// gets min(its timeout, time left to `deadline`); a check no thread reached before the
// deadline is returned with ran = false.
std::vector<CheckOutcome> run_checks(const std::vector<const CheckConfig*>& checks,
                                     std::size_t max_threads,
                                     std::chrono::steady_clock::time_point deadline);

}  // namespace boxmon::collector::services
