// Process discovery of the services collector on hand-made /proc trees
// (tests/fixtures/services/{cgroup,cmdline}) and its parsers.

#include <gtest/gtest.h>

#include "collector/services/processes.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::collector::services {
namespace {

RootFs fixture_root(const char* tree) {
    const auto dir = test::fixtures_dir() / "services" / tree;
    return RootFs(dir / "proc", dir / "sys");
}

std::vector<ProcessEntry> scan_fixture(const RootFs& root) {
    auto scanned = scan_processes(root, ScanOptions{true, true});
    EXPECT_TRUE(scanned) << scanned.error().message;
    return scanned ? *scanned : std::vector<ProcessEntry>{};
}

ServiceConfig unit_service(const char* unit) {
    ServiceConfig s;
    s.name = "web";
    s.unit = unit;
    return s;
}

ServiceConfig match_service(const char* match) {
    ServiceConfig s;
    s.name = "chat";
    s.match = match;
    return s;
}

TEST(ServicesParse, StatWithSpacesAndParensInCommKeepsTheFieldsAfterTheLastParen) {
    auto st = parse_pid_stat("410 (we (ird) name) S 1 410 410 0 -1 4194560 1200 0 3 0 17 23 0 0 20 0 1 0 6100 1 2 3\n");
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(st->pid, 410);
    EXPECT_EQ(st->comm, "we (ird) name");
    EXPECT_EQ(st->state, 'S');
    EXPECT_EQ(st->ppid, 1);
    EXPECT_EQ(st->utime, 17u);
    EXPECT_EQ(st->stime, 23u);
    EXPECT_EQ(st->starttime, 6100u);
    EXPECT_EQ(st->flags, 4194560u);
    EXPECT_FALSE(st->kernel_thread());
    auto kworker = parse_pid_stat("9 (kworker/0:1-events) I 2 0 0 0 -1 69238880 0 0 0 0 0 51 0 0 20 0 1 0 12 0 0\n");
    ASSERT_TRUE(kworker) << kworker.error().message;
    EXPECT_TRUE(kworker->kernel_thread());
}

// A kernel thread's cmdline and cgroup are not read (a 64-core server has hundreds of them);
// it could not belong to a service anyway. Shown here with a kthread whose cmdline file,
// unlike a real one, holds the match.
TEST(ServicesScan, KernelThreadsAreListedButTheirFilesAreNotRead) {
    const test::TempDir dir;
    const auto proc = dir / "proc";
    test::write_file(proc / "2" / "stat", "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 3 0 0 20 0 1 0 1 0 0\n");
    test::write_file(proc / "2" / "cmdline", std::string("llama-server\0", 13));
    test::write_file(proc / "2" / "cgroup", "0::/system.slice/llama.service\n");
    test::write_file(proc / "500" / "stat", "500 (llama-server) S 1 500 500 0 -1 4194560 0 0 0 0 7 3 0 0 20 0 4 0 900 0 0\n");
    test::write_file(proc / "500" / "cmdline", std::string("llama-server\0--port\0" "8080\0", 25));
    test::write_file(proc / "500" / "cgroup", "0::/system.slice/llama.service\n");
    const RootFs root(proc, dir / "sys");
    auto scanned = scan_processes(root, ScanOptions{true, true});
    ASSERT_TRUE(scanned) << scanned.error().message;
    ASSERT_EQ(scanned->size(), 2u);
    EXPECT_EQ((*scanned)[0].stat.pid, 2);
    EXPECT_TRUE((*scanned)[0].stat.kernel_thread());
    EXPECT_TRUE((*scanned)[0].cmdline.empty());
    EXPECT_TRUE((*scanned)[0].cgroup.empty());
    EXPECT_EQ((*scanned)[1].cmdline, "llama-server --port 8080");
    EXPECT_EQ(find_service_pids(match_service("llama-server"), *scanned, 0, {}).value(), std::vector<pid_t>{500});
    EXPECT_EQ(find_service_pids(unit_service("llama.service"), *scanned, 0, {}).value(), std::vector<pid_t>{500});
}

TEST(ServicesParse, TruncatedOrGarbledStatIsAnErrorThatSaysWhichField) {
    auto short_line = parse_pid_stat("1 (init) S 0 1 1");
    ASSERT_FALSE(short_line);
    EXPECT_EQ(short_line.error().message, "4 fields after comm, expected at least 20");
    auto bad = parse_pid_stat("1 (init) S x 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 1 2");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "field 4 (ppid) is not a number");
    EXPECT_FALSE(parse_pid_stat("no comm at all"));
}

TEST(ServicesParse, StatusRssIsInBytesAndAbsentForKernelThreads) {
    EXPECT_EQ(parse_status_rss("Name:\tx\nVmRSS:\t    1234 kB\nThreads:\t1\n"), 1234u * 1024);
    EXPECT_EQ(parse_status_rss("Name:\tkthreadd\nThreads:\t1\n"), std::nullopt);
    EXPECT_EQ(parse_status_rss("VmRSS:\tlots kB\n"), std::nullopt);
}

TEST(ServicesParse, CmdlineJoinsArgvWithSpaces) {
    static constexpr char k_raw[] = "/usr/bin/python3\0chat-server.py\0--port\0";
    EXPECT_EQ(parse_cmdline(std::string_view(k_raw, sizeof k_raw - 1)),
              "/usr/bin/python3 chat-server.py --port");
    EXPECT_EQ(parse_cmdline(""), "");
}

TEST(ServicesParse, CgroupMatchesWholePathComponentsOnly) {
    EXPECT_TRUE(cgroup_contains_unit("0::/system.slice/nginx.service\n", "nginx.service"));
    EXPECT_TRUE(cgroup_contains_unit("0::/system.slice/nginx.service/worker\n", "nginx.service"));
    EXPECT_TRUE(cgroup_contains_unit("12:memory:/x\n1:name=systemd:/system.slice/redis.service\n", "redis.service"));
    EXPECT_FALSE(cgroup_contains_unit("0::/system.slice/nginx-exporter.service\n", "nginx.service"));
    EXPECT_FALSE(cgroup_contains_unit("0::/system.slice/nginx.service.d\n", "nginx.service"));
    EXPECT_FALSE(cgroup_contains_unit("0::/system.slice/nginx.service\n", ""));
}

TEST(ServicesDiscovery, UnitFindsTheCgroupsProcessesButNotZombiesOrSimilarNames) {
    const auto root = fixture_root("cgroup");
    const auto procs = scan_fixture(root);
    ASSERT_EQ(procs.size(), 8u);
    auto pids = find_service_pids(unit_service("nginx.service"), procs);
    ASSERT_TRUE(pids) << pids.error().message;
    EXPECT_EQ(*pids, (std::vector<pid_t>{640, 641, 642}));
    EXPECT_EQ(main_pid(unit_service("nginx.service"), *pids, procs), 640);

    auto exporter = find_service_pids(unit_service("nginx-exporter.service"), procs);
    ASSERT_TRUE(exporter);
    EXPECT_EQ(*exporter, (std::vector<pid_t>{700}));
    auto v1 = find_service_pids(unit_service("redis.service"), procs);
    ASSERT_TRUE(v1);
    EXPECT_EQ(*v1, (std::vector<pid_t>{800}));
    auto none = find_service_pids(unit_service("absent.service"), procs);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST(ServicesDiscovery, UsageSumsRssCpuAndOpenFilesOverTheUnit) {
    const auto root = fixture_root("cgroup");
    const auto procs = scan_fixture(root);
    auto pids = find_service_pids(unit_service("nginx.service"), procs);
    ASSERT_TRUE(pids);
    const auto u = measure_usage(root, *pids, procs);
    EXPECT_EQ(u.processes, 3u);
    EXPECT_EQ(u.rss_bytes, (8000u + 12000u + 11000u) * 1024u);
    EXPECT_EQ(u.cpu_ticks, 200u + 400u + 250u);
    EXPECT_EQ(u.open_files, std::optional<std::uint64_t>(26));
}

TEST(ServicesDiscovery, CommandLineMatchTakesTheWholeTreeBelowTheMatch) {
    const auto root = fixture_root("cmdline");
    const auto procs = scan_fixture(root);
    const auto svc = match_service("chat-server.py");
    auto pids = find_service_pids(svc, procs);
    ASSERT_TRUE(pids) << pids.error().message;
    EXPECT_EQ(*pids, (std::vector<pid_t>{300, 301, 302}));
    EXPECT_EQ(main_pid(svc, *pids, procs), 300);
    const auto u = measure_usage(root, *pids, procs);
    EXPECT_EQ(u.processes, 3u);
    EXPECT_EQ(u.rss_bytes, (500000u + 2000000u + 3000u) * 1024u);
    EXPECT_EQ(u.cpu_ticks, 1200u + 4100u + 10u);
    EXPECT_EQ(u.open_files, std::optional<std::uint64_t>(23));
}

TEST(ServicesDiscovery, CommandLineMatchNeverFindsTheMonitorItself) {
    const auto procs = scan_fixture(fixture_root("cmdline"));
    auto pids = find_service_pids(match_service("chat-server.py"), procs, /*self=*/300);
    ASSERT_TRUE(pids);
    EXPECT_TRUE(pids->empty());
    auto check = find_service_pids(match_service("chat-server.py"), procs, /*self=*/1,
                                   {"/usr/bin/python3 chat-server.py --port 8080"});
    ASSERT_TRUE(check);
    EXPECT_TRUE(check->empty()) << "the monitor's own command check is not the service";
    auto other_child = find_service_pids(match_service("chat-server.py"), procs, /*self=*/1, {"/bin/true"});
    ASSERT_TRUE(other_child);
    EXPECT_EQ(other_child->size(), 3u) << "other children of the monitor may be the service";
    auto kernel = find_service_pids(match_service("kthreadd"), scan_fixture(fixture_root("cgroup")));
    ASSERT_TRUE(kernel);
    EXPECT_TRUE(kernel->empty()) << "kernel threads have no command line to match";
}

TEST(ServicesDiscovery, PidfileNamesTheMainProcessAndItsChildren) {
    test::TempDir tmp;
    const auto procs = scan_fixture(fixture_root("cmdline"));
    ServiceConfig s;
    s.name = "chat";
    s.pidfile = tmp / "chat.pid";
    test::write_file(s.pidfile, "301\n");
    auto pids = find_service_pids(s, procs);
    ASSERT_TRUE(pids) << pids.error().message;
    EXPECT_EQ(*pids, (std::vector<pid_t>{301, 302}));
    EXPECT_EQ(main_pid(s, *pids, procs), 301);

    test::write_file(s.pidfile, "999\n");
    auto gone = find_service_pids(s, procs);
    ASSERT_TRUE(gone);
    EXPECT_TRUE(gone->empty()) << "a pidfile naming a dead PID means the service is down";
}

TEST(ServicesDiscovery, MissingOrEmptyPidfileIsAnErrorNamingThePath) {
    test::TempDir tmp;
    ServiceConfig s;
    s.name = "chat";
    s.pidfile = tmp / "absent.pid";
    auto missing = find_service_pids(s, {});
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find((tmp / "absent.pid").string()), std::string::npos)
        << missing.error().message;
    test::write_file(tmp / "empty.pid", "\n");
    s.pidfile = tmp / "empty.pid";
    auto empty = find_service_pids(s, {});
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message,
              fmt::format("pidfile {} holds no PID (first line \"\"); the service may be starting",
                          (tmp / "empty.pid").string()));
}

TEST(ServicesDiscovery, MissingProcDirectoryIsAnError) {
    test::TempDir tmp;
    const RootFs root(tmp / "no-proc", tmp / "no-sys");
    auto scanned = scan_processes(root, {});
    EXPECT_FALSE(scanned);
}

}  // namespace
}  // namespace boxmon::collector::services
