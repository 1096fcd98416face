# One end-to-end run: sample_drv under the real emulator writes a trace
# (recorder + refctrace_tracer), then `refctrace check` judges it.
#   -DERL -DEBIN -DDRIVER_DIR -DREFCTRACE -DBUG -DEXPECTED_CODE -DTRACE -DDRIVER_SOURCE
#   [-DSRC_PREFIX=dir/]
# A clean run (EXPECTED_CODE empty) must give no diagnostic at all, warnings
# included; a seeded bug exactly one, with that code, at the line of
# sample_drv.c marked "e2e:CODE". Any refc-mismatch fails either way: that
# is the model disagreeing with the emulator.

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
refctrace_trace_figures(${TRACE})
# Public names only: every driver event names its port, and every message
# its receiver (the port's send trace), but for the one erl_drv_send_term
# from the driver's own thread, which no trace names (the model binds it at
# the receive), and which must be there.
if(portless_driver_events GREATER 0)
  message(FATAL_ERROR "${TRACE}: ${portless_driver_events} driver events without their port")
endif()
list(LENGTH unknown_receivers unknown_count)
if(NOT unknown_count EQUAL 1 OR NOT unknown_receivers MATCHES "\"func\":\"SendFromThread\"")
  message(FATAL_ERROR "${TRACE}: outputs whose receiver was not named (\"to\":\"unknown\"), "
                      "expected the one from the driver's thread (SendFromThread):\n${unknown_receivers}")
endif()
# The driver's lines (they have `src`) carry `t`, which never goes back in file order,
# the lines of SendFromThread (the driver's own thread) included: the emulator's clock
# answers on schedulers only, and those lines once had INT64_MIN (decision 201).
file(STRINGS ${TRACE} driver_lines REGEX "\"src\":")
refctrace_t_in_order(${TRACE} ${driver_lines})
set(thread_lines 0)
foreach(line IN LISTS driver_lines)
  if(NOT line MATCHES ",\"t\":(-?[0-9]+)[,}]")
    message(FATAL_ERROR "${TRACE}: a driver line without `t`: ${line}")
  endif()
  if(CMAKE_MATCH_1 STREQUAL "-9223372036854775808")
    message(FATAL_ERROR "${TRACE}: `t` is ERL_DRV_TIME_ERROR (INT64_MIN) at: ${line}")
  endif()
  if(line MATCHES "\"func\":\"SendFromThread\"")
    math(EXPR thread_lines "${thread_lines} + 1")
  endif()
endforeach()
if(thread_lines LESS 1)
  message(FATAL_ERROR "${TRACE}: no driver line from the driver's thread (SendFromThread)")
endif()
list(LENGTH ports port_count)
if(NOT port_count EQUAL 2)
  message(FATAL_ERROR "${TRACE}: ${port_count} ports, expected the session's 2: ${ports}")
endif()
# The session sends small pieces (the emulator gathers them) and its own
# large binaries (the sender's references): both must be told apart.
if(borrows_gathered LESS 1 OR borrows_from LESS 1)
  message(FATAL_ERROR "${TRACE}: the command's own binaries were not learnt "
                      "(${borrows_gathered} gathered, ${borrows_from} from): is erlang:port_command call-traced?")
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
