// Bad configuration through the real executable (RELIABILITY B1-B5, X1): every file under
// tests/fixtures/config/bad makes `config check`, `sample` and `run` exit 2 with the loader's
// message at file:line:col, and none of them touches the state directory.
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

test::RunOptions with_timeout() {
    test::RunOptions o;
    o.timeout = 30s;
    return o;
}

// The expected message names the file as the loader was given it ("case.toml:5:1: ..."); the
// executable was given the full path.
std::vector<std::string> expected_lines(const fs::path& toml) {
    fs::path expected_path = toml;
    expected_path.replace_extension(".expected");
    const std::string name = toml.filename().string();
    std::vector<std::string> out;
    std::string text = test::read_file(expected_path);
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (line.starts_with(name)) line = toml.string() + line.substr(name.size());
        if (!line.empty()) out.push_back(line);
        start = end + 1;
    }
    return out;
}

TEST(ConfigCli, every_bad_file_exits_2_with_its_message_and_creates_no_state) {
    const fs::path dir = test::fixtures_dir() / "config" / "bad";
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".toml") continue;
        ++cases;
        const std::string name = entry.path().filename().string();
        const auto want = expected_lines(entry.path());
        ASSERT_FALSE(want.empty()) << "no expected message for " << name;
        test::TempDir state;
        for (const char* command : {"check", "sample", "run"}) {
            std::vector<std::string> args = {"--config", entry.path().string(), "--state-dir",
                                             (state / "state").string()};
            if (std::string_view(command) == "check") args.push_back("config");
            args.push_back(command);
            const auto r = test::run_boxmon(args, with_timeout());
            EXPECT_EQ(r.exit_code, 2) << name << " " << command << ":\n" << r.err;
            for (const auto& line : want)
                EXPECT_NE(r.err.find(line), std::string::npos)
                    << name << " " << command << ": missing\n  " << line << "\nin\n" << r.err;
            EXPECT_TRUE(r.out.empty()) << name << " " << command << " printed on stdout: " << r.out;
            EXPECT_FALSE(fs::exists(state / "state")) << name << " " << command << " created the state directory";
        }
    }
    EXPECT_GE(cases, 30);
}

// X1: a secret file others can read is refused before anything runs, and says the fix.
TEST(ConfigCli, a_secret_file_others_can_read_exits_2_naming_the_file_its_mode_and_the_fix) {
    test::TempDir dir;
    const fs::path secret = dir / "smtp-password";
    test::write_file(secret, "hunter2\n", 0644);
    const fs::path config = dir / "boxmon.toml";
    test::write_file(config,
                     "[[channels]]\nname = \"mail\"\ntype = \"smtp\"\nurl = \"smtp://127.0.0.1:2525\"\n"
                     "starttls = \"off\"\nfrom = \"boxmon@example.org\"\nto = [\"ops@example.org\"]\n"
                     "username = \"boxmon\"\npassword_file = \"" + secret.string() + "\"\n",
                     0600);
    for (const char* command : {"check", "sample"}) {
        std::vector<std::string> args = {"--config", config.string(), "--state-dir", (dir / "state").string()};
        if (std::string_view(command) == "check") args.push_back("config");
        args.push_back(command);
        const auto r = test::run_boxmon(args, with_timeout());
        EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
        EXPECT_NE(r.err.find(config.string() + ":9:17: channels[0].password_file: secret file " + secret.string() +
                             " can be read by others (mode 0644"),
                  std::string::npos)
            << r.err;
        EXPECT_NE(r.err.find("chmod 600 " + secret.string()), std::string::npos) << r.err;
        EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << "the secret was printed";
        EXPECT_FALSE(fs::exists(dir / "state"));
    }
    // Once only its owner can read it, the same file is fine.
    ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);
    const auto ok = test::run_boxmon({"--config", config.string(), "--state-dir", (dir / "state").string(), "config",
                                      "check"},
                                     with_timeout());
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out, config.string() + ": ok (6 rules, 1 channel, 0 services, 0 logs)\n");
}

}  // namespace
}  // namespace boxmon
