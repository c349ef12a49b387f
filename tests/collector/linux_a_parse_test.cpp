// Table tests for the pure /proc parsers of collector/linux (part A): real captures, then empty,
// truncated, malformed and extra-field inputs, each with the exact message expected.

#include "collector/linux/parse_proc.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/test_support.hpp"

namespace boxmon::collector::kernel {
namespace {

using boxmon::test::fixtures_dir;
using boxmon::test::read_file;

std::string fixture(const std::string& rel) { return read_file(fixtures_dir() / "linux" / rel); }

// ---- /proc/stat ----

TEST(ProcStat, parses_the_captured_vm) {
    auto s = parse_proc_stat(fixture("vm-debian12/t0/proc/stat"));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->all.user, 886u);
    EXPECT_EQ(s->all.system, 765u);
    EXPECT_EQ(s->all.idle, 26098u);
    EXPECT_EQ(s->all.iowait, 2323u);
    EXPECT_EQ(s->all.fields, 10);
    EXPECT_EQ(s->all.total(), 886u + 765 + 26098 + 2323 + 11 + 8);
    ASSERT_EQ(s->cpus.size(), 2u);
    EXPECT_EQ(s->cpus[1].cpu, 1u);
    EXPECT_EQ(s->cpus[1].times.user, 628u);
    EXPECT_EQ(s->problem, "");
}

TEST(ProcStat, reads_96_cpus_and_notices_the_one_that_went_offline) {
    auto t0 = parse_proc_stat(fixture("gpu-server-96c/t0/proc/stat"));
    auto t1 = parse_proc_stat(fixture("gpu-server-96c/t1/proc/stat"));
    ASSERT_TRUE(t0) << t0.error().message;
    ASSERT_TRUE(t1) << t1.error().message;
    EXPECT_EQ(t0->cpus.size(), 96u);
    ASSERT_EQ(t1->cpus.size(), 95u);
    for (const auto& c : t1->cpus) EXPECT_NE(c.cpu, 57u);
    EXPECT_EQ(t1->cpus.back().cpu, 95u);
}

TEST(ProcStat, leaves_guest_time_out_of_the_total_because_user_already_counts_it) {
    auto s = parse_proc_stat("cpu  100 10 50 800 20 5 5 10 40 4\n");
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->all.guest, 40u);
    EXPECT_EQ(s->all.guest_nice, 4u);
    EXPECT_EQ(s->all.total(), 1000u);
    EXPECT_EQ(s->all.idle_all(), 820u);
}

TEST(ProcStat, reuses_the_buffers_of_a_previous_parse) {
    ProcStat s;
    ASSERT_TRUE(parse_proc_stat(fixture("gpu-server-96c/t0/proc/stat"), s));
    const auto* data = s.cpus.data();
    ASSERT_TRUE(parse_proc_stat(fixture("gpu-server-96c/t1/proc/stat"), s));
    EXPECT_EQ(s.cpus.data(), data);
    EXPECT_EQ(s.cpus.size(), 95u);
}

struct StatCase {
    const char* name;
    const char* text;
    int fields;              // of the aggregate line
    std::uint64_t total;
    std::size_t cpus;
    const char* problem;     // out.problem
};

class ProcStatGood : public testing::TestWithParam<StatCase> {};

TEST_P(ProcStatGood, parses) {
    const auto& c = GetParam();
    auto s = parse_proc_stat(c.text);
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->all.fields, c.fields);
    EXPECT_EQ(s->all.total(), c.total);
    EXPECT_EQ(s->cpus.size(), c.cpus);
    EXPECT_EQ(s->problem, c.problem);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ProcStatGood,
    testing::Values(
        StatCase{"old_kernel_4_columns", "cpu 1 2 3 4\ncpu0 1 2 3 4\n", 4, 10, 1, ""},
        StatCase{"kernel_2_6_7_columns", "cpu 1 2 3 4 5 6 7\n", 7, 28, 0, ""},
        StatCase{"kernel_2_6_11_8_columns", "cpu 1 2 3 4 5 6 7 8\n", 8, 36, 0, ""},
        StatCase{"new_kernel_11_columns", "cpu 1 2 3 4 5 6 7 8 9 10 11\ncpu0 1 2 3 4 5 6 7 8 9 10 11\n", 10, 36, 1, ""},
        StatCase{"no_trailing_newline", "cpu 1 2 3 4 5 6 7 8 0 0", 10, 36, 0, ""},
        StatCase{"tabs_and_crlf", "cpu\t1 2 3 4 5 6 7 8 0 0\r\n", 10, 36, 0, ""},
        StatCase{"other_lines_ignored", "intr 1 2 3\ncpu 1 2 3 4 5 6 7 8 0 0\nctxt 5\nbtime x\n", 10, 36, 0, ""},
        StatCase{"cpu_line_truncated_is_skipped", "cpu 1 2 3 4 5 6 7 8 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\ncpu1 1 2 3 4 5",
                 10, 36, 1, "line 3: \"cpu1\": 5 numbers where the \"cpu\" line has 10"},
        StatCase{"cpu_line_with_word_is_skipped", "cpu 1 2 3 4 5 6 7 8 0 0\ncpu0 1 x 3 4 5 6 7 8 0 0\n", 10, 36, 0,
                 "line 2: \"cpu0\": field 3 \"x\" is not a non-negative integer below 2^64"},
        StatCase{"cpu_number_garbage_is_skipped", "cpu 1 2 3 4 5 6 7 8 0 0\ncpuX 1 2 3 4 5 6 7 8 0 0\n", 10, 36, 0,
                 "line 2: \"cpuX\": not a CPU number"},
        StatCase{"only_first_problem_kept", "cpu 1 2 3 4\ncpu0 1\ncpu1 2\ncpu2 1 2 3 4\n", 4, 10, 1,
                 "line 2: \"cpu0\": 1 numbers where at least 4 (user nice system idle) are needed"},
        StatCase{"cpu_line_before_the_aggregate", "cpu0 1 2 3 4\ncpu 1 2 3 4 5 6 7 8 0 0\ncpu1 1 2 3 4 5 6 7 8 0 0\n", 10, 36, 1,
                 "\"cpu0\": 4 numbers where the \"cpu\" line has 10"},
        StatCase{"sum_past_2_64_saturates", "cpu 18446744073709551615 1 0 0\n", 4, 18446744073709551615u, 0, ""}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(ProcStat, parses_128_cpus) {
    std::string text = "cpu 128 0 0 1280 0 0 0 0 0 0\n";
    for (int i = 0; i < 128; ++i) text += fmt::format("cpu{} 1 0 0 10 0 0 0 0 0 0\n", i);
    auto s = parse_proc_stat(text);
    ASSERT_TRUE(s) << s.error().message;
    ASSERT_EQ(s->cpus.size(), 128u);
    EXPECT_EQ(s->cpus[127].cpu, 127u);
}

struct BadCase {
    const char* name;
    std::string_view text;
    const char* message;
};

class ProcStatBad : public testing::TestWithParam<BadCase> {};

TEST_P(ProcStatBad, is_refused_with_the_reason) {
    auto s = parse_proc_stat(GetParam().text);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ProcStatBad,
    testing::Values(
        BadCase{"empty", "", R"(no aggregate "cpu" line (the file starts ""); is this /proc/stat?)"},
        BadCase{"other_file", "MemTotal: 1 kB\n", R"(no aggregate "cpu" line (the file starts "MemTotal: 1 kB"); is this /proc/stat?)"},
        BadCase{"truncated_aggregate", "cpu 1 2", R"(line 1: cpu: 2 numbers where at least 4 (user nice system idle) are needed)"},
        BadCase{"negative", "cpu 1 -2 3 4\n", R"(line 1: cpu: field 3 "-2" is not a non-negative integer below 2^64)"},
        BadCase{"above_2_64", "cpu 1 2 3 18446744073709551616\n",
                R"(line 1: cpu: field 5 "18446744073709551616" is not a non-negative integer below 2^64)"},
        BadCase{"binary", std::string_view("cpu 1 2\x01 3 4\n"), R"(line 1: cpu: field 3 "2\x01" is not a non-negative integer below 2^64)"},
        BadCase{"two_aggregates", "cpu 1 2 3 4\ncpu 1 2 3 4\n", R"(line 2: a second aggregate "cpu" line)"}),
    [](const auto& tp) { return std::string(tp.param.name); });

// ---- /proc/meminfo ----

TEST(Meminfo, parses_the_captured_vm) {
    auto m = parse_meminfo(fixture("vm-debian12/t0/proc/meminfo"));
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->mem_total, 24684096ull * 1024);
    EXPECT_EQ(m->mem_available, 24396000ull * 1024);
    EXPECT_EQ(m->swap_total, 0u);
    EXPECT_EQ(m->problem, "");
}

TEST(Meminfo, keeps_the_good_fields_of_a_partly_bad_file) {
    auto m = parse_meminfo("MemTotal: 1000 kB\nMemFree: lots kB\nMemAvailable: 500 kB\nSwapTotal: 7 MB\n");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->mem_total, 1024000u);
    EXPECT_EQ(m->mem_available, 512000u);
    EXPECT_FALSE(m->mem_free);
    EXPECT_FALSE(m->swap_total);
    EXPECT_EQ(m->problem, R"(line 2: MemFree: " lots kB" is not a size in kB)");
}

TEST(Meminfo, older_kernel_without_memavailable_leaves_it_absent) {
    auto m = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 1 kB\nCached: 2 kB\n");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_FALSE(m->mem_available);
    EXPECT_EQ(m->cached, 2048u);
}

TEST(Meminfo, ignores_unknown_and_extra_lines) {
    auto m = parse_meminfo("Zswap: 0 kB\nMemTotal:  2 kB\nHugePages_Total: 0\nweird line\nNewField: 1 2 3\n");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(m->mem_total, 2048u);
    EXPECT_EQ(m->problem, "");
}

class MeminfoBad : public testing::TestWithParam<BadCase> {};

TEST_P(MeminfoBad, is_refused_with_the_reason) {
    auto m = parse_meminfo(GetParam().text);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MeminfoBad,
    testing::Values(
        BadCase{"empty", "", R"(no MemTotal line (the file starts ""); is this /proc/meminfo?)"},
        BadCase{"truncated_before_total", "MemTot", R"(no MemTotal line (the file starts "MemTot"); is this /proc/meminfo?)"},
        BadCase{"total_not_a_number", "MemTotal: 12x kB\n", R"(line 1: MemTotal: " 12x kB" is not a size in kB)"},
        BadCase{"total_negative", "MemTotal: -5 kB\n", R"(line 1: MemTotal: " -5 kB" is not a size in kB)"},
        BadCase{"total_overflows_bytes", "MemTotal: 18446744073709551615 kB\n",
                R"(line 1: MemTotal: " 18446744073709551615 kB" is not a size in kB)"},
        BadCase{"total_extra_column", "MemTotal: 1 kB 2\n", R"(line 1: MemTotal: " 1 kB 2" is not a size in kB)"},
        BadCase{"total_zero", "MemTotal: 0 kB\n", "MemTotal is 0"}),
    [](const auto& tp) { return std::string(tp.param.name); });

// ---- /proc/pressure/* ----

TEST(Pressure, parses_some_and_full) {
    auto p = parse_pressure(fixture("gpu-server-96c/t0/proc/pressure/io"));
    ASSERT_TRUE(p) << p.error().message;
    ASSERT_TRUE(p->some);
    ASSERT_TRUE(p->full);
    EXPECT_DOUBLE_EQ(p->some->avg10, 1.60);
    EXPECT_DOUBLE_EQ(p->some->avg300, 1.00);
    EXPECT_EQ(p->some->total, 9'000'000'000u);
    EXPECT_EQ(p->full->total, 4'500'000'000u);
}

TEST(Pressure, cpu_file_of_kernels_before_5_13_has_no_full_line) {
    auto p = parse_pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=12\n");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_FALSE(p->full);
    EXPECT_EQ(p->some->total, 12u);
}

class PressureBad : public testing::TestWithParam<BadCase> {};

TEST_P(PressureBad, is_refused_with_the_reason) {
    auto p = parse_pressure(GetParam().text);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PressureBad,
    testing::Values(
        BadCase{"empty", "", R"(no "some" line (the file starts ""))"},
        BadCase{"only_full", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", R"(no "some" line (the file starts "full avg10=0.00 avg60=0.00 avg300=0.0…"))"},
        BadCase{"truncated", "some avg10=0.00 avg6", R"(line 1: some: "avg6" is not key=value)"},
        BadCase{"unknown_key", "some avg5=1.00 total=1", R"(line 1: some: unknown key "avg5")"},
        BadCase{"no_total", "some avg10=0.00 avg60=0.00 avg300=0.00\n", R"(line 1: some: no total= field)"},
        BadCase{"average_above_100", "some avg10=100.01 total=1\n", R"(line 1: some: avg10="100.01" is not a percentage)"},
        BadCase{"average_nan", "some avg10=nan total=1\n", R"(line 1: some: avg10="nan" is not a percentage)"},
        BadCase{"total_negative", "some total=-1\n", R"(line 1: some: total="-1" is not a non-negative integer below 2^64)"},
        BadCase{"not_key_value", "some 1 2 3\n", R"(line 1: some: "1" is not key=value)"},
        BadCase{"unknown_kind", "half total=1\n", R"(line 1: "half" is neither "some" nor "full")"},
        BadCase{"repeated", "some total=1\nsome total=2\n", R"(line 2: a second "some" line)"}),
    [](const auto& tp) { return std::string(tp.param.name); });

// ---- /proc/loadavg ----

TEST(Loadavg, parses_the_captured_vm) {
    auto l = parse_loadavg(fixture("vm-debian12/t0/proc/loadavg"));
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_DOUBLE_EQ(l->load1, 0.14);
    EXPECT_DOUBLE_EQ(l->load5, 0.13);
    EXPECT_DOUBLE_EQ(l->load15, 0.05);
    EXPECT_EQ(l->running, 1u);
    EXPECT_EQ(l->tasks, 80u);
}

TEST(Loadavg, missing_or_bad_task_counts_are_left_absent) {
    auto l = parse_loadavg("1.00 2.00 3.00\n");
    ASSERT_TRUE(l) << l.error().message;
    EXPECT_FALSE(l->running);
    auto m = parse_loadavg("1.00 2.00 3.00 x/y 1 extra fields\n");
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_FALSE(m->tasks);
    EXPECT_DOUBLE_EQ(m->load15, 3.0);
}

class LoadavgBad : public testing::TestWithParam<BadCase> {};

TEST_P(LoadavgBad, is_refused_with_the_reason) {
    auto l = parse_loadavg(GetParam().text);
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LoadavgBad,
    testing::Values(BadCase{"empty", "", R"(the 1-minute load average is missing (the file is ""))"},
                    BadCase{"truncated", "0.5 0.4", R"(the 15-minute load average is missing (the file is "0.5 0.4"))"},
                    BadCase{"negative", "0.5 -0.4 1", R"(the 5-minute load average "-0.4" is not a non-negative number)"},
                    BadCase{"word", "high 0.4 1", R"(the 1-minute load average "high" is not a non-negative number)"},
                    BadCase{"infinite", "inf 0.4 1", R"(the 1-minute load average "inf" is not a non-negative number)"},
                    BadCase{"huge", "1e999 0.4 1", R"(the 1-minute load average "1e999" is not a non-negative number)"}),
    [](const auto& tp) { return std::string(tp.param.name); });

// ---- /proc/uptime ----

TEST(Uptime, parses_the_captured_vm) {
    auto u = parse_uptime(fixture("vm-debian12/t0/proc/uptime"));
    ASSERT_TRUE(u) << u.error().message;
    EXPECT_DOUBLE_EQ(u->uptime_seconds, 151.51);
    EXPECT_DOUBLE_EQ(u->idle_seconds.value_or(-1), 260.99);
}

class UptimeBad : public testing::TestWithParam<BadCase> {};

TEST_P(UptimeBad, is_refused_with_the_reason) {
    auto u = parse_uptime(GetParam().text);
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UptimeBad,
    testing::Values(BadCase{"empty", "", R"(empty; expected "<seconds since boot> <idle seconds>")"},
                    BadCase{"blank_line", "\n5 6", R"(empty; expected "<seconds since boot> <idle seconds>")"},
                    BadCase{"negative", "-5 6", R"(the uptime "-5" is not a non-negative number of seconds)"},
                    BadCase{"word", "up 6", R"(the uptime "up" is not a non-negative number of seconds)"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(Numbers, parse_u64_refuses_signs_spaces_and_overflow) {
    EXPECT_EQ(parse_u64("18446744073709551615"), 18446744073709551615u);
    EXPECT_FALSE(parse_u64("18446744073709551616"));
    EXPECT_FALSE(parse_u64("+1"));
    EXPECT_FALSE(parse_u64(" 1"));
    EXPECT_FALSE(parse_u64("1 "));
    EXPECT_FALSE(parse_u64(""));
    EXPECT_EQ(parse_i64("-42"), -42);
    EXPECT_FALSE(parse_double("1e5"));
    EXPECT_EQ(parse_double("12.5"), 12.5);
}

}  // namespace
}  // namespace boxmon::collector::kernel
