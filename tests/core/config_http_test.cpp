// [http] listen: off by default, a port alone means this host only, anything beyond loopback
// warns (RELIABILITY X8), and an address without a host says how to write one.
#include <gtest/gtest.h>

#include "core/config_load.hpp"

namespace boxmon {
namespace {

TEST(ConfigHttp, the_endpoint_is_off_by_default) {
    auto r = parse_config("", "t.toml");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->config.http.listen.empty());
    EXPECT_FALSE(r->config.http.bearer_token.present());
    EXPECT_FALSE(r->config.heartbeat.url.present());
}

TEST(ConfigHttp, a_port_alone_listens_on_loopback_only) {
    auto r = parse_config("[http]\nlisten = \"9101\"\n", "t.toml");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->config.http.listen, "127.0.0.1:9101");
    EXPECT_TRUE(r->warnings.empty());
}

TEST(ConfigHttp, loopback_addresses_do_not_warn) {
    for (const char* listen : {"127.0.0.1:9101", "[::1]:9101", "localhost:9101"}) {
        auto r = parse_config(std::string("[http]\nlisten = \"") + listen + "\"\n", "t.toml");
        ASSERT_TRUE(r) << listen << ": " << r.error().message;
        EXPECT_EQ(r->config.http.listen, listen);
        EXPECT_TRUE(r->warnings.empty()) << listen << ": " << r->warnings.front();
    }
}

TEST(ConfigHttp, every_interface_works_but_warns) {
    auto r = parse_config("[http]\nlisten = \"0.0.0.0:9101\"\n", "t.toml");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->config.http.listen, "0.0.0.0:9101");
    ASSERT_EQ(r->warnings.size(), 1u);
    EXPECT_EQ(r->warnings[0],
              "t.toml:2:10: http.listen: the metrics endpoint listens on 0.0.0.0:9101, beyond this host; set "
              "bearer_token_file and a firewall rule");
}

}  // namespace
}  // namespace boxmon
