# One Common Test run of a sample suite under the hook refctrace_cth, by ct_run or by
# rebar3 ct, in a scratch project; then the parts it wrote are judged.
#   -DRUNNER=ct_run|rebar3 -DMODE=record|off|unset|refused -DCT_RUN -DREBAR3 -DHOOK_APP (the
#   refctrace application directory: ebin/ with refctrace.app) -DREFCTRACE -DWORK (scratch
#   directory, emptied first), and the sample: -DSAMPLE=drv -DDRIVER_DIR (sample_drv.so)
#   -DSUITE (sample_SUITE.erl) -DDRIVER_SOURCE, or -DSAMPLE=nif -DNIF_DIR (sample_nif.so)
#   -DSUITE (nif_SUITE.erl) -DNIF_MODULE (sample_nif.erl) -DNIF_SOURCE (record only)
#   -DTRACER_DIR (refctrace_tracer_nif.so built alone)
#
# record: every part the hook must write is there, in this order, with the
# header of one run (run, part, case); no finding in any clean case's part
# alone, the leak in the leak case's part alone (the driver); the parts
# concatenated in part order without their headers (the whole run) have
# exactly one finding, the seeded leak at the line marked "e2e:leak" in
# sample_drv.c ("seed-bin-leak:leak" in sample_nif.c), and its event is in
# the part of the case `leak`; `refctrace check` on the directory names that part; the run
# file is removed (rebar3), or kept when asked (ct_run) and then equal to the
# parts' bodies in order; the tracer related every process-side id.
# off: REFCTRACE=0: the tests run, the hook does nothing (the recorder alone
# writes the run file). unset: no REFCTRACE_TRACE: nothing is written, and the
# hook says why.
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
if(SAMPLE STREQUAL "nif")
  file(COPY ${NIF_MODULE} DESTINATION ${project}/test)
  get_filename_component(suite_name ${SUITE} NAME_WE)
  set(source ${NIF_SOURCE})
  set(mark seed-bin-leak)
  # No driver: the tracer's NIFs come from refctrace_tracer_nif.so built alone, and the
  # hook attaches the NIF library once the suite has loaded it (init_per_suite).
  set(hook_driver "{tracer_library, \"${TRACER_DIR}/refctrace_tracer_nif\"}, ")
  string(APPEND hook_driver "{nifs, [\"${NIF_DIR}/sample_nif\"]}, ")
  set(expected_cases ${suite_name}.init_per_suite ${suite_name}.clean ${suite_name}.leak
                     ${suite_name}.end_per_suite end_of_run)
else()
  set(suite_name sample_SUITE)
  set(source ${DRIVER_SOURCE})
  set(mark e2e)
  set(hook_driver "{driver, \"${DRIVER_DIR}/sample_drv\"}, ")
  set(expected_cases sample_SUITE.init_per_suite sample_SUITE.clean sample_SUITE.spawned
                     sample_SUITE.dropped sample_SUITE.leak sample_SUITE.grouped.init_per_group
                     sample_SUITE.grouped.clean sample_SUITE.grouped.end_per_group
                     sample_SUITE.end_per_suite end_of_run)
endif()
set(leak_case ${suite_name}.leak)
set(run_file ${WORK}/refctrace.run)
if(MODE STREQUAL "refused")
  file(WRITE ${run_file} "{\"op\":\"alloc\",\"bin\":\"0x1\",\"size\":1}\n")
endif()

set(hook_options "[${hook_driver}{keep_run_file, false}]")
if(RUNNER STREQUAL "ct_run")
  set(hook_options "[${hook_driver}{keep_run_file, true}]")
endif()
set(env SAMPLE_DRV_DIR=${DRIVER_DIR} SAMPLE_NIF_DIR=${NIF_DIR} ERL_LIBS=${WORK}/lib HOME=${WORK}/home)
if(MODE STREQUAL "off")
  list(APPEND env REFCTRACE=0)
endif()
if(MODE STREQUAL "unset")
  list(APPEND env --unset=REFCTRACE_TRACE)
else()
  list(APPEND env REFCTRACE_TRACE=${run_file})
endif()
if(RUNNER STREQUAL "ct_run")
  # ct_run starts a distributed node (ct@host by default): a name of its own per scratch
  # directory, so that runs at the same time (ctest -j, other build trees) do not collide.
  string(MD5 node "${WORK}")
  string(SUBSTRING "${node}" 0 12 node)
  set(command ${CT_RUN} -noshell -sname ct_${node} -dir test -logdir logs
              -ct_hooks refctrace_cth ${hook_options})
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
  # The hook is off; the recorder, whose variable REFCTRACE_TRACE is, still writes the
  # driver's calls, but no process is traced and nothing is cut.
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${RUNNER} failed (${result}):\n${out}${err}")
  endif()
  file(READ ${run_file} run_text)
  if(EXISTS ${traces} OR run_text MATCHES "\"actor\":\"<" OR NOT run_text MATCHES "\"op\":\"alloc\"")
    message(FATAL_ERROR "REFCTRACE=0: the hook wrote ${traces}, or the tracer ran, or the "
                        "recorder did not:\n${out}${err}")
  endif()
  message(STATUS "ct_e2e/${RUNNER}/off: the suite ran, the hook did nothing")
  return()
endif()

if(MODE STREQUAL "unset")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${RUNNER} failed (${result}):\n${out}${err}")
  endif()
  if(EXISTS ${traces} OR EXISTS ${run_file} OR NOT "${out}${err}" MATCHES "REFCTRACE_TRACE is not set: not recording")
    message(FATAL_ERROR "REFCTRACE_TRACE unset: the hook wrote ${traces} or did not say why "
                        "it did not record:\n${out}${err}")
  endif()
  message(STATUS "ct_e2e/${RUNNER}/unset: the suite ran, nothing was recorded, the hook said why")
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
# ct_run keeps the run file ({keep_run_file, true}), rebar3 ct has it removed.
if(RUNNER STREQUAL "ct_run" AND NOT EXISTS ${run_file})
  message(FATAL_ERROR "${run_file} was removed, yet the hook was asked to keep it")
elseif(RUNNER STREQUAL "rebar3" AND EXISTS ${run_file})
  message(FATAL_ERROR "${run_file} is left after a run that ended")
endif()

# The parts, in the order the run wrote them (expected_cases).
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
set(pending_receiver "")
foreach(name IN LISTS expected_cases)
  set(file ${traces}/${name}.ndjson)
  if(NOT EXISTS ${file})
    message(FATAL_ERROR "no part ${name}.ndjson in ${traces}: [${written}]")
  endif()
  # Byte for byte: the header line, then the recorder's lines.
  file(READ ${file} text)
  string(FIND "${text}" "\n" newline)
  string(SUBSTRING "${text}" 0 ${newline} header)
  math(EXPR body_start "${newline} + 1")
  string(SUBSTRING "${text}" ${body_start} -1 lines)
  string(JSON version GET "${header}" refctrace)
  string(JSON id GET "${header}" run)
  string(JSON position GET "${header}" part)
  string(JSON case GET "${header}" case)
  # The recorder's header fields (otp, source) are in every part cut once the recorder has
  # opened its file: a part with lines has them.
  string(JSON otp ERROR_VARIABLE no_otp GET "${header}" otp)
  if(NOT version EQUAL 1 OR NOT position EQUAL part OR NOT case STREQUAL name
     OR otp STREQUAL "?" OR (no_otp AND NOT lines STREQUAL ""))
    message(FATAL_ERROR "${file}: header ${header}: expected part ${part}, case ${name}, "
                        "and the recorder's otp")
  endif()
  if(part EQUAL 0)
    set(run_id "${id}")
  elseif(NOT id STREQUAL run_id)
    message(FATAL_ERROR "${file}: run ${id}, the earlier parts' run is ${run_id}")
  endif()
  string(REGEX MATCHALL "\n" newlines "${lines}")
  list(LENGTH newlines count)
  if(name STREQUAL leak_case)
    math(EXPR leak_first_line "${whole_lines} + 1")
    math(EXPR leak_last_line "${whole_lines} + ${count}")
  endif()
  math(EXPR whole_lines "${whole_lines} + ${count}")
  file(APPEND ${whole} "${lines}")
  # The process side of each case: the 1000-byte binary's receive is in its part, and so is
  # its release by the receiver, or the receiver's exit in the part after it. (The hook
  # collects the case process's garbage at the case's end, but the tracer writes a `gc` only
  # for a wrapper it saw before the collection freed it: a wrapper received and dropped
  # between two looks is released by the process's exit, which comes after the case's end.)
  # The spawned process holds its binary past its case; the next case (dropped) has it
  # dropped and collected: a `gc`, which the tracer writes only for a process it followed
  # from its spawn, and whose wrapper it related at the end of spawned.
  if(NOT pending_receiver STREQUAL "")
    set(release "\"op\":\"exit\",\"actor\":\"${pending_receiver}\"")
    if(name STREQUAL "sample_SUITE.dropped")
      set(release "\"op\":\"gc\",\"bin\":\"[^\"]+\",\"actor\":\"${pending_receiver}\"")
    endif()
    if(NOT "${lines}" MATCHES "${release}")
      message(FATAL_ERROR "${pending_part}: ${pending_receiver}'s release is not recorded in "
                          "its part, nor in the next one as ${release} (${file})")
    endif()
    set(pending_receiver "")
  endif()
  if(SAMPLE STREQUAL "drv" AND name MATCHES "^sample_SUITE\\.(grouped\\.)?(clean|spawned|leak)$")
    string(REGEX MATCH "\"op\":\"receive\",\"bin\":\"[^\"]+\",\"actor\":\"(<[0-9.]+>)\""
           received "${lines}")
    set(receiver "${CMAKE_MATCH_1}")
    if(receiver STREQUAL "")
      message(FATAL_ERROR "${file}: no receive recorded (is the case's process traced?)")
    endif()
    if(name STREQUAL "sample_SUITE.spawned" OR
       (NOT "${lines}" MATCHES "\"op\":\"gc\",\"bin\":\"[^\"]+\",\"actor\":\"${receiver}\""
        AND NOT "${lines}" MATCHES "\"op\":\"exit\",\"actor\":\"${receiver}\""))
      set(pending_receiver "${receiver}")
      set(pending_part "${file}")
    endif()
  endif()
  # A case part alone: a clean case has nothing, the driver's leak case its leak (the port
  # stops in the case; the NIF's leak is found where its run ends). A phase's part holds
  # only its processes' exits, which are judged in the whole run.
  if(name MATCHES "^${suite_name}\\.(grouped\\.)?(clean|spawned)$"
     OR (SAMPLE STREQUAL "drv" AND name STREQUAL leak_case))
    refctrace_judge(${REFCTRACE} ${file})
    set(want "")
    if(name STREQUAL leak_case)
      set(want "leak")
    endif()
    refctrace_expected_finding(${source} ${mark} "${want}" "")
    if(NOT check_result EQUAL expected_result OR NOT "${found_locations}" STREQUAL "${expected}")
      message(FATAL_ERROR "${file}: expected [${expected}], got [${found}] (exit ${check_result})\n${check_err}")
    endif()
  endif()
  math(EXPR part "${part} + 1")
endforeach()

# Every byte of the run file after the recorder's header is in exactly one part, in order.
if(RUNNER STREQUAL "ct_run")
  file(READ ${run_file} run_text)
  file(READ ${whole} whole_text)
  string(FIND "${run_text}" "\n" newline)
  math(EXPR body_start "${newline} + 1")
  string(SUBSTRING "${run_text}" ${body_start} -1 run_body)
  if(NOT run_body STREQUAL whole_text)
    message(FATAL_ERROR "the parts, concatenated without their headers, are not ${run_file} "
                        "without its header (compare ${whole})")
  endif()
endif()

# The NIF's process side is recorded once the hook attached the library: the binary the
# clean case's process got from make_bin/1 is released by that process (a `gc`, or its
# exit) in the run.
if(SAMPLE STREQUAL "nif")
  file(READ ${whole} whole_text)
  string(REGEX MATCH "\"op\":\"bin_make\"[^\n]*\"bin\":\"([^\"]+)\"" made "${whole_text}")
  set(made_bin "${CMAKE_MATCH_1}")
  if(made_bin STREQUAL "" OR NOT whole_text MATCHES "\"op\":\"gc\",\"bin\":\"${made_bin}\"")
    message(FATAL_ERROR "the NIF's process side is not recorded: no gc of the first made "
                        "binary (${made_bin}) in ${whole}")
  endif()
endif()

# The whole run: the one seeded leak, made in the case `leak`.
refctrace_judge(${REFCTRACE} ${whole})
refctrace_expected_finding(${source} ${mark} leak "")
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

# The directory: check reads the run's parts as one stream (trace format 1.5), so the
# binary the spawned process got in the case spawned and released in dropped is known
# there: the one finding is the leak, charged to the case leak's part and named by it.
execute_process(COMMAND ${REFCTRACE} check --format json ${traces} RESULT_VARIABLE result
                OUTPUT_VARIABLE report ERROR_VARIABLE err)
string(JSON count LENGTH "${report}" diagnostics)
set(leaks 0)
set(others "")
if(count GREATER 0)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    string(JSON code GET "${report}" diagnostics ${i} code)
    string(JSON path GET "${report}" diagnostics ${i} path)
    string(JSON case ERROR_VARIABLE no_case GET "${report}" diagnostics ${i} case)
    if(code STREQUAL "leak" AND path STREQUAL "${traces}/${leak_case}.ndjson"
       AND case STREQUAL "${leak_case}")
      math(EXPR leaks "${leaks} + 1")
    else()
      list(APPEND others "${code} in ${path} (case ${case})")
    endif()
  endforeach()
endif()
if(NOT result EQUAL 1 OR NOT leaks EQUAL 1 OR NOT others STREQUAL "")
  message(FATAL_ERROR "check ${traces}: exit ${result}, ${leaks} leaks in ${leak_case}.ndjson, "
                      "expected one, and nothing else but [${others}]\n${err}")
endif()
message(STATUS "ct_e2e/${SAMPLE}/${RUNNER}: ${part} parts of run ${run_id}, ${whole_lines} events; the one finding "
               "is the seeded leak, in the case leak (line ${leak_line} of the whole run)")
