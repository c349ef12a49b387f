#pragma once
// Runs a program without a shell (STYLE: no shell between config values and a process): argv
// goes to execve as given, stdin is fed from memory, stdout and stderr are captured up to a cap,
// and the child is killed (SIGKILL, whole process group) when it outlives its deadline. Used by
// the sendmail channel, journal log tails and service checks.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace boxmon {

struct SubprocessOptions {
    std::string stdin_data;                      // written to the child's stdin, then closed
    std::chrono::milliseconds timeout{10'000};   // SIGKILL after this
    std::size_t output_max_bytes = 1u << 20;     // per stream; the rest is read and dropped
    std::map<std::string, std::string> env;      // the child's whole environment (empty: PATH=/usr/sbin:/usr/bin:/sbin:/bin, LANG=C.UTF-8)
    std::filesystem::path cwd;                   // empty: "/"
};

struct SubprocessResult {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;      // the signal that ended it, 0 if it exited
    bool timed_out = false;
    std::string out;
    std::string err;
    bool out_truncated = false;
    bool err_truncated = false;
    bool stdin_cut = false;  // the child closed its stdin before reading all of stdin_data
};

// Fails only when the program could not be started (not found, not executable: kind not_found
// or runtime, with the path); a non-zero exit is a result, not a failure. argv[0] is the path
// (absolute, or looked up in the child's PATH).
Result<SubprocessResult> run_subprocess(const std::vector<std::string>& argv,
                                        const SubprocessOptions& options = {});

}  // namespace boxmon
