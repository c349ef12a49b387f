#include "core/shared_library.hpp"

#include <dlfcn.h>

namespace boxmon {

Result<void*> open_shared_library(const std::string& soname) {
    dlerror();
    void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr) return handle;
    const char* why = dlerror();
    return fail_as(ErrorKind::not_found, "{}", why != nullptr ? why : soname + ": cannot be loaded");
}

void* find_symbol(void* handle, const char* name) { return dlsym(handle, name); }

}  // namespace boxmon
