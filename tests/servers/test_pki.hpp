#pragma once
// The test PKI (tests/servers/make_certs.py) made once per test program in a temporary folder.

#include <filesystem>
#include <memory>

#include "tests/support/test_support.hpp"

namespace boxmon::test {

class TestPki {
public:
    // The shared PKI, or nullptr when python3-trustme could not make it (tests then skip).
    static const TestPki* get() {
        static std::unique_ptr<TestPki> pki = [] {
            auto p = std::make_unique<TestPki>();
            auto r = run_process({python3(), (source_dir() / "tests/servers/make_certs.py").string(),
                                  p->m_dir.path().string()});
            if (r.exit_code != 0) return std::unique_ptr<TestPki>();
            return p;
        }();
        return pki.get();
    }
    std::filesystem::path ca() const { return m_dir / "ca.pem"; }
    std::filesystem::path cert(const char* stem) const { return m_dir / (std::string(stem) + ".pem"); }
    std::filesystem::path key(const char* stem) const { return m_dir / (std::string(stem) + ".key"); }

private:
    TempDir m_dir;
};

}  // namespace boxmon::test
