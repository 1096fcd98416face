# One end-to-end run: sample_drv under the real emulator writes a trace
# (recorder + refctrace_tracer), then `refctrace check` judges it.
#   -DERL -DEBIN -DDRIVER_DIR -DREFCTRACE -DBUG -DEXPECTED_CODE -DTRACE -DDRIVER_SOURCE
#   [-DSRC_PREFIX=dir/]
# A clean run (EXPECTED_CODE empty) must give no diagnostic at all, warnings
# included; a seeded bug exactly one, with that code, at the line of
# sample_drv.c marked "e2e:CODE". Any refc-mismatch fails either way: that
# is the model disagreeing with the emulator.

cmake_policy(SET CMP0057 NEW) # if(... IN_LIST ...)
include(${CMAKE_CURRENT_LIST_DIR}/../judged_run.cmake)
file(REMOVE ${TRACE})
execute_process(COMMAND ${CMAKE_COMMAND} -E env REFCTRACE_TRACE=${TRACE}
                        ${ERL} -noshell -pa ${EBIN} -run refctrace_e2e main ${BUG} ${DRIVER_DIR}
                RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err
                TIMEOUT 60)
if(NOT erl_result EQUAL 0)
  message(FATAL_ERROR "erl failed (${erl_result}):\n${erl_out}${erl_err}")
endif()

# Both sides wrote, and the emulator's counts are in the trace to be checked.
file(STRINGS ${TRACE} lines)
set(driver_refc 0)
set(process_refc 0)
set(observes 0)
set(events 0)
set(ports "")
set(gathered 0)
set(from 0)
set(unknown_receivers 0)
foreach(line IN LISTS lines)
  # The session sends small pieces (the emulator gathers them) and its own
  # large binaries (the sender's references): both must be told apart.
  if(line MATCHES "\"gathered\":true")
    math(EXPR gathered "${gathered} + 1")
  endif()
  if(line MATCHES "\"from\":\"<")
    math(EXPR from "${from} + 1")
  endif()
  if(line MATCHES "\"op\"")
    math(EXPR events "${events} + 1")
  endif()
  # Public names only: every message names its receiver (the port's send
  # trace), every driver event its port; but for the one erl_drv_send_term
  # from the driver's own thread, which no trace names (the model binds it
  # at the receive), and which must be there.
  if(line MATCHES "\"to\":\"unknown\"")
    if(NOT line MATCHES "\"func\":\"SendFromThread\"")
      message(FATAL_ERROR "${TRACE}: a receiver the tracer did not name: ${line}")
    endif()
    math(EXPR unknown_receivers "${unknown_receivers} + 1")
  endif()
  if(line MATCHES "\"op\"" AND NOT line MATCHES "\"actor\"")
    if(NOT line MATCHES "\"port\":\"(0x[0-9a-f]+)\"")
      message(FATAL_ERROR "${TRACE}: a driver event without its port: ${line}")
    endif()
    if(NOT CMAKE_MATCH_1 IN_LIST ports)
      list(APPEND ports ${CMAKE_MATCH_1})
    endif()
  endif()
  if(line MATCHES "\"op\":\"observe\"")
    math(EXPR observes "${observes} + 1")
  endif()
  if(line MATCHES "\"refc\":")
    if(line MATCHES "\"actor\":")
      math(EXPR process_refc "${process_refc} + 1")
    else()
      math(EXPR driver_refc "${driver_refc} + 1")
    endif()
  endif()
endforeach()
if(NOT unknown_receivers EQUAL 1)
  message(FATAL_ERROR "${TRACE}: ${unknown_receivers} outputs from the driver's thread "
                      "(\"to\":\"unknown\"), expected 1")
endif()
list(LENGTH ports port_count)
if(NOT port_count EQUAL 2)
  message(FATAL_ERROR "${TRACE}: ${port_count} ports, expected the session's 2: ${ports}")
endif()
if(gathered LESS 1 OR from LESS 1)
  message(FATAL_ERROR "${TRACE}: the command's own binaries were not learnt "
                      "(${gathered} gathered, ${from} from): is erlang:port_command call-traced?")
endif()
if(driver_refc LESS 30 OR process_refc LESS 5 OR observes LESS 3)
  message(FATAL_ERROR "${TRACE}: too few counts recorded (driver ${driver_refc}, "
                      "processes ${process_refc}, observe ${observes})")
endif()

refctrace_judge(${REFCTRACE} ${TRACE})
# SRC_PREFIX: the directory the recorder writes before the file name
# (built with -DREFCTRACE_SRC_PATHS); none by default.
refctrace_expected_finding(${DRIVER_SOURCE} e2e "${EXPECTED_CODE}" "${SRC_PREFIX}")
if(NOT check_result EQUAL expected_result OR NOT "${found_locations}" STREQUAL "${expected}")
  execute_process(COMMAND ${REFCTRACE} check --color never ${TRACE} OUTPUT_VARIABLE text)
  message(FATAL_ERROR "e2e/${BUG}: expected [${expected}] (exit ${expected_result}), "
                      "got [${found}] (exit ${check_result})\n${text}${check_err}")
endif()
message(STATUS "e2e/${BUG}: ${events} events, ${port_count} ports; the emulator's count on ${driver_refc} driver "
               "events (${observes} observe) and ${process_refc} process events, all equal to "
               "the model's; findings [${found}]")
