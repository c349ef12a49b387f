// The gatherers on real parts: fake commands on PATH (missing, failing, hanging, flooding),
// certificates made with OpenSSL, real directory trees, real log files.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "report/gather.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::report {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A folder of fake programs, used as the children's whole PATH.
class FakeBin {
public:
    void add(const std::string& name, const std::string& script) {
        test::write_file(m_dir / name, "#!/bin/sh\n" + script + "\n", 0755);
    }
    CommandOptions options(std::chrono::milliseconds timeout = 5s) const {
        CommandOptions o;
        o.timeout = timeout;
        o.env = {{"PATH", m_dir.path().string()}, {"LANG", "C.UTF-8"}};
        return o;
    }
    const fs::path& path() const { return m_dir.path(); }

private:
    test::TempDir m_dir;
};

TEST(ReportCommands, a_missing_command_says_so) {
    FakeBin bin;
    auto r = run_command({"nginx", "-t"}, bin.options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
    EXPECT_EQ(r.error().message, "nginx: not found in PATH; install it or configure the command");
}

TEST(ReportCommands, a_failing_command_is_a_result_with_its_output) {
    FakeBin bin;
    bin.add("nginx", "echo 'nginx: [emerg] unknown directive \"lisen\" in /etc/nginx/sites/a:3' >&2; exit 1");
    auto r = run_command({"nginx", "-t"}, bin.options());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->exit_code, 1);
    EXPECT_FALSE(r->timed_out);
    EXPECT_NE(r->err.find("unknown directive"), std::string::npos);
}

TEST(ReportCommands, a_hanging_command_is_killed_at_its_timeout) {
    FakeBin bin;
    bin.add("nft", "exec /bin/sleep 60");
    const auto start = std::chrono::steady_clock::now();
    auto r = run_command({"nft", "list", "ruleset"}, bin.options(300ms));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->timed_out);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(ReportCommands, huge_output_is_capped) {
    FakeBin bin;
    bin.add("iptables", "/usr/bin/yes 'A INPUT -j ACCEPT' | /usr/bin/head -c 20000000");
    CommandOptions o = bin.options(20s);
    o.env["PATH"] = bin.path().string() + ":/usr/bin:/bin";
    o.output_max_bytes = 64 << 10;
    auto r = run_command({"iptables", "-S"}, o);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->truncated);
    EXPECT_LE(r->out.size(), 64u << 10);
}

TEST(ReportFirewall, auto_falls_back_to_iptables_when_nft_is_missing) {
    FakeBin bin;
    bin.add("iptables", "echo '-P INPUT DROP'");
    auto r = gather_firewall("auto", bin.options());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->argv[0], "iptables");
    EXPECT_EQ(r->out, "-P INPUT DROP\n");
}

TEST(ReportFirewall, auto_with_neither_tool_says_which_were_tried) {
    FakeBin bin;
    auto r = gather_firewall("auto", bin.options());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "neither nft nor iptables found in PATH; no firewall rules to show");
}

TEST(ReportFirewall, off_and_unknown_settings) {
    FakeBin bin;
    auto off = gather_firewall("off", bin.options());
    ASSERT_FALSE(off);
    EXPECT_EQ(off.error().message, "off in the configuration (report.firewall)");
    auto bad = gather_firewall("ufw", bin.options());
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().kind, ErrorKind::config);
}

TEST(ReportServices, each_unit_gets_its_state_and_names_cannot_be_options) {
    FakeBin bin;
    // Prints the state a real systemctl would, and proves "--" came before the unit.
    bin.add("systemctl", "[ \"$2\" = \"--\" ] || { echo bad-args; exit 9; }\n"
                         "case \"$3\" in nginx.service) echo active;; chat.service) echo failed; exit 3;;"
                         " *) echo inactive; exit 3;; esac");
    auto r = gather_services({"nginx.service", "chat.service", "--now"}, bin.options());
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].state, "active");
    EXPECT_EQ((*r)[1].state, "failed");
    EXPECT_EQ((*r)[2].state, "inactive");
}

TEST(ReportServices, no_units_and_no_systemctl_say_why) {
    FakeBin bin;
    auto none = gather_services({}, bin.options());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message, "no units configured (report.units, or services with a unit)");
    auto missing = gather_services({"nginx.service"}, bin.options());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "systemctl: not found in PATH; install it or configure the command");
}

TEST(ReportServices, units_default_to_the_services_units) {
    Config c;
    c.services.push_back({});
    c.services.back().unit = "mlx-chat.service";
    c.services.push_back({});
    EXPECT_EQ(report_units(c), std::vector<std::string>{"mlx-chat.service"});
    c.report.units = {"nginx.service"};
    EXPECT_EQ(report_units(c), std::vector<std::string>{"nginx.service"});
}

// A self-signed certificate valid from now+from_days to now+to_days, as PEM.
std::string make_cert(const std::string& cn, long from_days, long to_days) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
    X509_set_version(x.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(x.get()), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(x.get()), to_days * 86400);
    X509_NAME* name = X509_get_subject_name(x.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x.get(), name);
    X509_set_pubkey(x.get(), key.get());
    X509_sign(x.get(), key.get(), EVP_sha256());
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_X509(bio.get(), x.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

TEST(ReportCertificates, valid_expired_and_not_yet_valid_certificates) {
    test::TempDir dir;
    test::write_file(dir / "live/good/cert.pem", make_cert("good.example.org", -10, 30));
    test::write_file(dir / "live/old/cert.pem", make_cert("old.example.org", -100, -3));
    test::write_file(dir / "live/future/cert.pem", make_cert("future.example.org", 5, 100));
    auto r = gather_certificates({(dir / "live/*/cert.pem").string()});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    const WallTime now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    // glob sorts: future, good, old.
    EXPECT_EQ((*r)[1].subject, "CN=good.example.org");
    EXPECT_EQ((*r)[1].issuer, "CN=good.example.org");
    EXPECT_EQ((*r)[1].error, "");
    EXPECT_EQ(days_left(*(*r)[1].not_after, now), 29);
    EXPECT_EQ(days_left(*(*r)[2].not_after, now), -3);
    EXPECT_GT(*(*r)[0].not_before, now);
}

TEST(ReportCertificates, garbage_oversized_and_bundles) {
    test::TempDir dir;
    test::write_file(dir / "garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    {
        std::ofstream big(dir / "big.pem");
        big << std::string((1u << 20) + 1, 'A');
    }
    std::string bundle;
    for (int i = 0; i < 50; ++i) bundle += make_cert("bundle", -1, 10);
    test::write_file(dir / "bundle.pem", bundle);
    EXPECT_EQ(read_certificate(dir / "garbage.pem").error, "not a certificate: no PEM or DER certificate found");
    EXPECT_EQ(read_certificate(dir / "big.pem").error, "skipped: larger than 1 MiB");
    auto b = read_certificate(dir / "bundle.pem");
    EXPECT_EQ(b.error, "");
    EXPECT_EQ(b.certificates_in_file, 50u);
    EXPECT_NE(read_certificate(dir / "absent.pem").error.find("cannot read"), std::string::npos);
}

TEST(ReportCertificates, private_key_files_are_never_opened) {
    test::TempDir dir;
    // A FIFO named like a key: opening it for reading would block this test forever.
    ASSERT_EQ(::mkfifo((dir / "privkey.pem").c_str(), 0600), 0);
    auto r = gather_certificates({(dir / "*.pem").string()});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].error, "skipped: looks like a private key file (not opened)");
    // A key under an innocent name is read but only said to be a key.
    test::write_file(dir / "cert.pem", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n");
    EXPECT_EQ(read_certificate(dir / "cert.pem").error, "not a certificate: the file holds a private key (not shown)");
}

TEST(ReportCertificates, no_match_and_file_limit) {
    test::TempDir dir;
    auto none = gather_certificates({(dir / "*.pem").string()});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message, "no certificate files match " + (dir / "*.pem").string());
    for (int i = 0; i < 5; ++i) test::write_file(dir / ("c" + std::to_string(i) + ".pem"), "x");
    auto limited = gather_certificates({(dir / "*.pem").string()}, 3);
    ASSERT_TRUE(limited);
    ASSERT_EQ(limited->size(), 4u);
    EXPECT_EQ(limited->back().error, "2 more files not read (limit 3)");
}

TEST(ReportSizes, sums_a_tree_without_following_symlinks) {
    test::TempDir dir;
    test::write_file(dir / "models/a.bin", std::string(100'000, 'x'));
    test::write_file(dir / "models/sub/b.bin", std::string(50'000, 'y'));
    fs::create_directory_symlink("/usr", dir / "models/usr-link");
    fs::create_directory_symlink(dir / "models", dir / "models/sub/loop");
    auto r = gather_path_sizes({dir / "models", dir / "missing"});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].files, 4u);  // two files, two symlinks (counted, not followed)
    EXPECT_GE((*r)[0].bytes, 150'000u);
    EXPECT_LT((*r)[0].bytes, 1'000'000u);
    EXPECT_EQ((*r)[0].note, "");
    EXPECT_EQ((*r)[1].note, "cannot read: No such file or directory");
}

TEST(ReportSizes, stops_at_the_entry_limit_and_says_partial) {
    test::TempDir dir;
    for (int i = 0; i < 20; ++i) test::write_file(dir / "t" / ("f" + std::to_string(i)), "x");
    auto r = gather_path_sizes({dir / "t"}, 10s, 5);
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)[0].note, "partial: stopped after 5 entries");
    EXPECT_LE((*r)[0].files, 5u);
    auto none = gather_path_sizes({});
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().message, "no paths configured (report.paths)");
}

TEST(ReportLogs, tails_are_redacted_and_unknown_names_say_so) {
    test::TempDir dir;
    test::write_file(dir / "chat.log", "started\nPOST /v1 Authorization: Bearer sk-abcdefghijklmnopqrstuvwx\npassword=hunter2\n");
    Config c;
    c.logs.push_back({"chat", dir / "chat.log", "", 20});
    auto r = gather_logs(c, {"chat", "nope"});
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    const LogTail& chat = (*r)[0];
    ASSERT_EQ(chat.lines.size(), 3u) << chat.note;
    EXPECT_EQ(chat.lines[0], "started");
    for (const auto& line : chat.lines) {
        EXPECT_EQ(line.find("sk-abcdefghijklmnopqrstuvwx"), std::string::npos) << line;
        EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    }
    EXPECT_NE(chat.lines[2].find("[REDACTED]"), std::string::npos);
    EXPECT_EQ((*r)[1].note, "no such log under [logs]; check report.logs");
    auto none = gather_logs(c, {});
    ASSERT_FALSE(none);
}

}  // namespace
}  // namespace boxmon::report
