// C6: power-loss simulation at the file level. A fault VFS makes the machine "stop" at a random
// write and then undoes every write that was not synced; the database must pass
// integrity_check and hold every tick whose commit returned, and no partial tick.

#include <gtest/gtest.h>

#include <random>

#include "crash_vfs.hpp"
#include "store/store.hpp"
#include "store_test_util.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon::store {
namespace {

namespace fs = std::filesystem;
using test::make_tick;
using test::options_for;
using test::sql_text;

// synchronous=FULL in WAL mode syncs the WAL at every commit (NORMAL would not).
TEST(StoreCrash, EveryCommitSyncsTheWal) {
    boxmon::test::TempDir dir;
    test::CrashVfs vfs;
    auto s = Store::open(options_for(dir / "boxmon.db"));
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(sql_text(dir / "boxmon.db", "PRAGMA journal_mode"), "wal");
    for (int i = 0; i < 5; ++i) {
        const auto before = vfs.syncs();
        ASSERT_TRUE((*s)->commit_tick(make_tick(i)));
        EXPECT_GE(vfs.syncs(), before + 1) << "tick " << i << " returned before an fsync";
    }
}

TEST(StoreCrash, PowerCutAtRandomWritesKeepsEveryCommittedTickAndNoPartialOne) {
    boxmon::test::TempDir dir;
    const fs::path db = dir / "boxmon.db";
    test::CrashVfs vfs;
    std::mt19937 rng(6);
    // A tick writes two or three WAL frames; a fold a few dozen more.
    std::uniform_int_distribution<int> crash_after(1, 60);
    std::uniform_int_distribution<int> ticks_per_round(1, 12);
    std::vector<int> committed;
    int next = 0;
    int crashes = 0;
    int folded = 0;
    constexpr int kRounds = 300;
    for (int round = 0; round < kRounds; ++round) {
        vfs.crash_at_write(static_cast<std::uint64_t>(crash_after(rng)));
        {
            auto s = Store::open(options_for(db));
            if (s) {
                ASSERT_FALSE((*s)->open_report().moved_aside.has_value())
                    << "round " << round << ": judged corrupt after a power cut: "
                    << (*s)->open_report().corruption;
                const int n = ticks_per_round(rng);
                for (int i = 0; i < n; ++i) {
                    const TickWrite t = make_tick(next, 5);
                    if (!(*s)->commit_tick(t)) break;
                    committed.push_back(next++);
                    // Folds each completed hour of ticks into chunk rows, as the daemon does.
                    if (!(*s)->maintenance_step(t.sample.ts)) break;
                }
            } else {
                ASSERT_TRUE(vfs.crashed()) << "round " << round << ": " << s.error().message;
            }
        }
        crashes += vfs.crashed();
        vfs.power_cut();
        ASSERT_EQ(sql_text(db, "PRAGMA integrity_check"), "ok") << "round " << round;
        // Every committed tick is there. One more may be: a commit that reached the disk
        // before the failure surfaced; it is written again (idempotently) next round.
        const std::int64_t last_ms = to_unix_ms(make_tick(next).sample.ts);
        ASSERT_EQ(sql_text(db, "SELECT count(*) FROM ticks WHERE ts < " + std::to_string(last_ms)),
                  std::to_string(committed.size())) << "round " << round;
        const int stored = std::stoi(sql_text(db, "SELECT count(*) FROM ticks"));
        ASSERT_LE(stored, static_cast<int>(committed.size()) + 1) << "round " << round;
        ASSERT_EQ(sql_text(db, "SELECT count(*) FROM samples"), std::to_string(stored * 5))
            << "round " << round << ": a partial tick";
        // (No table yet when the power went in the middle of the first migration.)
        const std::string chunks = sql_text(db, "SELECT count(*) FROM sample_chunks");
        if (chunks.rfind("ERROR", 0) != 0) folded = std::max(folded, std::stoi(chunks));
    }
    EXPECT_GE(crashes, kRounds / 2) << "the crash point was rarely reached; little was tested";
    EXPECT_GT(committed.size(), 50u);
    EXPECT_GT(folded, 0) << "no hour was ever folded into chunks; folding was not tested";
}

}  // namespace
}  // namespace boxmon::store
