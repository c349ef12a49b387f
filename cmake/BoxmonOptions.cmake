# Compiler flags shared by every boxmon target, applied through boxmon_target_defaults().

add_library(boxmon_build_flags INTERFACE)
target_compile_options(boxmon_build_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wimplicit-fallthrough)
if(BOXMON_WERROR)
  target_compile_options(boxmon_build_flags INTERFACE -Werror)
endif()
# Bounds-checked standard containers in Debug builds.
target_compile_definitions(boxmon_build_flags INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)

if(BOXMON_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_compile_options(boxmon_build_flags INTERFACE ${_san})
  target_link_options(boxmon_build_flags INTERFACE -fsanitize=address,undefined)
endif()

# boxmon_target_defaults(target): the include root (the repository top) and the shared flags.
function(boxmon_target_defaults target)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${target} PUBLIC boxmon_build_flags)
endfunction()
