# One end-to-end run: sample_nif under the real emulator writes a trace with
# the NIF recorder, then `refctrace check` judges it.
#   -DERL -DEBIN -DLIB_DIR -DTRACER_DIR -DREFCTRACE -DSEED -DEXPECTED_CODE -DTRACE -DNIF_SOURCE
# The Erlang tracer (the trace module built alone, in TRACER_DIR) records the
# process side of the NIF's binaries: every run but the crash must have its
# receive, send, gc and exit lines; any count on them is compared with the
# model's by the judge (a refc-mismatch is a finding).
# A clean run (EXPECTED_CODE empty) must give no diagnostic at all, warnings
# included; a seed exactly one, with that code, at the line of sample_nif.c
# marked "seed-SEED:CODE". SEED `crash`: the library aborts the emulator
# inside a call; the trace must still hold every line up to the abort.
# What the library keeps for its life (sample_nif.c's load: an environment
# and a resource through priv_data, a cached binary in a static; remember's
# resource; stash's, reached only through malloc'd memory; stash_in_cxx's,
# only through objects from C++ new; stash_in_mapping's, only through a
# region named with REFCTRACE_HELD_ROOT) must be named by `held` lines at
# the clean exit, and is a leak without them (the clean run is judged
# again with them removed: 7 leaks). SEED `unloaded`:
# the library (loaded without its kept resource) is unloaded at once; no
# `held` line, and the cache it kept is reported as a leak. SEED
# `scan-limit`: the clean session with a library whose held scan stops at
# its limit: no `held` line, the 7 kept objects are leaks. SEED
# `stash-lost`: stash's node is freed, its resource not released: that
# resource has no `held` line, and is the one leak.

cmake_policy(SET CMP0057 NEW) # if(... IN_LIST ...)
include(${CMAKE_CURRENT_LIST_DIR}/../judged_run.cmake)
file(REMOVE ${TRACE})
# No core file from the crash run (sh: ulimit, then the emulator itself).
execute_process(COMMAND ${CMAKE_COMMAND} -E env REFCTRACE_TRACE=${TRACE}
                        sh -c "ulimit -c 0 && exec \"$0\" \"$@\"" ${ERL} -noshell -pa ${EBIN} -run refctrace_nif_e2e main ${SEED} ${LIB_DIR} ${TRACER_DIR}
                RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err
                TIMEOUT 60)
if(SEED STREQUAL "crash")
  if(erl_result EQUAL 0)
    message(FATAL_ERROR "erl did not crash:\n${erl_out}${erl_err}")
  endif()
elseif(NOT erl_result EQUAL 0)
  message(FATAL_ERROR "erl failed (${erl_result}):\n${erl_out}${erl_err}")
endif()

# What the recorder wrote, before the verdict: every line whole, every NIF
# call entered and left (the crash's call only entered), every op at a
# source line of the library.
file(STRINGS ${TRACE} lines)
list(GET lines 0 header)
if(NOT header MATCHES "^{\"refctrace\":1,\"source\":\"refctrace_nif\",\"otp\":\"[0-9]+\"}$")
  message(FATAL_ERROR "${TRACE}: not the NIF recorder's header: ${header}")
endif()
list(REMOVE_AT lines 0)
set(enters 0)
set(returns 0)
set(ops "")
set(failed_send 0)
set(counted 0)
set(held_lines "")
set(held_roots "")
# The calls that keep a resource for life, each reached only one way (see
# below); the resource each allocated: kept_res_<func>.
set(kept_funcs stash stash_in_cxx stash_in_mapping)
foreach(func IN LISTS kept_funcs)
  set(kept_res_${func} "")
endforeach()
foreach(line IN LISTS lines)
  string(JSON op ERROR_VARIABLE json_error GET "${line}" op)
  if(json_error)
    message(FATAL_ERROR "${TRACE}: a line that is no event: ${line}")
  endif()
  if(NOT op IN_LIST ops)
    list(APPEND ops ${op})
  endif()
  if(op MATCHES "^(receive|send|gc|exit)$")
    # The tracer's lines: a process, no source line.
    if(NOT line MATCHES "\"actor\":\"<[0-9.]+>\"")
      message(FATAL_ERROR "${TRACE}: a process event without its process: ${line}")
    endif()
    if(line MATCHES "\"refc\":")
      math(EXPR counted "${counted} + 1")
    endif()
    continue()
  endif()
  if(op STREQUAL "held")
    # The scan at exit: no call site, where it was found.
    string(JSON root GET "${line}" in)
    if(NOT root IN_LIST held_roots)
      list(APPEND held_roots ${root})
    endif()
    list(APPEND held_lines "${line}")
    continue()
  endif()
  if(NOT line MATCHES "\"src\":\"sample_nif.c:[0-9]+\"")
    message(FATAL_ERROR "${TRACE}: an event without its source line: ${line}")
  endif()
  if(op STREQUAL "nif_enter")
    math(EXPR enters "${enters} + 1")
  elseif(op STREQUAL "nif_return")
    math(EXPR returns "${returns} + 1")
  endif()
  if(op STREQUAL "env_send" AND line MATCHES "\"failed\":true")
    set(failed_send 1)
  endif()
  if(op STREQUAL "res_alloc" AND line MATCHES "\"func\":\"([a-z_]+)\""
     AND CMAKE_MATCH_1 IN_LIST kept_funcs)
    string(JSON kept_res_${CMAKE_MATCH_1} GET "${line}" res)
  endif()
endforeach()
if(SEED STREQUAL "crash")
  # The aborting call's lines: entered, its binary allocated and written.
  list(LENGTH lines count)
  math(EXPR last "${count} - 1")
  list(GET lines ${last} last_line)
  math(EXPR unreturned "${enters} - ${returns}")
  if(NOT unreturned EQUAL 1 OR NOT last_line MATCHES "\"op\":\"bin_use\".*\"func\":\"Fill\"")
    message(FATAL_ERROR "${TRACE}: the trace does not end in the crashing call "
                        "(${enters} entered, ${returns} returned; last: ${last_line})")
  endif()
elseif(SEED STREQUAL "unloaded" OR SEED STREQUAL "scan-limit")
  if(held_lines)
    message(FATAL_ERROR "${TRACE}: held lines (${SEED}): ${held_lines}")
  endif()
  if(SEED STREQUAL "scan-limit" AND NOT erl_err MATCHES "the scan of what the NIF library holds")
    message(FATAL_ERROR "${TRACE}: the scan's stop is not said on standard error:\n${erl_err}")
  endif()
else()
  # The kept environment, the kept resource, the last remembered one, the
  # stashed one and the one kept in C++ (priv_data), the cache and the mapped one (static);
  # nothing else is kept. The stashed resource is reached only through
  # malloc'd memory (sample_nif.c's stash): held, unless the seed lost it;
  # one only through objects from C++ new (stash_in_cxx); one (static) only
  # through a mapping named with REFCTRACE_HELD_ROOT (stash_in_mapping).
  list(LENGTH held_lines held_count)
  list(SORT held_roots)
  set(expected_held 7)
  if(SEED STREQUAL "stash-lost")
    set(expected_held 6)
  endif()
  if(NOT held_count EQUAL expected_held OR NOT held_roots STREQUAL "priv_data;static")
    message(FATAL_ERROR "${TRACE}: expected ${expected_held} held lines, from priv_data and "
                        "static; got ${held_count} from [${held_roots}]: ${held_lines}")
  endif()
  # Each kept resource: its held line, from the root it is reached from
  # (FUNC:ROOT:HOW), but the one the seed lost, which must have none.
  foreach(kept IN ITEMS "stash:priv_data:malloc'd memory" "stash_in_cxx:priv_data:C++ new"
                        "stash_in_mapping:static:a region named with REFCTRACE_HELD_ROOT")
    string(REPLACE ":" ";" kept "${kept}")
    list(GET kept 0 func)
    list(GET kept 1 root)
    list(GET kept 2 how)
    set(res "${kept_res_${func}}")
    if(NOT res)
      message(FATAL_ERROR "${TRACE}: no res_alloc of ${func}")
    endif()
    string(FIND "${held_lines}" "{\"op\":\"held\",\"res\":\"${res}\",\"in\":\"${root}\"" held_at)
    if(SEED STREQUAL "stash-lost" AND func STREQUAL "stash")
      if(NOT held_at EQUAL -1)
        message(FATAL_ERROR "${TRACE}: the resource stash lost (${res}) is held: ${held_lines}")
      endif()
    elseif(held_at EQUAL -1)
      message(FATAL_ERROR "${TRACE}: the resource kept through ${how} (${res}) has no held "
                          "line from ${root}: ${held_lines}")
    endif()
  endforeach()
  if(NOT enters EQUAL returns)
    message(FATAL_ERROR "${TRACE}: ${enters} nif_enter, ${returns} nif_return")
  endif()
  if(NOT failed_send)
    message(FATAL_ERROR "${TRACE}: no failed env_send (the session sends to a process that is gone)")
  endif()
  # The session uses every call the recorder writes.
  # The process side: the NIF's binaries received, forwarded, collected, and a
  # holder's exit. Any count a line carries is compared by the judge; the
  # tracer writes process_info's only on a full look's gc (sync), and the
  # session's releases come with the collections' own looks, so a run may
  # carry none (docs/decisions.md 105).
  foreach(op IN ITEMS nif_enter nif_return env_alloc env_clear env_free env_send make_copy
                      bin_alloc bin_realloc bin_release bin_make bin_make_new bin_inspect bin_use
                      ioq_enq res_alloc res_keep res_release res_make res_use res_down res_dtor
                      receive send gc exit held)
    if(NOT op IN_LIST ops)
      if(NOT (op STREQUAL "env_clear" AND SEED STREQUAL "env-not-cleared"))
        message(FATAL_ERROR "${TRACE}: no ${op} event (the session makes every recorded call)")
      endif()
    endif()
  endforeach()
endif()

# Without its held lines a trace reports what the library keeps as leaks:
# the clean run's 7 (what the held lines silence), the unloaded run's 1, scan-limit's 7.
if(SEED MATCHES "^(none|unloaded|scan-limit)$")
  if(NOT SEED STREQUAL "unloaded")
    set(kept_leaks 7)
  else()
    set(kept_leaks 1)
  endif()
  file(READ ${TRACE} text)
  string(REGEX REPLACE "{\"op\":\"held\"[^\n]*\n" "" text "${text}")
  file(WRITE ${TRACE}.unheld "${text}")
  refctrace_judge(${REFCTRACE} ${TRACE}.unheld)
  set(leaks 0)
  foreach(finding IN LISTS found)
    if(finding MATCHES "^leak@sample_nif.c:")
      math(EXPR leaks "${leaks} + 1")
    endif()
  endforeach()
  if(NOT leaks EQUAL kept_leaks OR NOT finding_count EQUAL kept_leaks)
    message(FATAL_ERROR "${TRACE} without its held lines: expected ${kept_leaks} leaks, got "
                        "[${found}]${check_err}")
  endif()
endif()
if(SEED STREQUAL "unloaded" OR SEED STREQUAL "scan-limit")
  message(STATUS "nif_e2e/${SEED}: no held line; [${found}]")
  return()
endif()

refctrace_judge(${REFCTRACE} ${TRACE})
refctrace_expected_finding(${NIF_SOURCE} seed-${SEED} "${EXPECTED_CODE}" "")
if(NOT check_result EQUAL expected_result OR NOT "${found_locations}" STREQUAL "${expected}")
  refctrace_check_text(${REFCTRACE} ${TRACE})
  message(FATAL_ERROR "nif_e2e/${SEED}: expected [${expected}] (exit ${expected_result}), "
                      "got [${found}] (exit ${check_result})\n${check_text}${check_err}")
endif()
# Every reference a process got of the NIF's binaries was recorded released
# (gc, exit): none is left held at the end (the session collects and stops
# the tracer, whose stop/0 requires every wrapper related).
if(NOT SEED STREQUAL "crash")
  refctrace_none_held(${REFCTRACE} ${TRACE} "NIF binaries")
endif()
list(LENGTH lines events)
message(STATUS "nif_e2e/${SEED}: ${events} events, ${enters} NIF calls, ${counted} process "
               "counts; findings [${found}]")
