// Host facts: the parsers, the gatherer on a fixture tree, and sysinfo's shell-safe output.
#include <gtest/gtest.h>

#include <filesystem>

#include "report/host.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::report {
namespace {

namespace fs = std::filesystem;

fs::path host_fixture() { return test::fixtures_dir() / "report" / "host"; }

TEST(HostParsers, cpu_model_and_count_come_from_cpuinfo) {
    const std::string x86 = "processor\t: 0\nmodel name\t: AMD EPYC 7543\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7543\n";
    EXPECT_EQ(parse_cpu_model(x86), "AMD EPYC 7543");
    EXPECT_EQ(parse_cpu_count(x86), 2);
    EXPECT_EQ(parse_cpu_model("processor : 0\nBogoMIPS : 50.00\nModel : Raspberry Pi 4\n"), "Raspberry Pi 4");
    EXPECT_EQ(parse_cpu_model(""), "");
    EXPECT_EQ(parse_cpu_count(""), 0);
    EXPECT_EQ(parse_cpu_model("model name"), "");  // truncated: no colon
}

TEST(HostParsers, mem_totals_are_bytes_and_absent_when_missing) {
    auto [mem, swap] = parse_mem_totals("MemTotal: 1024 kB\nSwapTotal: 0 kB\n");
    EXPECT_EQ(mem, 1024u * 1024u);
    EXPECT_EQ(swap, 0u);
    auto [mem2, swap2] = parse_mem_totals("MemTotal: lots kB\n");
    EXPECT_FALSE(mem2);
    EXPECT_FALSE(swap2);
}

TEST(HostParsers, uptime_is_whole_seconds) {
    EXPECT_EQ(parse_uptime("356521.47 1400000.10\n"), std::chrono::seconds(356521));
    EXPECT_FALSE(parse_uptime(""));
    EXPECT_FALSE(parse_uptime("abc"));
}

TEST(HostParsers, os_release_prefers_pretty_name_and_unquotes) {
    auto [name, version] = parse_os_release("NAME=\"Debian\"\nPRETTY_NAME=\"Debian 12\"\nVERSION_ID='12'\n");
    EXPECT_EQ(name, "Debian 12");
    EXPECT_EQ(version, "12");
    auto [name2, version2] = parse_os_release("NAME=Alpine\n");
    EXPECT_EQ(name2, "Alpine");
    EXPECT_EQ(version2, "");
}

TEST(HostParsers, default_route_interface_skips_header_and_other_routes) {
    EXPECT_EQ(parse_default_route_interface("Iface\tDestination\tGateway\tFlags\n"
                                            "eth1\t0001A8C0\t00000000\t0001\n"
                                            "eth0\t00000000\t0101A8C0\t0003\n"),
              "eth0");
    EXPECT_EQ(parse_default_route_interface("Iface\tDestination\tGateway\tFlags\n"), "");
}

TEST(HostParsers, mounts_keep_real_filesystems_and_unescape_names) {
    auto disks = parse_mounts("proc /proc proc rw 0 0\n/dev/sda1 /srv/a\\040b ext4 rw 0 0\n"
                              "tank/data /tank zfs rw 0 0\n/dev/loop0 /snap/x squashfs ro 0 0\n"
                              "/dev/sda1 /srv/a\\040b ext4 rw 0 0\n");
    ASSERT_EQ(disks.size(), 2u);
    EXPECT_EQ(disks[0].mount, "/srv/a b");
    EXPECT_EQ(disks[0].device, "/dev/sda1");
    EXPECT_EQ(disks[1].fs_type, "zfs");
}

TEST(HostFactsGather, reads_every_fact_of_the_fixture_tree) {
    HostOptions options;
    options.os_release = host_fixture() / "etc" / "os-release";
    options.statvfs_disks = false;
    auto facts = gather_host_facts(RootFs(host_fixture() / "proc", host_fixture() / "sys"), options);
    ASSERT_TRUE(facts) << facts.error().message;
    EXPECT_EQ(facts->hostname, "gpu-box-1");
    EXPECT_EQ(facts->kernel, "6.1.0-18-amd64");
    EXPECT_EQ(facts->os_name, "Debian GNU/Linux 12 (bookworm)");
    EXPECT_EQ(facts->os_version, "12");
    EXPECT_EQ(facts->cpu_model, "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz");
    EXPECT_EQ(facts->cpu_cores, 2);
    EXPECT_EQ(facts->mem_total_bytes, 65795004ull * 1024);
    EXPECT_EQ(facts->swap_total_bytes, 8388604ull * 1024);
    EXPECT_EQ(facts->uptime, std::chrono::seconds(356521));
    EXPECT_EQ(facts->primary_interface, "enp3s0");
    EXPECT_EQ(facts->primary_ip, "");  // not the host: no getifaddrs on a fixture tree
    ASSERT_EQ(facts->disks.size(), 3u);
    EXPECT_EQ(facts->disks[2].mount, "/srv/model cache");
    ASSERT_EQ(facts->gpus.size(), 1u);
    EXPECT_EQ(facts->gpus[0].name, "NVIDIA GeForce RTX 4090");
    EXPECT_EQ(facts->gpus[0].driver, "nvidia 550.54.14");
}

TEST(HostFactsGather, a_wrong_proc_root_fails_saying_where) {
    test::TempDir dir;
    HostOptions options;
    options.os_release = dir / "os-release";
    auto facts = gather_host_facts(RootFs(dir / "proc", dir / "sys"), options);
    ASSERT_FALSE(facts);
    EXPECT_NE(facts.error().message.find((dir / "proc").string()), std::string::npos);
}

TEST(HostFactsGather, the_real_host_gives_hostname_and_kernel) {
    auto facts = gather_host_facts(RootFs());
    ASSERT_TRUE(facts) << facts.error().message;
    EXPECT_FALSE(facts->hostname.empty());
    EXPECT_FALSE(facts->kernel.empty());
    EXPECT_GT(facts->cpu_cores, 0);
}

TEST(Sysinfo, shell_quote_survives_quotes) {
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote(""), "''");
}

TEST(Sysinfo, hostile_values_source_as_plain_text_and_run_nothing) {
    test::TempDir dir;
    HostFacts facts;
    const fs::path canary = dir / "pwned";
    facts.hostname = "box$(touch " + canary.string() + ")`touch " + canary.string() + "`'; touch " +
                     canary.string() + "; '\nEVIL=1\x1b[31m\xff";
    facts.os_name = "Debian";
    facts.cpu_cores = 4;
    const std::string text = render_sysinfo(facts);
    // One line per key: a newline in a value cannot add a key.
    EXPECT_EQ(text.find("\nEVIL=1"), std::string::npos);
    EXPECT_EQ(text.find('\x1b'), std::string::npos);
    test::write_file(dir / "env", text);
    auto r = test::run_process({"/bin/sh", "-c", ". \"$1\" && printf '%s|%s|%s' \"$HOSTNAME\" \"$CPU_CORES\" \"${EVIL-unset}\"",
                                "sh", (dir / "env").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(canary)) << "sourcing the sysinfo file ran a command";
    EXPECT_NE(r.out.find("box$(touch "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("|4|unset"), std::string::npos) << r.out;
}

TEST(Sysinfo, lists_the_fixed_keys_in_order) {
    HostFacts facts;
    facts.hostname = "h";
    facts.gpus.push_back({"RTX", "nvidia 550"});
    const std::string text = render_sysinfo(facts);
    EXPECT_EQ(text.rfind("HOSTNAME='h'\n", 0), 0u);
    EXPECT_NE(text.find("GPU_COUNT='1'\nGPU_0_NAME='RTX'\nGPU_0_DRIVER='nvidia 550'\n"), std::string::npos);
}

}  // namespace
}  // namespace boxmon::report
