// Table tests for the pure parsers of part B: /proc/net/dev, /proc/self/mountinfo,
// /proc/diskstats and the statvfs.txt capture, plus the choice of real mounts.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "collector/linux/mounts.hpp"
#include "collector/linux/parse_diskstats.hpp"
#include "collector/linux/parse_net.hpp"

namespace boxmon::collector::kernel {
namespace {

const std::string k_net_header =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
    "carrier compressed\n";

// ---- /proc/net/dev ----------------------------------------------------------------------------

TEST(ParseNetDev, ReadsEveryInterfaceWithItsCounters) {
    const auto r = parse_net_dev(k_net_header +
                                 "    lo:    3467      33    0    0    0     0          0         0     3467      33    0    0    0     0       0          0\n"
                                 "  eth0: 18448467     501    2    3    0     0          0         0    24908     306    4    5    0     0       0          0\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->interfaces.size(), 2u);
    EXPECT_TRUE(r->problems.empty());
    const auto& e = r->interfaces[1];
    EXPECT_EQ(e.name, "eth0");
    EXPECT_EQ(e.rx_bytes, 18448467u);
    EXPECT_EQ(e.rx_packets, 501u);
    EXPECT_EQ(e.rx_errors, 2u);
    EXPECT_EQ(e.rx_drops, 3u);
    EXPECT_EQ(e.tx_bytes, 24908u);
    EXPECT_EQ(e.tx_packets, 306u);
    EXPECT_EQ(e.tx_errors, 4u);
    EXPECT_EQ(e.tx_drops, 5u);
}

TEST(ParseNetDev, ALongNameTouchesItsFirstCounter) {
    // The kernel prints "%6s:" then the counters with no space when the name is long.
    const auto r = parse_net_dev(k_net_header +
                                 "enp0s31f6:12345 1 0 0 0 0 0 0 678 2 0 0 0 0 0 0\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->interfaces.size(), 1u);
    EXPECT_EQ(r->interfaces[0].name, "enp0s31f6");
    EXPECT_EQ(r->interfaces[0].rx_bytes, 12345u);
    EXPECT_EQ(r->interfaces[0].tx_bytes, 678u);
}

TEST(ParseNetDev, TakesTheLargestCounters) {
    const auto r = parse_net_dev(k_net_header + "eth0: 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->interfaces[0].rx_bytes, 18446744073709551615u);
}

TEST(ParseNetDev, HeaderOnlyMeansNoInterfaces) {
    const auto r = parse_net_dev(k_net_header);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->interfaces.empty());
}

TEST(ParseNetDev, EmptyTextFails) {
    for (const char* text : {"", "\n", "   \n\n"}) {
        const auto r = parse_net_dev(text);
        ASSERT_FALSE(r) << "input: \"" << text << "\"";
        EXPECT_EQ(r.error().message, "empty file; expected the /proc/net/dev header and one line per interface");
    }
}

struct BadNetLine {
    const char* name;
    const char* line;
    const char* problem;
};

class ParseNetDevBadLine : public ::testing::TestWithParam<BadNetLine> {};

TEST_P(ParseNetDevBadLine, IsSkippedAndNamedWhileOthersAreRead) {
    const auto& p = GetParam();
    const auto r = parse_net_dev(k_net_header + "    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n" + p.line +
                                 "\n  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->interfaces.size(), 2u);
    EXPECT_EQ(r->interfaces[0].name, "lo");
    EXPECT_EQ(r->interfaces[1].name, "eth0");
    ASSERT_EQ(r->problems.size(), 1u);
    EXPECT_EQ(r->problems[0], std::string("line 4: ") + p.problem);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseNetDevBadLine,
    ::testing::Values(
        BadNetLine{"truncated", "  eth1: 1 2 3 4 5", "expected 16 counters after \"eth1:\", found 5"},
        BadNetLine{"no_counters", "  eth1:", "expected 16 counters after \"eth1:\", found 0"},
        BadNetLine{"no_colon", "  eth1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "no \"name:\" prefix"},
        BadNetLine{"empty_name", "   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "empty interface name"},
        BadNetLine{"not_a_number", "  eth1: 1 2 x 4 5 6 7 8 9 10 11 12 13 14 15 16",
                   "counter 3 of \"eth1\" is not an unsigned 64-bit number: \"x\""},
        BadNetLine{"negative", "  eth1: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                   "counter 1 of \"eth1\" is not an unsigned 64-bit number: \"-1\""},
        BadNetLine{"above_2_64", "  eth1: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
                   "counter 1 of \"eth1\" is not an unsigned 64-bit number: \"18446744073709551616\""}),
    [](const ::testing::TestParamInfo<BadNetLine>& tp) { return std::string(tp.param.name); });

TEST(ParseNetDev, ExtraTrailingCountersAreIgnored) {
    const auto r = parse_net_dev(k_net_header + "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->interfaces.size(), 1u);
    EXPECT_TRUE(r->problems.empty());
    EXPECT_EQ(r->interfaces[0].tx_drops, 12u);
}

TEST(ParseNetDev, OnlyMalformedLinesFails) {
    const auto r = parse_net_dev(k_net_header + "eth0: 1 2 3\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "no valid interface line; line 3: expected 16 counters after \"eth0:\", found 3");
}

TEST(ParseNetDev, ALastLineCutShortIsTheOnlyOneLost) {
    const std::string full = k_net_header + "lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\neth0: 1 2 3 4 5 6 7 8 9 10 11 12 13";
    const auto r = parse_net_dev(full);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->interfaces.size(), 1u);
    EXPECT_EQ(r->problems.size(), 1u);
}

// ---- /proc/diskstats --------------------------------------------------------------------------

TEST(ParseDiskstats, ReadsModernLinesWithDiscardAndFlushCounters) {
    const auto r = parse_diskstats(
        " 254       0 vda 7074 4242 754410 38418 989 3766 319744 639 0 23532 39296 3714 35 79992 233 104 4\n"
        " 254       1 vda1 7000 4000 750000 38000 900 3700 319000 600 0 23000 39000\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->devices.size(), 2u);
    const auto& d = r->devices[0];
    EXPECT_EQ(d.major, 254u);
    EXPECT_EQ(d.minor, 0u);
    EXPECT_EQ(d.name, "vda");
    EXPECT_EQ(d.reads, 7074u);
    EXPECT_EQ(d.sectors_read, 754410u);
    EXPECT_EQ(d.writes, 989u);
    EXPECT_EQ(d.sectors_written, 319744u);
    ASSERT_TRUE(d.io_ms);
    EXPECT_EQ(*d.io_ms, 23532u);
    EXPECT_EQ(r->devices[1].sectors_written, 319000u);
}

TEST(ParseDiskstats, ReadsTheOldFourCounterPartitionLines) {
    const auto r = parse_diskstats("   3    1 hda1 35486 38030 38030 38030\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->devices.size(), 1u);
    EXPECT_EQ(r->devices[0].reads, 35486u);
    EXPECT_EQ(r->devices[0].sectors_read, 38030u);
    EXPECT_FALSE(r->devices[0].io_ms);
}

TEST(ParseDiskstats, EmptyTextIsNoDevices) {
    const auto r = parse_diskstats("");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->devices.empty());
}

struct BadDiskLine {
    const char* name;
    const char* line;
    const char* problem;
};

class ParseDiskstatsBadLine : public ::testing::TestWithParam<BadDiskLine> {};

TEST_P(ParseDiskstatsBadLine, IsSkippedAndNamed) {
    const auto& p = GetParam();
    const auto r = parse_diskstats(std::string(" 8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n") + p.line + "\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->devices.size(), 1u);
    EXPECT_EQ(r->devices[0].name, "sda");
    ASSERT_EQ(r->problems.size(), 1u);
    EXPECT_EQ(r->problems[0], std::string("line 2: ") + p.problem);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseDiskstatsBadLine,
    ::testing::Values(
        BadDiskLine{"truncated", " 8 16 sdb 1 2 3 4 5 6", "expected 11 or more counters after the device name, found 6"},
        BadDiskLine{"name_only", " 8 16 sdb", "expected 11 or more counters after the device name, found 0"},
        BadDiskLine{"one_field", "8", "expected 11 or more counters after the device name, found 0"},
        BadDiskLine{"bad_major", " x 16 sdb 1 2 3 4 5 6 7 8 9 10 11",
                    "device number \"x 16\" is not two unsigned numbers"},
        BadDiskLine{"not_a_number", " 8 16 sdb 1 2 three 4 5 6 7 8 9 10 11",
                    "counter 3 of \"sdb\" is not an unsigned 64-bit number: \"three\""},
        BadDiskLine{"negative", " 8 16 sdb 1 2 3 4 5 6 -7 8 9 10 11",
                    "counter 7 of \"sdb\" is not an unsigned 64-bit number: \"-7\""},
        BadDiskLine{"above_2_64", " 8 16 sdb 1 2 99999999999999999999 4 5 6 7 8 9 10 11",
                    "counter 3 of \"sdb\" is not an unsigned 64-bit number: \"99999999999999999999\""}),
    [](const ::testing::TestParamInfo<BadDiskLine>& tp) { return std::string(tp.param.name); });

TEST(ParseDiskstats, OnlyMalformedLinesFails) {
    const auto r = parse_diskstats("8 0 sda 1 2\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "no valid device line; line 1: expected 11 or more counters after the device name, found 2");
}

TEST(DiskDevices, LoopRamAndZramAreNotDiskIo) {
    for (const char* n : {"loop0", "loop12", "ram0", "zram0"}) EXPECT_TRUE(is_memory_or_loop_device(n)) << n;
    for (const char* n : {"sda", "nvme0n1", "md0", "dm-0", "mmcblk0", "vda"}) EXPECT_FALSE(is_memory_or_loop_device(n)) << n;
}

// ---- mountinfo --------------------------------------------------------------------------------

TEST(UnescapeMountPath, DecodesTheKernelsOctalEscapes) {
    EXPECT_EQ(unescape_mount_path(R"(/mnt/my\040disk)"), "/mnt/my disk");
    EXPECT_EQ(unescape_mount_path(R"(/a\011b\012c\134d)"), "/a\tb\nc\\d");
    EXPECT_EQ(unescape_mount_path(R"(/plain)"), "/plain");
    // Not an escape: kept as it is.
    EXPECT_EQ(unescape_mount_path(R"(/x\04)"), R"(/x\04)");
    EXPECT_EQ(unescape_mount_path(R"(/x\9aa)"), R"(/x\9aa)");
    EXPECT_EQ(unescape_mount_path("\\"), "\\");
    EXPECT_EQ(unescape_mount_path(""), "");
}

TEST(ParseMountinfo, ReadsEveryFieldWithOptionalFieldsAndEscapes) {
    const auto r = parse_mountinfo(
        "36 35 98:0 /mnt1 /mnt/my\\040disk rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n"
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->mounts.size(), 2u);
    const auto& m = r->mounts[0];
    EXPECT_EQ(m.mount_id, 36u);
    EXPECT_EQ(m.parent_id, 35u);
    EXPECT_EQ(m.major, 98u);
    EXPECT_EQ(m.minor, 0u);
    EXPECT_EQ(m.root, "/mnt1");
    EXPECT_EQ(m.mount_point, "/mnt/my disk");
    EXPECT_EQ(m.options, "rw,noatime");
    EXPECT_EQ(m.fs_type, "ext3");
    EXPECT_EQ(m.source, "/dev/root");
    EXPECT_EQ(r->mounts[1].mount_point, "/");
}

TEST(ParseMountinfo, EmptyTextFails) {
    const auto r = parse_mountinfo("");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "empty file; expected one line per mount");
}

struct BadMountLine {
    const char* name;
    const char* line;
    const char* problem;
};

class ParseMountinfoBadLine : public ::testing::TestWithParam<BadMountLine> {};

TEST_P(ParseMountinfoBadLine, IsSkippedAndNamed) {
    const auto& p = GetParam();
    const auto r = parse_mountinfo(std::string("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n") + p.line + "\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->mounts.size(), 1u);
    ASSERT_EQ(r->problems.size(), 1u);
    EXPECT_EQ(r->problems[0], std::string("line 2: ") + p.problem);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseMountinfoBadLine,
    ::testing::Values(
        BadMountLine{"truncated", "28 27 0:25 / /opt", "no \" - \" separator before the filesystem type"},
        BadMountLine{"too_few_fields", "28 27 0:25 / - tmpfs tools rw", "expected at least 6 fields before \" - \", found 4"},
        BadMountLine{"no_type", "28 27 0:25 / /opt rw -", "no filesystem type after \" - \""},
        BadMountLine{"bad_id", "x 27 0:25 / /opt rw - tmpfs t rw", "mount id \"x\" or parent id \"27\" is not a number"},
        BadMountLine{"bad_device", "28 27 025 / /opt rw - tmpfs t rw", "device \"025\" is not major:minor"},
        BadMountLine{"huge_device", "28 27 0:99999999999 / /opt rw - tmpfs t rw",
                     "device \"0:99999999999\" is not major:minor"}),
    [](const ::testing::TestParamInfo<BadMountLine>& tp) { return std::string(tp.param.name); });

TEST(ParseMountinfo, ExtraFieldsAfterTheSuperOptionsAreAccepted) {
    const auto r = parse_mountinfo("27 1 254:0 / / rw - ext4 /dev/vda rw future-field\n");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->mounts[0].source, "/dev/vda");
}

TEST(ParseMountinfo, ASourceMayBeMissing) {
    const auto r = parse_mountinfo("27 1 0:40 / /x rw - fuse.sshfs\n");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->mounts[0].fs_type, "fuse.sshfs");
    EXPECT_EQ(r->mounts[0].source, "");
}

// ---- which mounts are real --------------------------------------------------------------------

std::vector<std::string> selected(const std::string& text, const MountFilter& filter = {}) {
    const auto r = parse_mountinfo(text);
    EXPECT_TRUE(r) << r.error().message;
    std::vector<std::string> out;
    if (!r) return out;
    for (const auto& m : select_real_mounts(r->mounts, filter)) out.push_back(m.mount_point);
    return out;
}

using Mounts = std::vector<std::string>;

TEST(SelectRealMounts, SkipsPseudoFilesystemsAndTmpfs) {
    const std::string text =
        "22 27 0:21 / /proc rw - proc proc rw\n"
        "23 27 0:22 / /sys rw - sysfs sysfs rw\n"
        "24 27 0:6 / /dev rw - devtmpfs devtmpfs rw\n"
        "25 24 0:23 / /dev/shm rw - tmpfs tmpfs rw\n"
        "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
        "32 27 7:0 / /snap/core/1 ro - squashfs /dev/loop0 ro\n"
        "33 27 0:40 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw\n"
        "34 27 8:1 / /data rw - xfs /dev/sdb1 rw\n";
    EXPECT_EQ(selected(text), (Mounts{"/", "/data"}));
}

TEST(SelectRealMounts, BindMountsOfOneDeviceCountOnceUnderTheFilesystemsOwnRoot) {
    // The sandbox of RELIABILITY S11: the state dir bound onto itself and / re-bound read-only.
    const std::string text =
        "27 1 254:0 / / ro,relatime - ext4 /dev/vda rw\n"
        "40 27 254:0 /var/lib/boxmon /var/lib/boxmon rw - ext4 /dev/vda rw\n"
        "41 27 254:0 /srv /home/srv rw - ext4 /dev/vda rw\n"
        "42 27 0:50 / /tmp rw - tmpfs tmpfs rw\n";
    EXPECT_EQ(selected(text), (Mounts{"/"}));
}

TEST(SelectRealMounts, BtrfsSubvolumesOfOneFilesystemCountOnceUnderTheShortestMountPoint) {
    const std::string text =
        "42 24 0:35 /@home /home rw - btrfs /dev/sda3 rw,subvol=/@home\n"
        "43 24 0:35 /@log /var/log rw - btrfs /dev/sda3 rw,subvol=/@log\n"
        "44 24 0:35 /@ / rw - btrfs /dev/sda3 rw,subvol=/@\n";
    EXPECT_EQ(selected(text), (Mounts{"/"}));
}

TEST(SelectRealMounts, AContainersOverlayRootIsKeptAndItsFileBindsAreNot) {
    const std::string text =
        "500 400 0:60 / / rw - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
        "501 500 0:61 / /proc rw - proc proc rw\n"
        "510 500 254:0 /var/lib/docker/containers/abc/resolv.conf /etc/resolv.conf rw - ext4 /dev/vda rw\n"
        "511 500 254:0 /var/lib/docker/containers/abc/hostname /etc/hostname rw - ext4 /dev/vda rw\n"
        "512 500 254:0 /var/lib/docker/containers/abc/hosts /etc/hosts rw - ext4 /dev/vda rw\n"
        "513 500 254:0 /srv/data /data rw - ext4 /dev/vda rw\n";
    EXPECT_EQ(selected(text), (Mounts{"/", "/data"}));
}

TEST(SelectRealMounts, AMountPointMountedOverKeepsOnlyTheVisibleMount) {
    const std::string text =
        "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
        "30 27 8:1 / /data rw - ext4 /dev/sdb1 rw\n"
        "31 27 8:17 / /data rw - xfs /dev/sdc1 rw\n";
    const auto r = parse_mountinfo(text);
    ASSERT_TRUE(r);
    const auto m = select_real_mounts(r->mounts, {});
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[1].mount_point, "/data");
    EXPECT_EQ(m[1].fs_type, "xfs");
}

TEST(SelectRealMounts, ConfiguredExclusionsApply) {
    const std::string text =
        "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
        "30 27 8:1 / /media/usb rw - vfat /dev/sdb1 rw\n"
        "31 27 8:17 / /mnt/nas rw - nfs4 nas:/x rw\n"
        "32 27 8:33 / /mnt/space\\040here rw - ext4 /dev/sdd1 rw\n";
    EXPECT_EQ(selected(text, MountFilter{{"/media/*"}, {"nfs4"}}), (Mounts{"/", "/mnt/space here"}));
    EXPECT_EQ(selected(text, MountFilter{{"/mnt/space here"}, {}}), (Mounts{"/", "/media/usb", "/mnt/nas"}));
}

TEST(FsStatsPercent, MatchesDfAndRefusesEmptyFilesystems) {
    // df: used = blocks - bfree; use% = used / (used + bavail).
    const FsStats st{4096, 1000, 300, 200, 100, 25};
    ASSERT_TRUE(used_percent(st));
    EXPECT_DOUBLE_EQ(*used_percent(st), 100.0 * 700 / 900);
    EXPECT_DOUBLE_EQ(*inodes_used_percent(st), 75.0);
    EXPECT_FALSE(used_percent(FsStats{4096, 0, 0, 0, 0, 0}));
    EXPECT_FALSE(inodes_used_percent(FsStats{4096, 10, 5, 5, 0, 0}));
    EXPECT_FALSE(used_percent(FsStats{4096, 10, 11, 5, 0, 0}));  // inconsistent: more free than size
}

TEST(ParseStatvfsCapture, ReadsLinesKeyedByUnescapedMountPoint) {
    const auto r = parse_statvfs_capture("/ 4096 100 50 40 10 5\n/mnt/a\\040b 512 8 4 4 0 0\n");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ(r->at("/").blocks, 100u);
    EXPECT_EQ(r->at("/mnt/a b").frsize, 512u);
}

TEST(ParseStatvfsCapture, NamesTheMalformedLine) {
    auto r = parse_statvfs_capture("/ 4096 100 50 40 10 5\n/x 4096 1 2\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "line 2: expected \"mountpoint frsize blocks bfree bavail files ffree\", found 4 fields");
    r = parse_statvfs_capture("/ 4096 100 -50 40 10 5\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "line 1: field 4 is not an unsigned number: \"-50\"");
}

}  // namespace
}  // namespace boxmon::collector::kernel
