# The C library's allocators through refctrace_nif.h (docs/decisions.md
# 190-191), from the symbols of two files compiled with -DREFCTRACE:
#   -DNM -DCXX_ARCHIVE (malloc_wrap_cxx.cc) -DOPT_OUT_ARCHIVE (malloc_wrap_opt_out.c)
# The C++ file, which includes the header before <cstdlib>, calls the
# wrappers (std::malloc, std::realloc, std::free, ::free, strdup,
# std::calloc, and the malloc_allocator's std::malloc) and never the C
# library's allocators; the file that opts out calls the C library's malloc
# and no wrapper.
function(symbols archive out)
  execute_process(COMMAND ${NM} -u ${archive} OUTPUT_VARIABLE text RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} -u ${archive} failed")
  endif()
  string(REGEX MATCHALL "[A-Za-z_][A-Za-z0-9_]*\n" names "${text}")
  string(REPLACE "\n" "" names "${names}")
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

cmake_policy(SET CMP0057 NEW) # if(... IN_LIST ...)
symbols(${CXX_ARCHIVE} cxx)
foreach(name IN ITEMS refctrace_malloc refctrace_realloc refctrace_free refctrace_strdup
                      refctrace_calloc)
  if(NOT name IN_LIST cxx)
    message(FATAL_ERROR "${CXX_ARCHIVE} calls no ${name}: [${cxx}]")
  endif()
endforeach()
foreach(name IN ITEMS malloc calloc realloc free strdup)
  if(name IN_LIST cxx)
    message(FATAL_ERROR "${CXX_ARCHIVE} calls the C library's ${name}: [${cxx}]")
  endif()
endforeach()

symbols(${OPT_OUT_ARCHIVE} opt_out)
if(NOT "malloc" IN_LIST opt_out OR opt_out MATCHES "refctrace_")
  message(FATAL_ERROR "${OPT_OUT_ARCHIVE} (REFCTRACE_NO_MALLOC_WRAP) calls a wrapper or no "
                      "malloc: [${opt_out}]")
endif()
message(STATUS "C++: [${cxx}]; opted out: [${opt_out}]")
