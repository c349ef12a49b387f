#pragma once
// Libraries boxmon loads with dlopen when first needed (libcurl, libcrypto, NVML): opening one
// with the dynamic loader's reason, and resolving its functions with their real types.

#include <string>

#include "core/result.hpp"

namespace boxmon {

// dlopen(soname, RTLD_NOW | RTLD_LOCAL); fails with the loader's message ("libx.so.1: cannot
// open shared object file: No such file or directory"). The caller says what to install.
Result<void*> open_shared_library(const std::string& soname);

// dlsym(handle, name), or null when the library has no such symbol.
void* find_symbol(void* handle, const char* name);

// The function `name` of the library as Fn (the cast POSIX requires to work), or null.
template <class Fn>
Fn find_function(void* handle, const char* name) {
    return reinterpret_cast<Fn>(find_symbol(handle, name));
}

// Resolves `name` into `out`; when the library lacks it, appends the name to `missing`
// (comma-separated), so one message can list every absent function.
template <class Fn>
void resolve_function(void* handle, const char* name, Fn& out, std::string& missing) {
    out = find_function<Fn>(handle, name);
    if (out != nullptr) return;
    if (!missing.empty()) missing += ", ";
    missing += name;
}

}  // namespace boxmon
