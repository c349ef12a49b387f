#pragma once
// A collector for a feature this platform does not have: it adds nothing and says why.

#include <memory>
#include <string>

#include "collector/collector.hpp"

namespace boxmon::collector {

class UnsupportedCollector final : public Collector {
public:
    UnsupportedCollector(std::string_view name, std::string why) : m_name(name), m_why(std::move(why)) {}
    std::string_view name() const override { return m_name; }
    Result<void> collect(CollectContext&, Sample&) override {
        return fail_as(ErrorKind::not_found, "{}", m_why);
    }

private:
    std::string_view m_name;
    std::string m_why;
};

// A collector named `name` that reports "<name>: not supported on this platform".
inline std::unique_ptr<Collector> make_unsupported(std::string_view name) {
    return std::make_unique<UnsupportedCollector>(name, fmt::format("{}: not supported on this platform", name));
}

}  // namespace boxmon::collector
