// docs/CONFIG.md is the one description of the configuration (the man page boxmon.toml(5) is
// made from it): every key the loader accepts is documented under its table, and every key the
// document lists in a table's first column is one the loader accepts.

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/config_load.hpp"
#include "tests/support/test_support.hpp"

namespace boxmon {
namespace {

struct DocSection {
    std::set<std::string> mentioned;  // every `word` in the section
    std::set<std::string> listed;     // first-column keys of its tables
};

bool is_key_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// Every `word` of key characters in a line.
std::vector<std::string> backquoted_keys(const std::string& line) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while ((pos = line.find('`', pos)) != std::string::npos) {
        const auto close = line.find('`', pos + 1);
        if (close == std::string::npos) break;
        const std::string word = line.substr(pos + 1, close - pos - 1);
        if (!word.empty() && std::all_of(word.begin(), word.end(), is_key_char)) out.push_back(word);
        pos = close + 1;
    }
    return out;
}

std::map<std::string, DocSection> read_config_doc() {
    std::map<std::string, DocSection> sections;
    std::istringstream in(test::read_file(test::source_dir() / "docs" / "CONFIG.md"));
    std::string line, current;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
        // "## [table]" starts a section
        if (line.rfind("## [", 0) == 0 && line.back() == ']') {
            current = line.substr(3);
            sections[current];
            continue;
        }
        if (current.empty()) continue;
        const auto words = backquoted_keys(line);
        sections[current].mentioned.insert(words.begin(), words.end());
        // "| `key` | ..." lists a key in the section's table
        if (line.rfind("| `", 0) == 0 && !words.empty() && line.compare(3 + words[0].size(), 3, "` |") == 0)
            sections[current].listed.insert(words[0]);
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
