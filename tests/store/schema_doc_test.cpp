// docs/SCHEMA.md promises queries a user can paste into the sqlite3 shell: every ```sql block
// there runs with the stock shell against a database the store wrote, without an error and
// with rows to show.

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "store/store.hpp"
#include "store_test_util.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::store {
namespace {

namespace fs = std::filesystem;
using boxmon::test::TempDir;
using test::open_ok;
using test::options_for;
using std::chrono::minutes;

std::optional<std::string> sqlite3_shell() {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
        const fs::path p = fs::path(dir) / "sqlite3";
        if (::access(p.c_str(), X_OK) == 0) return p.string();
    }
    return std::nullopt;
}

// The ```sql blocks of a Markdown file, in order.
std::vector<std::string> sql_blocks(const std::string& markdown) {
    std::vector<std::string> out;
    const std::string open = "```sql\n";
    std::size_t at = 0;
    while ((at = markdown.find(open, at)) != std::string::npos) {
        const std::size_t start = at + open.size();
        const std::size_t end = markdown.find("\n```", start);
        if (end == std::string::npos) break;
        out.push_back(markdown.substr(start, end - start + 1));
        at = end + 4;
    }
    return out;
}

// Three hours of ticks ending now, maintained as the daemon does, with a failed collector, an
// open incident and a pending notification: something for every documented query to show.
void write_history(const fs::path& db) {
    StoreOptions o = options_for(db);
    o.unsafe_no_sync = true;
    auto store = open_ok(o);
    ASSERT_TRUE(store);
    const WallTime now = std::chrono::floor<minutes>(std::chrono::system_clock::now());
    for (int i = 180; i >= 0; --i) {
        TickWrite t;
        t.sample.ts = now - minutes(i);
        t.sample.add(SeriesKey("cpu_percent"), 10.0 + i % 7);
        t.sample.add(SeriesKey("disk_used_percent", {{"mount", "/"}}), 55.5 + i * 0.01);
        t.sample.add(SeriesKey("disk_used_percent", {{"mount", "/boot"}}), 20.25);
        t.sample.collectors.push_back({"cpu", true, std::chrono::microseconds(5), ""});
        if (i == 30) t.sample.collectors.push_back({"gpu_nvidia", false, {}, "NVML: GPU is lost"});
        if (i == 10) {
            Incident inc;
            inc.id = "inc-1";
            inc.rule = "cpu_high";
            inc.series = SeriesKey("cpu_percent");
            inc.severity = inc.peak_severity = Severity::warning;
            inc.start = t.sample.ts;
            inc.peak_value = inc.last_value = 16;
            t.incidents.push_back(inc);
            OutboxItem item;
            item.channel = "ops";
            item.incident_id = "inc-1";
            item.idempotency_key = "inc-1#1";
            item.kind = "firing";
            item.payload = "{}";
            item.created = t.sample.ts;
            t.outbox.push_back(item);
        }
        auto r = store->commit_tick(t);
        ASSERT_TRUE(r) << r.error().message;
        auto m = store->maintenance_step(t.sample.ts);
        ASSERT_TRUE(m) << m.error().message;
    }
}

TEST(SchemaDoc, EveryDocumentedQueryRunsInTheSqlite3ShellAndShowsRows) {
    const auto shell = sqlite3_shell();
    if (!shell) GTEST_SKIP() << "no sqlite3 shell installed (scripts/install-deps.sh --test installs it)";
    TempDir dir;
    const fs::path db = dir / "boxmon.db";
    ASSERT_NO_FATAL_FAILURE(write_history(db));
    ASSERT_NE(test::sql_text(db, "SELECT count(*) FROM sample_chunks"), "0") << "both raw tables in use";
    ASSERT_NE(test::sql_text(db, "SELECT count(*) FROM recent_samples"), "0");

    const auto blocks = sql_blocks(boxmon::test::read_file(boxmon::test::source_dir() / "docs/SCHEMA.md"));
    ASSERT_GE(blocks.size(), 6u) << "docs/SCHEMA.md lost its queries";
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const fs::path file = dir / ("query" + std::to_string(i) + ".sql");
        boxmon::test::write_file(file, blocks[i]);
        // -readonly as the page advises; -bail stops at the first error.
        auto r = boxmon::test::run_process({*shell, "-readonly", "-bail", "-batch", db.string(), ".read " + file.string()});
        EXPECT_EQ(r.exit_code, 0) << blocks[i] << r.err;
        EXPECT_EQ(r.err, "") << blocks[i];
        EXPECT_NE(r.out, "") << "no rows from:\n" << blocks[i];
        if (blocks[i].find("- 3600) * 1000") != std::string::npos) {
            // The last hour of a 1-minute series: about 60 rows (the minute may turn meanwhile).
            const auto lines = std::count(r.out.begin(), r.out.end(), '\n');
            EXPECT_GE(lines, 58) << r.out;
            EXPECT_LE(lines, 61) << r.out;
        }
    }
}

}  // namespace
}  // namespace boxmon::store
