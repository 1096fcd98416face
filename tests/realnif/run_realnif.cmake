# One recorded run of jiffy: jiffy_workload drives it under `erl` while the
# NIF recorder linked into jiffy.so writes TRACE; then `refctrace check`
# judges the trace.
#   -DERL -DPATHS (code paths, ;-separated) -DCASES -DREFCTRACE -DTRACE
#   -DSOURCE (the C file the seed marks) -DEXPECTED_CODE
# A clean run (EXPECTED_CODE empty) must give no diagnostic at all, warnings
# included; a seeded run exactly one, with that code, at the line of SOURCE
# that its seed patch marks "seeded:CODE".

include(${CMAKE_CURRENT_LIST_DIR}/../judged_run.cmake)

refctrace_record(${ERL} ${TRACE} "${PATHS}" jiffy_workload ${CASES})

# What the trace holds: jiffy's calls came through the wrapped function
# table (no NIF function of jiffy's is marked), including the calls that
# enif_schedule_nif made when the large document yielded.
file(STRINGS ${TRACE} lines)
set(problems "")
foreach(kind IN ITEMS enters returns iter_enters bin_alloc bin_realloc bin_make bin_release
                      res_alloc res_release res_make res_dtor bin_inspect)
  set(${kind} 0)
endforeach()
foreach(line IN LISTS lines)
  if(line MATCHES "\"op\":\"nif_enter\"")
    math(EXPR enters "${enters} + 1")
    if(line MATCHES "\"nif\":\"jiffy:nif_(en|de)code_iter/[0-9]\"")
      math(EXPR iter_enters "${iter_enters} + 1")
    endif()
  elseif(line MATCHES "\"op\":\"nif_return\"")
    math(EXPR returns "${returns} + 1")
  elseif(line MATCHES "\"op\":\"(bin_alloc|bin_realloc|bin_make|bin_release|res_alloc|res_release|res_make|res_dtor|bin_inspect)\"")
    math(EXPR ${CMAKE_MATCH_1} "${${CMAKE_MATCH_1}} + 1")
  endif()
endforeach()
string(CONCAT figures "${enters} NIF calls and callbacks entered (${iter_enters} of them "
              "nif_encode_iter/nif_decode_iter), ${bin_alloc} bin_alloc, ${bin_realloc} bin_realloc, "
              "${bin_make} bin_make, ${bin_release} bin_release, ${bin_inspect} bin_inspect, "
              "${res_alloc} res_alloc, ${res_make} res_make, ${res_release} res_release, "
              "${res_dtor} res_dtor")
if(NOT enters EQUAL returns)
  string(APPEND problems "${enters} nif_enter, ${returns} nif_return\n")
endif()
if(iter_enters LESS 20)
  string(APPEND problems "the large document yielded too seldom (${iter_enters} scheduled iterations)\n")
endif()
if(res_alloc LESS 30 OR NOT res_dtor EQUAL res_alloc)
  string(APPEND problems "every resource must be allocated and destroyed in the trace "
                         "(${res_alloc} allocated, ${res_dtor} destroyed)\n")
endif()
foreach(kind IN ITEMS bin_alloc bin_realloc bin_make bin_release bin_inspect)
  if(${kind} EQUAL 0)
    string(APPEND problems "no ${kind}\n")
  endif()
endforeach()

refctrace_judge(${REFCTRACE} ${TRACE})
refctrace_expected_finding(${SOURCE} seeded "${EXPECTED_CODE}" "")
if(NOT check_result EQUAL expected_result OR NOT "${found_locations}" STREQUAL "${expected}")
  refctrace_check_text(${REFCTRACE} ${TRACE})
  string(APPEND problems "expected [${expected}] (exit ${expected_result}), got ${finding_count} "
                         "[${found}] (exit ${check_result})\n${check_text}${check_err}")
endif()
if(problems)
  message(FATAL_ERROR "jiffy ${TRACE}: ${figures}\n${problems}")
endif()
string(STRIP "${erl_out}" workload_said)
message(STATUS "jiffy: ${figures}; findings [${found}]\n${workload_said}")
