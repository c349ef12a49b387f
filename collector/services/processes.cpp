#include "collector/services/processes.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include <fmt/format.h>

namespace boxmon::collector::services {
namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && ptr == end;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits on spaces, skipping empty fields.
std::vector<std::string_view> fields_of(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\n')) ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\n') ++i;
        if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
}

Result<pid_t> read_pidfile(const std::filesystem::path& path) {
    auto text = read_bounded(path, 4096);
    if (!text) {
        Error e = std::move(text).error();
        e.message = fmt::format("pidfile {}: {}; check the service's pidfile setting", path.string(),
                                e.message);
        return fail(std::move(e));
    }
    const auto first = trim(std::string_view(*text).substr(0, text->find('\n')));
    pid_t pid = 0;
    if (!parse_number(first, pid) || pid <= 0)
        return fail("pidfile {} holds no PID (first line \"{}\"); the service may be starting",
                    path.string(), first.substr(0, 40));
    return pid;
}

}  // namespace

Result<PidStat> parse_pid_stat(std::string_view text) {
    PidStat st;
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return fail("no \"(comm)\" field");
    if (!parse_number(trim(text.substr(0, open)), st.pid)) return fail("field 1 (pid) is not a number");
    st.comm = std::string(text.substr(open + 1, close - open - 1));
    // Fields after comm: 3 state, 4 ppid, ... 9 flags, ... 14 utime, 15 stime, ... 22 starttime.
    const auto rest = fields_of(text.substr(close + 1));
    if (rest.size() < 20) return fail("{} fields after comm, expected at least 20", rest.size());
    if (rest[0].size() != 1) return fail("field 3 (state) is \"{}\"", rest[0]);
    st.state = rest[0][0];
    if (!parse_number(rest[1], st.ppid)) return fail("field 4 (ppid) is not a number");
    if (!parse_number(rest[6], st.flags)) return fail("field 9 (flags) is not a number");
    if (!parse_number(rest[11], st.utime)) return fail("field 14 (utime) is not a number");
    if (!parse_number(rest[12], st.stime)) return fail("field 15 (stime) is not a number");
    if (!parse_number(rest[19], st.starttime)) return fail("field 22 (starttime) is not a number");
    return st;
}

std::optional<std::uint64_t> parse_status_rss(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const auto line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.substr(0, 6) != "VmRSS:") continue;
        auto value = trim(line.substr(6));
        // "VmRSS:	    1234 kB": the unit is KiB.
        if (value.size() > 3 && value.substr(value.size() - 3) == " kB") value = trim(value.substr(0, value.size() - 3));
        std::uint64_t kib = 0;
        if (!parse_number(value, kib)) return std::nullopt;
        return kib * 1024;
    }
    return std::nullopt;
}

std::string parse_cmdline(std::string_view text) {
    while (!text.empty() && text.back() == '\0') text.remove_suffix(1);
    std::string out(text);
    std::replace(out.begin(), out.end(), '\0', ' ');
    return out;
}

bool cgroup_contains_unit(std::string_view cgroup_text, std::string_view unit) {
    if (unit.empty()) return false;
    std::size_t pos = 0;
    while (pos < cgroup_text.size()) {
        auto end = cgroup_text.find('\n', pos);
        if (end == std::string_view::npos) end = cgroup_text.size();
        const auto line = cgroup_text.substr(pos, end - pos);
        pos = end + 1;
        // "hierarchy-ID:controllers:path"; the path is after the second ':'.
        const auto c1 = line.find(':');
        if (c1 == std::string_view::npos) continue;
        const auto c2 = line.find(':', c1 + 1);
        if (c2 == std::string_view::npos) continue;
        const auto path = line.substr(c2 + 1);
        std::size_t p = 0;
        while (p < path.size()) {
            auto slash = path.find('/', p);
            if (slash == std::string_view::npos) slash = path.size();
            if (path.substr(p, slash - p) == unit) return true;
            p = slash + 1;
        }
    }
    return false;
}

Result<std::vector<ProcessEntry>> scan_processes(const RootFs& root, const ScanOptions& options) {
    auto names = list_dir(root.proc_root());
    if (!names) return fail(std::move(names).error());
    std::vector<ProcessEntry> out;
    out.reserve(names->size());
    for (const auto& name : *names) {
        if (!all_digits(name)) continue;
        // Any of these reads fails when the process exits meanwhile: it is simply not listed.
        auto stat_text = root.read_proc(name + "/stat", 4096);
        if (!stat_text) continue;
        auto st = parse_pid_stat(*stat_text);
        if (!st) continue;
        ProcessEntry e;
        e.stat = std::move(*st);
        if (e.stat.kernel_thread()) {
            out.push_back(std::move(e));
            continue;
        }
        if (options.cmdlines) {
            auto cmd = root.read_proc(name + "/cmdline", 64 * 1024);
            if (cmd) e.cmdline = parse_cmdline(*cmd);
        }
        if (options.cgroups) {
            auto cg = root.read_proc(name + "/cgroup", 64 * 1024);
            if (cg) e.cgroup = std::move(*cg);
        }
        out.push_back(std::move(e));
    }
    std::sort(out.begin(), out.end(),
              [](const ProcessEntry& a, const ProcessEntry& b) { return a.stat.pid < b.stat.pid; });
    return out;
}

Result<std::vector<pid_t>> find_service_pids(const ServiceConfig& service,
                                             const std::vector<ProcessEntry>& processes, pid_t self,
                                             const std::vector<std::string>& own_commands) {
    std::set<pid_t> found;
    if (!service.pidfile.empty()) {
        BOXMON_TRY(pid, read_pidfile(service.pidfile));
        for (const auto& p : processes)
            if (p.stat.pid == pid && p.stat.state != 'Z') found.insert(pid);
    } else if (!service.unit.empty()) {
        for (const auto& p : processes)
            if (p.stat.state != 'Z' && cgroup_contains_unit(p.cgroup, service.unit)) found.insert(p.stat.pid);
    } else if (!service.match.empty()) {
        for (const auto& p : processes) {
            // Kernel threads have an empty command line; zombies are gone in all but name.
            if (p.stat.pid == self || p.stat.state == 'Z' || p.cmdline.empty()) continue;
            // A command check (say `pgrep -f <match>`) running during the scan is not the service.
            if (self != 0 && p.stat.ppid == self &&
                std::find(own_commands.begin(), own_commands.end(), p.cmdline) != own_commands.end())
                continue;
            if (p.cmdline.find(service.match) != std::string::npos) found.insert(p.stat.pid);
        }
    }
    if (found.empty()) return std::vector<pid_t>{};
    // The whole tree: children of found processes, repeated until nothing new appears.
    std::multimap<pid_t, pid_t> children;
    for (const auto& p : processes)
        if (p.stat.state != 'Z') children.emplace(p.stat.ppid, p.stat.pid);
    std::vector<pid_t> todo(found.begin(), found.end());
    while (!todo.empty()) {
        const pid_t parent = todo.back();
        todo.pop_back();
        const auto [lo, hi] = children.equal_range(parent);
        for (auto it = lo; it != hi; ++it)
            if (it->second != self && found.insert(it->second).second) todo.push_back(it->second);
    }
    return std::vector<pid_t>(found.begin(), found.end());
}

pid_t main_pid(const ServiceConfig& service, const std::vector<pid_t>& pids,
               const std::vector<ProcessEntry>& processes) {
    if (pids.empty()) return 0;
    const std::set<pid_t> members(pids.begin(), pids.end());
    const ProcessEntry* best = nullptr;
    for (const auto& p : processes) {
        if (!members.count(p.stat.pid)) continue;
        if (!service.pidfile.empty()) {
            // With a pidfile the main PID is the one it names: the first (lowest) root found.
            if (!members.count(p.stat.ppid)) return p.stat.pid;
            continue;
        }
        if (members.count(p.stat.ppid)) continue;
        if (best == nullptr || p.stat.starttime < best->stat.starttime) best = &p;
    }
    return best != nullptr ? best->stat.pid : pids.front();
}

ServiceUsage measure_usage(const RootFs& root, const std::vector<pid_t>& pids,
                           const std::vector<ProcessEntry>& processes) {
    ServiceUsage u;
    for (const pid_t pid : pids) {
        const auto it = std::lower_bound(processes.begin(), processes.end(), pid,
                                         [](const ProcessEntry& e, pid_t p) { return e.stat.pid < p; });
        if (it == processes.end() || it->stat.pid != pid) continue;
        const std::string dir = std::to_string(pid);
        auto status = root.read_proc(dir + "/status", 64 * 1024);
        if (!status) continue;  // exited since the scan
        ++u.processes;
        u.rss_bytes += parse_status_rss(*status).value_or(0);
        u.cpu_ticks += it->stat.utime + it->stat.stime;
        // Another user's fd directory is unreadable without root: those files are not counted.
        if (auto fds = list_dir(root.proc(dir + "/fd"))) u.open_files = u.open_files.value_or(0) + fds->size();
    }
    return u;
}

}  // namespace boxmon::collector::services
