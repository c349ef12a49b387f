// fmt and spdlog, compiled here once from their packaged headers.
//
// Debian ships both as shared libraries (and spdlog also header-only). Linked shared, they
// tie every boxmon process to the shared libstdc++ and cost a one-shot sample about a
// millisecond and a half of dynamic linking; header-only, they put spdlog's whole
// implementation into each of the ~40 translation units that log (7 s more each at -O2 -g).
// So the headers are used in their compiled-library mode (SPDLOG_COMPILED_LIB, fmt without
// FMT_HEADER_ONLY; cmake/BoxmonDependencies.cmake) and this file emits what the libraries'
// own src/ files would: their -inl.h implementation headers, and the explicit instantiations
// the headers declare extern (the same lists as fmt's src/format.cc and spdlog's
// src/spdlog.cpp and src/color_sinks.cpp). Nothing of either library is copied here.

#include <fmt/format.h>
#include <spdlog/version.h>

// The lists below are those of the packaged versions (Debian 12: fmt 9.1, spdlog 1.10).
static_assert(FMT_VERSION >= 90000 && FMT_VERSION < 100000,
              "core/fmt_spdlog_build.cpp lists fmt 9's explicit instantiations; check them for this fmt");
static_assert(SPDLOG_VER_MAJOR == 1 && SPDLOG_VER_MINOR >= 10 && SPDLOG_VER_MINOR < 12,
              "core/fmt_spdlog_build.cpp lists spdlog 1.10's parts; check them for this spdlog");
#ifndef SPDLOG_COMPILED_LIB
#error "build with SPDLOG_COMPILED_LIB (the boxmon::spdlog target sets it)"
#endif
#ifdef FMT_HEADER_ONLY
#error "build without FMT_HEADER_ONLY (the boxmon::fmt target leaves it out)"
#endif

// ---- fmt (src/format.cc) ---------------------------------------------------------------------

#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view, basic_format_args<FMT_BUFFER_CONTEXT(char)>,
                                 locale_ref);
template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;
template FMT_API void buffer<wchar_t>::append(const wchar_t*, const wchar_t*);

}  // namespace detail
FMT_END_NAMESPACE

// ---- spdlog (src/spdlog.cpp, src/color_sinks.cpp) --------------------------------------------

#include <mutex>

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_color_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

template spdlog::logger::logger(std::string name, sinks_init_list::iterator begin, sinks_init_list::iterator end);
template class spdlog::sinks::base_sink<std::mutex>;
template class spdlog::sinks::base_sink<spdlog::details::null_mutex>;

template class spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::ansicolor_stdout_sink<spdlog::details::console_mutex>;
template class spdlog::sinks::ansicolor_stderr_sink<spdlog::details::console_mutex>;
template std::shared_ptr<spdlog::logger> spdlog::stderr_color_mt<spdlog::synchronous_factory>(
    const std::string& logger_name, color_mode mode);
