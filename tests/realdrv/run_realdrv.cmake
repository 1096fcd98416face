# One recorded run of a real driver: WORKLOAD drives it under `erl` while the
# recorder (and, where binaries reach processes, refctrace_tracer) write
# TRACE; then `refctrace check` judges the trace.
#   -DERL -DPATHS (code paths, ;-separated) -DWORKLOAD (module; `erl -run`
#   calls its main/1 with ARGS, or main/0 if ARGS is empty) -DARGS -DREFCTRACE -DTRACE -DDRIVER_SOURCE (the patched source the
#   driver was built from) -DEXPECTED_CODE -DMIN_DRIVER_REFC -DMIN_PROCESS_REFC
#   -DMIN_PORTS, and optionally -DBORROWS_FROM -DBORROWS_GATHERED (how many
#   borrows must say `from`, `gathered`) -DMIN_TASK_BORROWS (at least that
#   many borrows of a scheduled command, `task`)
# A clean run (EXPECTED_CODE empty) must give no diagnostic at all, warnings
# included; a seeded run exactly one, with that code, at the line of
# DRIVER_SOURCE that its seed patch marks "seeded:CODE". A refc-mismatch is
# a diagnostic like any other, so every count recorded must equal the
# model's. Every failed expectation is reported, not only the first.

include(${CMAKE_CURRENT_LIST_DIR}/../judged_run.cmake)

refctrace_record(${ERL} ${TRACE} "${PATHS}" ${WORKLOAD} ${ARGS})

# What the trace holds: events, the emulator's counts on each side, and the
# ports the driver events name.
refctrace_trace_figures(${TRACE})
list(LENGTH ports port_count)
set(problems "")
if(driver_refc LESS MIN_DRIVER_REFC OR process_refc LESS MIN_PROCESS_REFC)
  string(APPEND problems "too few counts recorded: driver ${driver_refc} (want ${MIN_DRIVER_REFC}), "
                         "processes ${process_refc} (want ${MIN_PROCESS_REFC})\n")
endif()
foreach(kind IN ITEMS from gathered)
  string(TOUPPER ${kind} upper)
  if(DEFINED BORROWS_${upper} AND NOT borrows_${kind} EQUAL BORROWS_${upper})
    string(APPEND problems "${borrows_${kind}} borrows say ${kind} (want ${BORROWS_${upper}})\n")
  endif()
endforeach()
if(DEFINED MIN_TASK_BORROWS AND task_borrows LESS MIN_TASK_BORROWS)
  string(APPEND problems "${task_borrows} borrows of a scheduled command (want ${MIN_TASK_BORROWS} at least)\n")
endif()
if(port_count LESS MIN_PORTS)
  string(APPEND problems "driver events name ${port_count} ports (want ${MIN_PORTS} at least)\n")
endif()

refctrace_judge(${REFCTRACE} ${TRACE})
refctrace_expected_finding(${DRIVER_SOURCE} seeded "${EXPECTED_CODE}" "")
if(NOT check_result EQUAL expected_result OR NOT "${found_locations}" STREQUAL "${expected}")
  execute_process(COMMAND ${REFCTRACE} check --color never ${TRACE} OUTPUT_VARIABLE text)
  string(APPEND problems "expected [${expected}] (exit ${expected_result}), got ${finding_count} "
                         "[${found}] (exit ${check_result})\n${text}${check_err}")
endif()

string(CONCAT figures "${events} events; the emulator's count on ${driver_refc} driver events (${observes} "
            "observe) and ${process_refc} process events; ${port_count} ports; "
            "${amongs} releases of one of several binaries (gc with among); borrows: "
            "${borrows_from} from, ${borrows_gathered} gathered, ${task_borrows} task")
if(problems)
  message(FATAL_ERROR "${WORKLOAD} ${TRACE}: ${figures}\n${problems}")
endif()
# What the workload says of its run (echo: the tracer's unrelated and uncertain binaries;
# echo-busy: how often the sender was suspended).
string(STRIP "${erl_out}" workload_said)
message(STATUS "${WORKLOAD}: ${figures}, all counts equal to the model's; findings [${found}]"
               "\n${workload_said}")
