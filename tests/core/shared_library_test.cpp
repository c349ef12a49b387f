// open_shared_library and resolve_function against real libraries: libm, and a name that does
// not exist.
#include "core/shared_library.hpp"

#include <gtest/gtest.h>

namespace boxmon {
namespace {

TEST(SharedLibrary, OpensALibraryAndResolvesItsFunctionsNamingTheMissingOnes) {
    auto libm = open_shared_library("libm.so.6");
    ASSERT_TRUE(libm) << libm.error().message;
    using UnaryFn = double (*)(double);
    EXPECT_DOUBLE_EQ(find_function<UnaryFn>(*libm, "sqrt")(16.0), 4.0);
    UnaryFn a = nullptr;
    UnaryFn b = nullptr;
    UnaryFn c = nullptr;
    std::string missing;
    resolve_function(*libm, "no_such_function_1", a, missing);
    resolve_function(*libm, "cbrt", b, missing);
    resolve_function(*libm, "no_such_function_2", c, missing);
    EXPECT_EQ(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_DOUBLE_EQ(b(27.0), 3.0);
    EXPECT_EQ(missing, "no_such_function_1, no_such_function_2");
}

TEST(SharedLibrary, AMissingLibraryFailsWithTheLoadersReason) {
    auto r = open_shared_library("libboxmon-does-not-exist.so.7");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
    EXPECT_NE(r.error().message.find("libboxmon-does-not-exist.so.7"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace boxmon
