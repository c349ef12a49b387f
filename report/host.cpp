#include "report/host.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/statvfs.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <memory>

#include <fmt/format.h>

#include "core/text.hpp"

namespace boxmon::report {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// Calls f(line) for each line of text.
template <class F>
void for_each_line(std::string_view text, F&& f) {
    while (!text.empty()) {
        const auto nl = text.find('\n');
        f(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

std::vector<std::string_view> split_ws(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) {
    std::uint64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

// /proc/mounts escapes space, tab, newline and backslash as \040 \011 \012 \134.
std::string unescape_mount(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' &&
            s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string unquote(std::string_view v) {
    v = trim(v);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
        v = v.substr(1, v.size() - 2);
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        out += v[i];
    }
    return out;
}

std::string primary_ipv4(const std::string& interface) {
    if (interface.empty()) return {};
    struct ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return {};
    std::unique_ptr<struct ifaddrs, void (*)(struct ifaddrs*)> guard(list, ::freeifaddrs);
    for (auto* a = list; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
        if (interface != a->ifa_name) continue;
        char buf[INET_ADDRSTRLEN] = {};
        sockaddr_in sin{};
        std::memcpy(&sin, a->ifa_addr, sizeof sin);
        if (::inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof buf) != nullptr) return buf;
    }
    return {};
}

void gather_gpus(const RootFs& root, HostFacts& facts) {
    // NVIDIA: the proprietary driver publishes its version and one folder per GPU under
    // /proc/driver/nvidia (https://download.nvidia.com/XFree86/Linux-x86_64/ README "procinterface").
    std::string nvidia_driver = "nvidia";
    if (auto version = root.read_proc("driver/nvidia/version", 64u << 10)) {
        // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 ..."
        const std::string_view first_line = std::string_view(*version).substr(0, version->find('\n'));
        const auto words = split_ws(first_line);
        for (std::size_t i = 0; i + 1 < words.size(); ++i)
            if (words[i] == "Module") nvidia_driver = fmt::format("nvidia {}", words[i + 1]);
    }
    if (auto gpus = list_dir(root.proc("driver/nvidia/gpus"))) {
        for (const auto& bus : *gpus) {
            auto info = read_bounded(root.proc("driver/nvidia/gpus") / bus / "information", 64u << 10);
            std::string name = "NVIDIA GPU " + bus;
            if (info) {
                for_each_line(*info, [&](std::string_view line) {
                    if (line.starts_with("Model:")) name = std::string(trim(line.substr(6)));
                });
            }
            facts.gpus.push_back({name, nvidia_driver});
        }
    }
    // AMD: DRM cards whose PCI vendor is 0x1002, driven by amdgpu.
    if (auto cards = list_dir(root.sys("class/drm"))) {
        for (const auto& card : *cards) {
            if (!card.starts_with("card") || card.find('-') != std::string::npos) continue;
            auto vendor = read_bounded(root.sys("class/drm") / card / "device" / "vendor", 64);
            if (!vendor || trim(*vendor) != "0x1002") continue;
            auto product = read_bounded(root.sys("class/drm") / card / "device" / "product_name", 256);
            facts.gpus.push_back({product ? std::string(trim(*product)) : "AMD GPU " + card, "amdgpu"});
        }
    }
}

}  // namespace

std::string parse_cpu_model(std::string_view cpuinfo) {
    std::string model;
    for_each_line(cpuinfo, [&](std::string_view line) {
        if (!model.empty()) return;
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return;
        const auto key = trim(line.substr(0, colon));
        // x86 says "model name"; arm64 kernels say "Model" or only "CPU implementer".
        if (key == "model name" || key == "Model" || key == "Hardware")
            model = std::string(trim(line.substr(colon + 1)));
    });
    return model;
}

int parse_cpu_count(std::string_view cpuinfo) {
    int n = 0;
    for_each_line(cpuinfo, [&](std::string_view line) {
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && trim(line.substr(0, colon)) == "processor") ++n;
    });
    return n;
}

std::pair<std::optional<std::uint64_t>, std::optional<std::uint64_t>> parse_mem_totals(
    std::string_view meminfo) {
    std::optional<std::uint64_t> mem;
    std::optional<std::uint64_t> swap;
    for_each_line(meminfo, [&](std::string_view line) {
        const auto words = split_ws(line);
        if (words.size() < 2) return;
        const auto kib = parse_u64(words[1]);
        if (!kib) return;
        if (words[0] == "MemTotal:") mem = *kib * 1024;
        if (words[0] == "SwapTotal:") swap = *kib * 1024;
    });
    return {mem, swap};
}

std::optional<std::chrono::seconds> parse_uptime(std::string_view uptime) {
    const auto words = split_ws(trim(uptime));
    if (words.empty()) return std::nullopt;
    const auto dot = words[0].find('.');
    const auto secs = parse_u64(words[0].substr(0, dot));
    if (!secs) return std::nullopt;
    return std::chrono::seconds(static_cast<long long>(*secs));
}

std::pair<std::string, std::string> parse_os_release(std::string_view text) {
    std::string pretty;
    std::string name;
    std::string version;
    for_each_line(text, [&](std::string_view line) {
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) return;
        const auto key = trim(line.substr(0, eq));
        if (key == "PRETTY_NAME") pretty = unquote(line.substr(eq + 1));
        if (key == "NAME") name = unquote(line.substr(eq + 1));
        if (key == "VERSION_ID") version = unquote(line.substr(eq + 1));
    });
    return {pretty.empty() ? name : pretty, version};
}

std::string parse_default_route_interface(std::string_view route) {
    std::string iface;
    for_each_line(route, [&](std::string_view line) {
        if (!iface.empty()) return;
        const auto w = split_ws(line);
        // Iface Destination Gateway Flags ...; the default route has destination 00000000.
        if (w.size() >= 4 && w[1] == "00000000" && w[0] != "Iface") iface = std::string(w[0]);
    });
    return iface;
}

std::vector<DiskFacts> parse_mounts(std::string_view mounts) {
    std::vector<DiskFacts> out;
    for_each_line(mounts, [&](std::string_view line) {
        const auto w = split_ws(line);
        if (w.size() < 3) return;
        const bool real = w[0].starts_with("/dev/") || w[2] == "zfs" || w[2] == "btrfs";
        if (!real || w[2] == "squashfs") return;  // snaps are loop-mounted squashfs images
        DiskFacts d;
        d.device = unescape_mount(w[0]);
        d.mount = unescape_mount(w[1]);
        d.fs_type = std::string(w[2]);
        for (const auto& seen : out)
            if (seen.mount == d.mount) return;
        out.push_back(std::move(d));
    });
    return out;
}

Result<HostFacts> gather_host_facts(const RootFs& root, const HostOptions& options) {
    HostFacts facts;
    int read_ok = 0;
    auto note = [&](const Error& e) { facts.notes.push_back(e.message); };

    if (auto h = root.read_proc("sys/kernel/hostname", 4096)) {
        facts.hostname = std::string(trim(*h));
        ++read_ok;
    } else {
        note(h.error());
    }
    if (auto k = root.read_proc("sys/kernel/osrelease", 4096)) {
        facts.kernel = std::string(trim(*k));
        ++read_ok;
    } else {
        note(k.error());
    }
    if (auto c = root.read_proc("cpuinfo")) {
        facts.cpu_model = parse_cpu_model(*c);
        facts.cpu_cores = parse_cpu_count(*c);
        ++read_ok;
    } else {
        note(c.error());
    }
    if (auto m = root.read_proc("meminfo")) {
        std::tie(facts.mem_total_bytes, facts.swap_total_bytes) = parse_mem_totals(*m);
        ++read_ok;
    } else {
        note(m.error());
    }
    if (auto u = root.read_proc("uptime", 4096)) {
        facts.uptime = parse_uptime(*u);
        ++read_ok;
    } else {
        note(u.error());
    }
    if (auto r = root.read_proc("net/route")) {
        facts.primary_interface = parse_default_route_interface(*r);
        if (root.is_host()) facts.primary_ip = primary_ipv4(facts.primary_interface);
    } else {
        note(r.error());
    }
    if (auto m = root.read_proc("mounts")) {
        facts.disks = parse_mounts(*m);
        if (options.statvfs_disks) {
            for (auto& d : facts.disks) {
                // Only local block devices: a hung network mount would block statvfs.
                struct statvfs st{};
                if (::statvfs(d.mount.c_str(), &st) == 0)
                    d.size_bytes = static_cast<std::uint64_t>(st.f_blocks) * st.f_frsize;
            }
        }
    } else {
        note(m.error());
    }
    if (auto os = read_bounded(options.os_release, 64u << 10)) {
        std::tie(facts.os_name, facts.os_version) = parse_os_release(*os);
    } else {
        note(os.error());
    }
    gather_gpus(root, facts);
    if (read_ok == 0)
        return fail("no host facts readable under {}; check --root-proc", root.proc_root().string());
    return facts;
}

std::string shell_quote(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    out += '\'';
    return out;
}

std::string render_sysinfo(const HostFacts& f) {
    std::string out;
    auto line = [&](std::string_view key, std::string_view value) {
        out += key;
        out += '=';
        out += shell_quote(escape_control(sanitize_utf8(value)));
        out += '\n';
    };
    auto opt = [](const std::optional<std::uint64_t>& v) { return v ? std::to_string(*v) : std::string(); };
    line("HOSTNAME", f.hostname);
    line("OS_NAME", f.os_name);
    line("OS_VERSION", f.os_version);
    line("KERNEL", f.kernel);
    line("CPU_MODEL", f.cpu_model);
    line("CPU_CORES", std::to_string(f.cpu_cores));
    line("MEM_TOTAL_BYTES", opt(f.mem_total_bytes));
    line("SWAP_TOTAL_BYTES", opt(f.swap_total_bytes));
    line("UPTIME_SECONDS", f.uptime ? std::to_string(f.uptime->count()) : std::string());
    line("PRIMARY_INTERFACE", f.primary_interface);
    line("PRIMARY_IP", f.primary_ip);
    line("DISK_COUNT", std::to_string(f.disks.size()));
    for (std::size_t i = 0; i < f.disks.size(); ++i) {
        line(fmt::format("DISK_{}_MOUNT", i), f.disks[i].mount);
        line(fmt::format("DISK_{}_DEVICE", i), f.disks[i].device);
        line(fmt::format("DISK_{}_FS_TYPE", i), f.disks[i].fs_type);
        line(fmt::format("DISK_{}_SIZE_BYTES", i), opt(f.disks[i].size_bytes));
    }
    line("GPU_COUNT", std::to_string(f.gpus.size()));
    for (std::size_t i = 0; i < f.gpus.size(); ++i) {
        line(fmt::format("GPU_{}_NAME", i), f.gpus[i].name);
        line(fmt::format("GPU_{}_DRIVER", i), f.gpus[i].driver);
    }
    line("BOXMON_VERSION", f.boxmon_version);
    line("BOXMON_CONFIG", f.config_path);
    return out;
}

}  // namespace boxmon::report
