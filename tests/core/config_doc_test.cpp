// docs/CONFIG.md is the one description of the configuration (the man page boxmon.toml(5) is
// made from it): every key the loader accepts is documented under its table, and every key the
// document lists in a table's first column is one the loader accepts.

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "core/config_load.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

struct DocSection {
    std::set<std::string> mentioned;  // every `word` in the section
    std::set<std::string> listed;     // first-column keys of its tables
};

std::map<std::string, DocSection> read_config_doc() {
    std::map<std::string, DocSection> sections;
    std::istringstream in(test::read_file(test::source_dir() / "docs" / "CONFIG.md"));
    const std::regex heading(R"(^## (\[.*\])\s*$)");
    const std::regex code(R"(`([a-z_0-9]+)`)");
    const std::regex first_column(R"(^\| `([a-z_0-9]+)` \|)");
    std::string line, current;
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_match(line, m, heading)) {
            current = m[1];
            sections[current];
            continue;
        }
        if (current.empty()) continue;
        for (auto it = std::sregex_iterator(line.begin(), line.end(), code); it != std::sregex_iterator(); ++it)
            sections[current].mentioned.insert((*it)[1]);
        if (std::regex_search(line, m, first_column)) sections[current].listed.insert(m[1]);
    }
    return sections;
}

TEST(ConfigDoc, documents_every_key_the_loader_accepts) {
    const auto doc = read_config_doc();
    const auto keys = config_keys();
    ASSERT_GE(keys.size(), 14u);
    for (const auto& [table, names] : keys) {
        auto it = doc.find(table);
        ASSERT_NE(it, doc.end()) << "docs/CONFIG.md has no section \"## " << table << "\"";
        for (const auto& key : names)
            EXPECT_TRUE(it->second.mentioned.count(key)) << "docs/CONFIG.md does not mention `" << key
                                                         << "` under ## " << table;
    }
}

TEST(ConfigDoc, lists_no_key_the_loader_does_not_accept) {
    const auto keys = config_keys();
    for (const auto& [table, section] : read_config_doc()) {
        auto it = keys.find(table);
        ASSERT_NE(it, keys.end()) << "docs/CONFIG.md documents a table the loader does not know: " << table;
        for (const auto& key : section.listed)
            EXPECT_TRUE(it->second.count(key)) << "docs/CONFIG.md lists `" << key << "` under " << table
                                               << " but the loader does not accept it";
    }
}

}  // namespace
}  // namespace boxmon
