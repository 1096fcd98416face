# One run of tests/mixed_e2e: the sample driver and the sample NIF library
# recorded in one emulator into one trace, then one `refctrace check` pass.
#   -DERL -DEBIN -DDRIVER_DIR -DLIB_DIR -DREFCTRACE -DORDER -DDRIVER_BUG
#   -DDRIVER_CODE -DNIF_SEED -DNIF_CODE -DTRACE -DDRIVER_SOURCE -DNIF_SOURCE
# The file must have one header, the first recorder's (ORDER), and lines of
# both recorders and of the tracer, each process's exit once, the
# recorders' `t` never going back; a clean exit cuts it to its lines. The findings must be exactly the seeded ones: the
# driver's at the line of sample_drv.c marked "e2e:DRIVER_CODE", the
# library's at the line of sample_nif.c marked "seed-NIF_SEED:NIF_CODE"
# (none for a code ""). NIF_SEED `crash`: the emulator aborts inside the
# library's last call, whose lines end the file. ORDER `nif-unloaded`: the
# driver's last line, recorded after the library was unloaded, ends it.

include(${CMAKE_CURRENT_LIST_DIR}/../judged_run.cmake)
file(REMOVE ${TRACE})
# No core file from the crash run (sh: ulimit, then the emulator itself).
execute_process(COMMAND ${CMAKE_COMMAND} -E env REFCTRACE_TRACE=${TRACE}
                        sh -c "ulimit -c 0 && exec \"$0\" \"$@\"" ${ERL} -noshell -pa ${EBIN}
                        -run refctrace_mixed_e2e main ${ORDER} ${DRIVER_BUG} ${NIF_SEED}
                        ${DRIVER_DIR} ${LIB_DIR}
                RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err
                TIMEOUT 90)
set(crashed FALSE)
if(NIF_SEED STREQUAL "crash")
  set(crashed TRUE)
endif()
if(crashed AND erl_result EQUAL 0)
  message(FATAL_ERROR "erl did not crash:\n${erl_out}${erl_err}")
elseif(NOT crashed AND NOT erl_result EQUAL 0)
  message(FATAL_ERROR "erl failed (${erl_result}):\n${erl_out}${erl_err}")
endif()
# The second recorder joined the first one's writer: nothing was refused.
if(erl_err MATCHES "refctrace: ")
  message(FATAL_ERROR "a recorder complained:\n${erl_err}")
endif()

file(STRINGS ${TRACE} lines)
list(GET lines 0 header)
set(unloaded FALSE)
if(ORDER STREQUAL "nif-unloaded")
  set(unloaded TRUE)
endif()
if(ORDER STREQUAL "driver-first")
  set(first refctrace_recorder)
else()
  set(first refctrace_nif)
endif()
if(NOT header MATCHES "^{\"refctrace\":1,\"source\":\"${first}\",\"otp\":\"[0-9]+\"}$")
  message(FATAL_ERROR "${TRACE}: not the header of ${first}, the first to open: ${header}")
endif()
list(REMOVE_AT lines 0)
set(driver_lines 0)
set(nif_lines 0)
set(process_lines 0)
set(exits "")
foreach(line IN LISTS lines)
  if(line MATCHES "\"refctrace\":")
    message(FATAL_ERROR "${TRACE}: a second header: ${line}")
  endif()
  if(line MATCHES "\"src\":\"sample_drv.c:")
    math(EXPR driver_lines "${driver_lines} + 1")
  elseif(line MATCHES "\"src\":\"sample_nif.c:")
    math(EXPR nif_lines "${nif_lines} + 1")
  elseif(line MATCHES "^{\"op\":\"(receive|send|gc|exit)\".*\"actor\":\"(<[0-9.]+>)\"")
    math(EXPR process_lines "${process_lines} + 1")
    if(CMAKE_MATCH_1 STREQUAL "exit")
      list(FIND exits "${CMAKE_MATCH_2}" seen)
      if(NOT seen EQUAL -1)
        message(FATAL_ERROR "${TRACE}: ${CMAKE_MATCH_2} exits twice")
      endif()
      list(APPEND exits "${CMAKE_MATCH_2}")
    endif()
  endif()
endforeach()
# Both recorders' `t` is one clock (the shared writer's offset, read under
# its lock): it never goes back in file order.
set(recorder_lines ${lines})
list(FILTER recorder_lines INCLUDE REGEX "\"src\":")
refctrace_t_in_order(${TRACE} ${recorder_lines})
list(LENGTH exits exit_count)
# The crash run's library makes one call: entered, its binary made and used.
set(least_nif_lines 30)
if(crashed)
  set(least_nif_lines 3)
endif()
if(unloaded)
  # Untraced: the two ports' stops, the second recorded after the library
  # (the writer's first user) was unloaded, last in the file.
  list(GET lines -1 last_line)
  if(NOT driver_lines EQUAL 2 OR nif_lines LESS 30 OR
     NOT last_line MATCHES "^{\"op\":\"stop\".*\"src\":\"sample_drv.c:")
    message(FATAL_ERROR "${TRACE}: not the library's session and the driver's two stops, "
                        "the last one after the unload (${driver_lines} driver lines, "
                        "${nif_lines} NIF lines; last: ${last_line})")
  endif()
elseif(driver_lines LESS 30 OR nif_lines LESS least_nif_lines OR process_lines LESS 10 OR exit_count LESS 1)
  message(FATAL_ERROR "${TRACE}: too little of each side (${driver_lines} driver lines, "
                      "${nif_lines} NIF lines, ${process_lines} process lines, ${exit_count} exits)")
endif()
if(crashed)
  list(GET lines -1 last_line)
  if(NOT last_line MATCHES "\"op\":\"bin_use\".*\"func\":\"Fill\"")
    message(FATAL_ERROR "${TRACE}: the trace does not end in the crashing call: ${last_line}")
  endif()
else()
  # The clean exit cut the file after its last line (once, by the last
  # recorder to leave: no line was written after it).
  file(SIZE ${TRACE} size)
  math(EXPR last_byte "${size} - 1")
  file(READ ${TRACE} ending OFFSET ${last_byte} HEX)
  if(NOT ending STREQUAL "0a")
    message(FATAL_ERROR "${TRACE}: does not end with its last line (byte ${ending})")
  endif()
endif()

refctrace_judge(${REFCTRACE} ${TRACE})
refctrace_expected_finding(${DRIVER_SOURCE} e2e "${DRIVER_CODE}" "")
set(expected_all ${expected})
set(expected_exit ${expected_result})
refctrace_expected_finding(${NIF_SOURCE} seed-${NIF_SEED} "${NIF_CODE}" "")
list(APPEND expected_all ${expected})
if(expected_result EQUAL 1)
  set(expected_exit 1)
endif()
list(SORT expected_all)
set(found_sorted ${found_locations})
list(SORT found_sorted)
if(NOT check_result EQUAL expected_exit OR NOT "${found_sorted}" STREQUAL "${expected_all}")
  refctrace_check_text(${REFCTRACE} ${TRACE})
  message(FATAL_ERROR "mixed_e2e: expected [${expected_all}] (exit ${expected_exit}), "
                      "got [${found}] (exit ${check_result})\n${check_text}${check_err}")
endif()
# A clean run recorded every release a process made (gc, exit).
if(NOT crashed AND NOT unloaded AND "${DRIVER_CODE}${NIF_CODE}" STREQUAL "")
  refctrace_none_held(${REFCTRACE} ${TRACE} "binaries")
endif()
list(LENGTH lines events)
message(STATUS "mixed_e2e/${ORDER}: ${events} events (${driver_lines} driver, ${nif_lines} NIF, "
               "${process_lines} process); findings [${found}]")
