# The recorder's crash test: PORTS ports record PAIRS alloc/free pairs each
# at once, then one alloc that is never freed, and END follows it: `abort`
# (the driver aborts the emulator right after the call) or `halt` (a clean
# exit). The trace must hold exactly PORTS*PAIRS*2 + 1 events that
# `refctrace check` reads without an input error, with one finding: the
# leak of the last alloc. After the abort the file keeps the NUL bytes
# after its last line (the mapping's unwritten rest); after the halt it is
# cut to its lines, and with COMPRESS=zstd it is then zstd-compressed
# (after the abort it stays plain). END=removed deletes the file before the
# clean exit, which must leave nothing.
#   cmake -DERL -DEBIN -DDRIVER_DIR -DREFCTRACE -DTRACE -DPORTS -DPAIRS -DEND [-DCOMPRESS] -P run_crash.cmake
file(REMOVE ${TRACE})
# END=append-after-abort: an aborted run, then a second one that appends to
# its trace (REFCTRACE_APPEND=1) and halts. The second run's lines must
# follow the first run's last line, over the NUL bytes the crash left: both
# runs' events read, no input error (a NUL in the middle would be one).
if(END STREQUAL "append-after-abort")
  foreach(run_end abort halt)
    set(env REFCTRACE_TRACE=${TRACE})
    if(run_end STREQUAL "halt")
      list(APPEND env REFCTRACE_APPEND=1)
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env}
                            ${ERL} -noshell -pa ${EBIN} -run recorder_crash main ${DRIVER_DIR} ${PORTS} ${PAIRS} ${run_end}
                    RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err TIMEOUT 120)
  endforeach()
  if(NOT erl_result EQUAL 0)
    message(FATAL_ERROR "the appending run failed (${erl_result}):\n${erl_out}${erl_err}")
  endif()
  file(READ ${TRACE} text HEX)
  if(text MATCHES "^(..)*00")
    message(FATAL_ERROR "${TRACE} has a NUL byte after the appending run's clean exit")
  endif()
  execute_process(COMMAND ${REFCTRACE} check --format json ${TRACE} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE report ERROR_VARIABLE err)
  string(JSON events GET "${report}" inputs 0 events)
  # Each run: its pairs and the never-freed alloc; the second also its ports' stops.
  math(EXPR expected "2 * (${PORTS} * ${PAIRS} * 2 + 1) + ${PORTS} + 1")
  if(rc EQUAL 2 OR NOT events EQUAL expected)
    message(FATAL_ERROR "${TRACE}: exit ${rc}, ${events} events (expected ${expected})\n${err}${report}")
  endif()
  message(STATUS "${events} events from two runs, the first aborted")
  return()
endif()
set(env REFCTRACE_TRACE=${TRACE})
if(COMPRESS)
  list(APPEND env REFCTRACE_COMPRESS=${COMPRESS})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env}
                        ${ERL} -noshell -pa ${EBIN} -run recorder_crash main ${DRIVER_DIR} ${PORTS} ${PAIRS} ${END}
                RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err TIMEOUT 120)
# END=removed: the file is deleted before the clean exit; the exit must not
# create it again (with COMPRESS, the compression used to), nor leave its
# temporary file.
if(END STREQUAL "removed")
  file(GLOB left "${TRACE}*")
  if(NOT erl_result EQUAL 0 OR left)
    message(FATAL_ERROR "exit ${erl_result}; after deleting the trace, left: ${left}\n${erl_out}${erl_err}")
  endif()
  message(STATUS "the deleted trace stayed deleted")
  return()
endif()
if(END STREQUAL "abort" AND erl_result EQUAL 0)
  message(FATAL_ERROR "erl exited cleanly; the driver was to abort it:\n${erl_out}${erl_err}")
endif()
if(END STREQUAL "halt" AND NOT erl_result EQUAL 0)
  message(FATAL_ERROR "erl failed (${erl_result}):\n${erl_out}${erl_err}")
endif()
if(NOT EXISTS ${TRACE})
  message(FATAL_ERROR "no trace at ${TRACE}:\n${erl_out}${erl_err}")
endif()

# The file's first bytes: zstd's magic, or the header line; its last byte: NUL
# (the crashed mapping's rest) or the last line's newline.
file(READ ${TRACE} head LIMIT 4 HEX)
file(SIZE ${TRACE} size)
math(EXPR last_at "${size} - 1")
file(READ ${TRACE} tail OFFSET ${last_at} HEX)
if(COMPRESS AND END STREQUAL "halt")
  if(NOT head STREQUAL "28b52ffd")
    message(FATAL_ERROR "${TRACE} is not zstd-compressed after a clean exit (starts ${head})")
  endif()
else()
  if(NOT head STREQUAL "7b227265") # {"re
    message(FATAL_ERROR "${TRACE} does not start with the header line (starts ${head})")
  endif()
  if(END STREQUAL "abort" AND NOT tail STREQUAL "00")
    message(FATAL_ERROR "${TRACE} ends with ${tail}, not the NUL bytes a crashed mapping leaves")
  endif()
  if(END STREQUAL "halt" AND NOT tail STREQUAL "0a")
    message(FATAL_ERROR "${TRACE} ends with ${tail}: a clean exit cuts the file after its last line")
  endif()
endif()

execute_process(COMMAND ${REFCTRACE} check --format json ${TRACE} RESULT_VARIABLE rc
                OUTPUT_VARIABLE report ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "refctrace check ${TRACE}: exit ${rc}, expected 1 (one leak)\n${err}${report}")
endif()
# After a halt, the emulator stopped every port before the clean exit: one
# `stop` each, PORTS + 1, and the leak is found at the last port's stop.
math(EXPR expected "${PORTS} * ${PAIRS} * 2 + 1")
if(END STREQUAL "halt")
  math(EXPR expected "${expected} + ${PORTS} + 1")
endif()
string(JSON events GET "${report}" inputs 0 events)
string(JSON complete GET "${report}" inputs 0 complete)
if(NOT events EQUAL expected)
  message(FATAL_ERROR "${TRACE}: ${events} events read, expected ${expected}\n${report}")
endif()
string(JSON count LENGTH "${report}" diagnostics)
string(JSON code GET "${report}" diagnostics 0 code)
if(NOT count EQUAL 1 OR NOT code STREQUAL "leak")
  message(FATAL_ERROR "${TRACE}: expected exactly one finding, a leak:\n${report}")
endif()
message(STATUS "${events} events, complete=${complete}, one leak; ${size} bytes")
