#include "core/config_load.hpp"
#include "core/fs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::write_file;

// Each tests/fixtures/config/bad/<case>.toml has <case>.expected beside it: the exact message.
// BOXMON_BLESS=1 rewrites the .expected files from the current output (review the diff).
TEST(ConfigBadCases, each_file_gives_its_exact_message_and_kind_config) {
    const fs::path dir = test::fixtures_dir() / "config" / "bad";
    const bool bless = std::getenv("BOXMON_BLESS") != nullptr;
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".toml") continue;
        ++cases;
        const std::string name = entry.path().filename().string();
        auto r = parse_config(test::read_file(entry.path()), name);
        ASSERT_FALSE(r) << name << " loaded but should have failed";
        EXPECT_EQ(r.error().kind, ErrorKind::config) << name;
        fs::path expected_path = entry.path();
        expected_path.replace_extension(".expected");
        if (bless) {
            write_file(expected_path, r.error().message + "\n");
            continue;
        }
        ASSERT_TRUE(fs::exists(expected_path)) << "missing " << expected_path;
        std::string expected = test::read_file(expected_path);
        if (!expected.empty() && expected.back() == '\n') expected.pop_back();
        EXPECT_EQ(r.error().message, expected) << "case " << name;
    }
    EXPECT_GE(cases, 30);
}

TEST(ConfigGoodCases, load_without_errors) {
    for (const char* name : {"full.toml", "bom.toml", "crlf.toml"}) {
        const fs::path path = test::fixtures_dir() / "config" / "good" / name;
        auto r = parse_config(test::read_file(path), name);
        ASSERT_TRUE(r) << name << ": " << r.error().message;
        EXPECT_TRUE(r->warnings.empty()) << name << ": " << r->warnings.front();
    }
}

TEST(ConfigGoodCases, bom_and_crlf_files_are_read_like_plain_ones) {
    for (const char* name : {"bom.toml", "crlf.toml"}) {
        auto r = parse_config(test::read_file(test::fixtures_dir() / "config" / "good" / name), name);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->config.general.interval, std::chrono::seconds(30)) << name;
    }
}

TEST(ConfigDefaults, reproduce_the_operators_plan) {
    const Config c = default_config();
    EXPECT_EQ(c.general.interval, std::chrono::seconds(60));
    ASSERT_EQ(c.rules.size(), 6u);
    const auto* cpu = c.rule("cpu_high");
    ASSERT_NE(cpu, nullptr);
    EXPECT_EQ(cpu->metric, "cpu_percent");
    EXPECT_EQ(cpu->op, ">");
    EXPECT_EQ(cpu->critical, 90.0);
    EXPECT_EQ(cpu->for_samples, 3);
    EXPECT_EQ(cpu->cooldown, std::chrono::minutes(30));
    EXPECT_EQ(c.rule("memory_high")->metric, "mem_used_percent");
    EXPECT_EQ(c.rule("disk_full")->metric, "disk_used_percent");
    EXPECT_TRUE(c.rule("disk_full")->labels.empty()) << "every mount separately";
    // 800 Mbit/s in bytes per second, on the all-interfaces total.
    EXPECT_EQ(c.rule("net_rx_high")->critical, 100'000'000.0);
    EXPECT_EQ(c.rule("net_tx_high")->critical, 100'000'000.0);
    EXPECT_EQ(c.rule("net_rx_high")->labels, (std::vector<Label>{{"iface", ""}}));
    // A GPU its driver calls lost, or NVML stuck, is an incident (RELIABILITY K10).
    const auto* gpu = c.rule("gpu_lost");
    ASSERT_NE(gpu, nullptr);
    EXPECT_EQ(gpu->metric, "gpu_up");
    EXPECT_EQ(gpu->op, "<");
    EXPECT_EQ(gpu->critical, 1.0);
    EXPECT_TRUE(gpu->absent) << "a GPU that vanishes is an incident too";
    EXPECT_EQ(c.storage.retention_raw, std::chrono::hours(24 * 30));
    EXPECT_EQ(c.storage.retention_5m, std::chrono::hours(24 * 180));
    EXPECT_EQ(c.storage.retention_1h, std::chrono::hours(24 * 730));
}

TEST(ConfigRules, a_user_rule_replaces_the_built_in_rule_of_the_same_name) {
    auto r = parse_config("[[rules]]\nname = \"cpu_high\"\nmetric = \"cpu_percent\"\ncritical = 97\n", "t.toml");
    ASSERT_TRUE(r) << r.error().message;
    int count = 0;
    for (const auto& rule : r->config.rules) count += rule.name == "cpu_high";
    EXPECT_EQ(count, 1);
    EXPECT_EQ(r->config.rule("cpu_high")->critical, 97.0);
    EXPECT_FALSE(r->config.rule("cpu_high")->builtin);
    EXPECT_EQ(r->config.rules.size(), 6u);
}

TEST(ConfigRules, builtin_rules_can_be_switched_off) {
    auto r = parse_config("[rule_defaults]\nbuiltin = false\n", "t.toml");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->config.rules.empty());
}

TEST(ConfigRules, services_bring_their_own_rules) {
    auto r = parse_config(test::read_file(test::fixtures_dir() / "config" / "good" / "full.toml"), "full.toml");
    ASSERT_TRUE(r) << r.error().message;
    const auto* down = r->config.rule("service_down.chat");
    ASSERT_NE(down, nullptr);
    EXPECT_EQ(down->metric, "service_up");
    EXPECT_EQ(down->critical, 1.0);
    EXPECT_EQ(down->op, "<");
    EXPECT_EQ(down->logs, std::vector<std::string>{"chat"});
    EXPECT_NE(r->config.rule("check_failed.chat.http0"), nullptr);
    EXPECT_NE(r->config.rule("check_failed.chat.port"), nullptr);
    const auto* mem = r->config.rule("service_memory.chat");
    ASSERT_NE(mem, nullptr);
    EXPECT_EQ(mem->warning, 24.0 * (1ull << 30));
    EXPECT_EQ(r->config.rule("service_memory.embed"), nullptr);
}

TEST(ConfigLimits, too_many_rules_are_refused_with_the_limit) {
    std::string text;
    for (std::size_t i = 0; i <= k_max_rules; ++i)
        text += fmt::format("[[rules]]\nname = \"r{}\"\nmetric = \"cpu_percent\"\ncritical = 90\n", i);
    auto r = parse_config(text, "many.toml");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "many.toml:1:1: rules: 10001 rules exceed the limit of 10000");
}

TEST(ConfigLimits, two_thousand_rules_load_quickly_enough_to_check) {
    std::string text;
    for (int i = 0; i < 2000; ++i)
        text += fmt::format("[[rules]]\nname = \"r{}\"\nmetric = \"disk_used_percent\"\nlabels = {{ mount = \"/m{}\" }}\n"
                            "warning = 80\ncritical = 90\n",
                            i, i);
    auto r = parse_config(text, "many.toml");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->config.rules.size(), 2006u);
}

TEST(ConfigLimits, deeply_nested_arrays_are_an_error_not_a_crash) {
    const std::string text = "x = " + std::string(10'000, '[') + std::string(10'000, ']') + "\n";
    auto r = parse_config(text, "deep.toml");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("deep.toml:1:"), std::string::npos) << r.error().message;
}

TEST(ConfigFile, a_file_over_one_mebibyte_is_refused_before_parsing) {
    TempDir d;
    write_file(d / "big.toml", "# " + std::string(2u << 20, 'x') + "\n", 0600);
    auto r = load_config(d / "big.toml");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "config file " + (d / "big.toml").string() + " is larger than 1048576 bytes; refusing to parse it");
}

TEST(ConfigFile, a_device_is_refused_without_reading_it) {
    auto r = load_config(fs::path("/dev/zero"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "config file /dev/zero is not a regular file; point --config at a file");
    EXPECT_EQ(r.error().kind, ErrorKind::config);
}

TEST(ConfigFile, a_world_writable_file_is_refused) {
    TempDir d;
    write_file(d / "boxmon.toml", "", 0666);
    auto r = load_config(d / "boxmon.toml");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("is writable by anyone (mode 0666"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("run `chmod o-w "), std::string::npos);
}

TEST(ConfigFile, a_file_in_a_world_writable_directory_is_refused) {
    TempDir d;
    fs::create_directory(d / "open");
    ::chmod((d / "open").c_str(), 0777);
    write_file(d / "open" / "boxmon.toml", "", 0644);
    auto r = load_config(d / "open" / "boxmon.toml");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("is writable by anyone (mode 0777"), std::string::npos) << r.error().message;
}

TEST(ConfigFile, secrets_in_a_readable_file_bring_a_warning) {
    TempDir d;
    write_file(d / "boxmon.toml",
               "[[channels]]\nname = \"s\"\ntype = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/canary-token\"\n",
               0644);
    auto r = load_config(d / "boxmon.toml");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_NE(r->warnings[0].find("holds secrets"), std::string::npos);
    EXPECT_EQ(r->warnings[0].find("canary-token"), std::string::npos);
}

TEST(ConfigFile, a_private_file_with_secrets_loads_quietly) {
    TempDir d;
    write_file(d / "boxmon.toml",
               "[[channels]]\nname = \"s\"\ntype = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/x\"\n", 0600);
    auto r = load_config(d / "boxmon.toml");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->warnings.empty());
}

TEST(ConfigSecrets, a_password_file_others_can_read_is_refused_with_position) {
    TempDir d;
    write_file(d / "pw", "hunter2", 0644);
    const std::string text = fmt::format(
        "[[channels]]\nname = \"m\"\ntype = \"smtp\"\nurl = \"smtps://mail.example.org\"\nfrom = \"a@example.org\"\n"
        "to = [\"b@example.org\"]\nusername = \"u\"\npassword_file = \"{}\"\n",
        (d / "pw").string());
    auto r = parse_config(text, "boxmon.toml");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              fmt::format("boxmon.toml:8:17: channels[0].password_file: secret file {} can be read by others ({}); "
                          "run `chmod 600 {}`",
                          (d / "pw").string(), describe_mode_owner(0100644, ::geteuid(), ::getegid()),
                          (d / "pw").string()));
}

TEST(ConfigSecrets, env_secrets_work_but_warn_about_systemd) {
    ::setenv("BOXMON_TEST_HOOK", "https://hooks.example.org/canary", 1);
    auto r = parse_config("[[channels]]\nname = \"h\"\ntype = \"webhook\"\nurl_env = \"BOXMON_TEST_HOOK\"\n", "t.toml");
    ::unsetenv("BOXMON_TEST_HOOK");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->config.channels[0].url.value.reveal(), "https://hooks.example.org/canary");
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_NE(r->warnings[0].find("LoadCredential="), std::string::npos);
}

TEST(ConfigSecrets, credentials_come_from_the_systemd_credentials_directory) {
    TempDir d;
    write_file(d / "smtp_password", "from-credential\n", 0400);
    ::setenv("CREDENTIALS_DIRECTORY", d.path().c_str(), 1);
    auto r = parse_config(
        "[[channels]]\nname = \"m\"\ntype = \"smtp\"\nurl = \"smtps://mail.example.org\"\nfrom = \"a@example.org\"\n"
        "to = [\"b@example.org\"]\nusername = \"u\"\npassword_credential = \"smtp_password\"\n",
        "t.toml");
    ::unsetenv("CREDENTIALS_DIRECTORY");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->config.channels[0].password.value.reveal(), "from-credential");
}

TEST(ConfigShow, masks_every_secret_and_round_trips) {
    TempDir d;
    write_file(d / "pw", "canary-password", 0600);
    const std::string text = fmt::format(
        "[[channels]]\nname = \"m\"\ntype = \"smtp\"\nurl = \"smtps://canary-user@mail.example.org\"\n"
        "from = \"a@example.org\"\nto = [\"b@example.org\"]\nusername = \"u\"\npassword_file = \"{}\"\n"
        "[[channels]]\nname = \"h\"\ntype = \"webhook\"\nurl = \"https://hooks.example.org/canary-token\"\n"
        "headers = {{ Authorization = \"Bearer canary-bearer\" }}\n"
        "[heartbeat]\nurl = \"https://hc.example.org/canary-ping\"\n",
        (d / "pw").string());
    auto r = parse_config(text, "t.toml");
    ASSERT_TRUE(r) << r.error().message;
    const std::string shown = render_config(r->config);
    EXPECT_EQ(shown.find("canary"), std::string::npos) << shown;
    EXPECT_NE(shown.find("<secret>"), std::string::npos);
    EXPECT_NE(shown.find("password_file = '" + (d / "pw").string() + "'"), std::string::npos) << shown;
    // What `config show` prints is itself a valid configuration with the same effect.
    auto again = parse_config(render_config(default_config()), "shown.toml");
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(render_config(again->config), render_config(default_config()));
}

TEST(ConfigSearch, an_explicit_file_that_does_not_exist_is_an_error) {
    auto r = find_config_file(fs::path("/nonexistent/boxmon.toml"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "config file /nonexistent/boxmon.toml (from --config) does not exist; check the path");
    EXPECT_EQ(r.error().kind, ErrorKind::config);
}

TEST(ConfigSearch, the_environment_variable_comes_before_the_system_file) {
    TempDir d;
    write_file(d / "env.toml", "", 0600);
    ::setenv("BOXMON_CONFIG", (d / "env.toml").c_str(), 1);
    auto r = find_config_file(std::nullopt);
    ::unsetenv("BOXMON_CONFIG");
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ(**r, d / "env.toml");
}

TEST(ConfigSearch, systemds_state_directory_comes_first) {
    ::setenv("STATE_DIRECTORY", "/var/lib/boxmon:/var/lib/other", 1);
    EXPECT_EQ(default_state_dir(), "/var/lib/boxmon");
    ::setenv("STATE_DIRECTORY", "relative/dir", 1);  // not what systemd sets: ignored
    EXPECT_NE(default_state_dir(), "relative/dir");
    ::unsetenv("STATE_DIRECTORY");
}

TEST(ConfigSearch, state_directory_defaults_depend_on_the_user) {
    ::unsetenv("STATE_DIRECTORY");
    if (::geteuid() == 0) {
        EXPECT_EQ(default_state_dir(), "/var/lib/boxmon");
    } else {
        ::setenv("XDG_STATE_HOME", "/tmp/xdg-state", 1);
        EXPECT_EQ(default_state_dir(), "/tmp/xdg-state/boxmon");
    }
}

}  // namespace
}  // namespace boxmon
