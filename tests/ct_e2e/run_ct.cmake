# One Common Test run of sample_SUITE under the hook refctrace_cth, by ct_run or by
# rebar3 ct, in a scratch project; then the parts it wrote are judged.
#   -DRUNNER=ct_run|rebar3 -DMODE=record|off|refused -DCT_RUN -DREBAR3 -DHOOK_APP (the
#   refctrace application directory: ebin/ with refctrace.app) -DDRIVER_DIR (sample_drv.so)
#   -DSUITE -DREFCTRACE -DDRIVER_SOURCE -DWORK (scratch directory, emptied first)
#
# record: every part the hook must write is there, in this order, with the
# header of one run (run, part, case); no finding in any case part alone, nor
# in the phases' parts; the parts concatenated in part order without their
# headers (the whole run) have exactly one finding, the seeded leak at the
# line marked "e2e:leak" in sample_drv.c, and its event is in the part of the
# case `leak`; `refctrace check` on the directory names that part; the run
# file is removed; the tracer related every process-side id.
# off: REFCTRACE=0, the tests run and nothing is written.
# refused: the run file is not empty: the suite fails in init_per_suite with
# the recorder's reason, no part is written and the file is left as it was.

cmake_policy(SET CMP0057 NEW) # if(... IN_LIST ...)
include(${CMAKE_CURRENT_LIST_DIR}/../judged_run.cmake)

file(REMOVE_RECURSE ${WORK})
set(project ${WORK}/project)
file(MAKE_DIRECTORY ${project}/test ${project}/logs ${WORK}/lib ${WORK}/home)
# ERL_LIBS finds the hook as an installed application: lib/refctrace/ebin.
file(CREATE_LINK ${HOOK_APP} ${WORK}/lib/refctrace SYMBOLIC)
file(COPY ${SUITE} DESTINATION ${project}/test)
set(run_file ${WORK}/refctrace.run)
if(MODE STREQUAL "refused")
  file(WRITE ${run_file} "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":1}\n")
endif()

set(hook_options "[{driver, \"${DRIVER_DIR}/sample_drv\"}]")
set(env REFCTRACE_TRACE=${run_file} SAMPLE_DRV_DIR=${DRIVER_DIR} ERL_LIBS=${WORK}/lib
        HOME=${WORK}/home)
if(MODE STREQUAL "off")
  list(APPEND env REFCTRACE=0)
endif()
if(RUNNER STREQUAL "ct_run")
  set(command ${CT_RUN} -noshell -dir test -logdir logs -ct_hooks refctrace_cth ${hook_options})
elseif(RUNNER STREQUAL "rebar3")
  # No dependency: rebar3 fetches nothing (HOME is scratch, so no cache either).
  file(WRITE ${project}/rebar.config
       "{ct_opts, [{logdir, \"logs\"}, {ct_hooks, [{refctrace_cth, ${hook_options}}]}]}.\n")
  file(MAKE_DIRECTORY ${project}/src)
  file(WRITE ${project}/src/ct_sample.app.src
       "{application, ct_sample, [{description, \"refctrace's Common Test sample\"}, "
       "{vsn, \"0.1.0\"}, {applications, [kernel, stdlib]}]}.\n")
  set(command ${REBAR3} ct)
else()
  message(FATAL_ERROR "RUNNER is ct_run or rebar3, not '${RUNNER}'")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env} ${command} WORKING_DIRECTORY ${project}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 180)
set(traces ${project}/traces)

if(MODE STREQUAL "off")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${RUNNER} failed (${result}):\n${out}${err}")
  endif()
  if(EXISTS ${traces} OR EXISTS ${run_file})
    message(FATAL_ERROR "REFCTRACE=0, yet the hook wrote ${traces} or ${run_file}:\n${out}${err}")
  endif()
  message(STATUS "ct_e2e/${RUNNER}/off: the suite ran, nothing was recorded")
  return()
endif()

if(MODE STREQUAL "refused")
  if(result EQUAL 0)
    message(FATAL_ERROR "${RUNNER} passed with a run file that is not empty:\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "refctrace_cth: not recording: REFCTRACE_TRACE=[^\n]* is not empty")
    message(FATAL_ERROR "the hook did not say why it refused:\n${out}${err}")
  endif()
  file(READ ${run_file} left)
  if(EXISTS ${traces} OR NOT left STREQUAL "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":1}\n")
    message(FATAL_ERROR "refused, yet ${traces} was written or ${run_file} changed")
  endif()
  message(STATUS "ct_e2e/${RUNNER}/refused: the suite failed with the hook's reason, nothing written")
  return()
endif()

if(NOT result EQUAL 0)
  message(FATAL_ERROR "${RUNNER} failed (${result}):\n${out}${err}")
endif()
if(NOT "${out}${err}" MATCHES "refctrace_cth: ([0-9]+) parts of run [^ ]+ in [^ ]+ \\(0 binaries of processes not related\\)")
  message(FATAL_ERROR "the hook's summary is missing, or some process-side id was not related:\n"
                      "${out}${err}")
endif()
if(EXISTS ${run_file})
  message(FATAL_ERROR "${run_file} is left after a run that ended")
endif()

# The parts, in the order the run wrote them.
set(expected_cases sample_SUITE.init_per_suite sample_SUITE.clean sample_SUITE.spawned
                   sample_SUITE.leak sample_SUITE.grouped.init_per_group
                   sample_SUITE.grouped.clean sample_SUITE.grouped.end_per_group
                   sample_SUITE.end_per_suite end_of_run)
file(GLOB written RELATIVE ${traces} ${traces}/*)
list(LENGTH written written_count)
list(LENGTH expected_cases expected_count)
if(NOT written_count EQUAL expected_count)
  message(FATAL_ERROR "${traces} holds [${written}], expected one part per name in [${expected_cases}]")
endif()
set(whole ${WORK}/whole-run.ndjson)
file(WRITE ${whole} "")
set(run_id "")
set(part 0)
set(leak_first_line 0)
set(leak_last_line 0)
set(whole_lines 0)
foreach(name IN LISTS expected_cases)
  set(file ${traces}/${name}.ndjson)
  if(NOT EXISTS ${file})
    message(FATAL_ERROR "no part ${name}.ndjson in ${traces}: [${written}]")
  endif()
  file(STRINGS ${file} lines)
  list(POP_FRONT lines header)
  string(JSON version GET "${header}" refctrace)
  string(JSON id GET "${header}" run)
  string(JSON position GET "${header}" part)
  string(JSON case GET "${header}" case)
  string(JSON otp GET "${header}" otp)
  if(NOT version EQUAL 1 OR NOT position EQUAL part OR NOT case STREQUAL name OR otp STREQUAL "?")
    message(FATAL_ERROR "${file}: header ${header}: expected part ${part}, case ${name}")
  endif()
  if(part EQUAL 0)
    set(run_id "${id}")
  elseif(NOT id STREQUAL run_id)
    message(FATAL_ERROR "${file}: run ${id}, the earlier parts' run is ${run_id}")
  endif()
  list(LENGTH lines count)
  if(name STREQUAL "sample_SUITE.leak")
    math(EXPR leak_first_line "${whole_lines} + 1")
    math(EXPR leak_last_line "${whole_lines} + ${count}")
  endif()
  math(EXPR whole_lines "${whole_lines} + ${count}")
  foreach(line IN LISTS lines)
    file(APPEND ${whole} "${line}\n")
  endforeach()
  # A case part alone: the leak case has its leak, every other case nothing (a
  # phase's part holds only its processes' exits, which are judged in the whole run).
  if(name MATCHES "^sample_SUITE\\.(grouped\\.)?(clean|spawned|leak)$")
    refctrace_judge(${REFCTRACE} ${file})
    set(want "")
    if(name STREQUAL "sample_SUITE.leak")
      set(want "leak")
    endif()
    refctrace_expected_finding(${DRIVER_SOURCE} e2e "${want}" "")
    if(NOT check_result EQUAL expected_result OR NOT "${found_locations}" STREQUAL "${expected}")
      message(FATAL_ERROR "${file}: expected [${expected}], got [${found}] (exit ${check_result})\n${check_err}")
    endif()
  endif()
  math(EXPR part "${part} + 1")
endforeach()

# The whole run: the one seeded leak, made in the case `leak`.
refctrace_judge(${REFCTRACE} ${whole})
refctrace_expected_finding(${DRIVER_SOURCE} e2e leak "")
if(NOT check_result EQUAL expected_result OR NOT "${found_locations}" STREQUAL "${expected}")
  execute_process(COMMAND ${REFCTRACE} check --color never ${whole} OUTPUT_VARIABLE text)
  message(FATAL_ERROR "the whole run: expected [${expected}], got [${found}]\n${text}${check_err}")
endif()
execute_process(COMMAND ${REFCTRACE} check --format json ${whole} OUTPUT_VARIABLE report)
string(JSON leak_line GET "${report}" diagnostics 0 line)
if(leak_line LESS leak_first_line OR leak_line GREATER leak_last_line)
  message(FATAL_ERROR "the leak is at line ${leak_line} of the whole run, outside the case leak's "
                      "lines ${leak_first_line}-${leak_last_line}")
endif()

# The directory: one finding, the leak, in the case leak's part.
execute_process(COMMAND ${REFCTRACE} check --format json ${traces} RESULT_VARIABLE result
                OUTPUT_VARIABLE report ERROR_VARIABLE err)
string(JSON count LENGTH "${report}" diagnostics)
if(NOT result EQUAL 1 OR NOT count EQUAL 1)
  message(FATAL_ERROR "check ${traces}: exit ${result}, ${count} findings, expected the leak alone\n${err}")
endif()
string(JSON code GET "${report}" diagnostics 0 code)
string(JSON path GET "${report}" diagnostics 0 path)
if(NOT code STREQUAL "leak" OR NOT path STREQUAL "${traces}/sample_SUITE.leak.ndjson")
  message(FATAL_ERROR "check ${traces}: ${code} in ${path}, expected the leak in sample_SUITE.leak.ndjson")
endif()
message(STATUS "ct_e2e/${RUNNER}: ${part} parts of run ${run_id}, ${whole_lines} events; the one finding "
               "is the seeded leak, in the case leak (line ${leak_line} of the whole run)")
