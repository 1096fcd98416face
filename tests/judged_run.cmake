# What `refctrace check` said of a recorded trace, and what it should have
# said: shared by the end-to-end runs of the sample driver (tests/e2e) and of
# the real drivers (tests/realdrv), included by their -P scripts.

# refctrace_record(ERL TRACE PATHS SCRIPT ARG...): runs `erl -run SCRIPT
# main ARG...` with the code PATHS (a list) and REFCTRACE_TRACE=TRACE (a
# fresh file), stops on a failed run with its output, and sets erl_out (the
# script's stdout) in the caller's scope.
function(refctrace_record erl trace paths script)
  file(REMOVE ${trace})
  set(pa "")
  foreach(p IN LISTS paths)
    list(APPEND pa -pa ${p})
  endforeach()
  execute_process(COMMAND ${CMAKE_COMMAND} -E env REFCTRACE_TRACE=${trace}
                          ${erl} -noshell ${pa} -run ${script} main ${ARGN}
                  RESULT_VARIABLE erl_result OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 90)
  if(NOT erl_result EQUAL 0)
    message(FATAL_ERROR "erl failed (${erl_result}):\n${out}${err}")
  endif()
  set(erl_out "${out}" PARENT_SCOPE)
endfunction()

# refctrace_judge(REFCTRACE TRACE): runs `check --format json --fail-on
# warning` and sets, in the caller's scope, check_result (the exit status),
# check_err (its stderr), finding_count, found ("code@src(event N)" per
# diagnostic, in report order) and found_locations (the same without the
# event). A run that gives no JSON report stops with its stderr.
function(refctrace_judge refctrace trace)
  execute_process(COMMAND ${refctrace} check --format json --fail-on warning ${trace}
                  RESULT_VARIABLE result OUTPUT_VARIABLE report ERROR_VARIABLE err)
  string(JSON count ERROR_VARIABLE json_error LENGTH "${report}" diagnostics)
  if(json_error)
    message(FATAL_ERROR "refctrace check gave no report (${result}): ${json_error}\n${err}")
  endif()
  set(found "")
  set(locations "")
  if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      string(JSON code GET "${report}" diagnostics ${i} code)
      string(JSON src ERROR_VARIABLE no_src GET "${report}" diagnostics ${i} src)
      if(no_src)
        set(src "(no src)")
      endif()
      string(JSON event GET "${report}" diagnostics ${i} event)
      list(APPEND found "${code}@${src}(event ${event})")
      list(APPEND locations "${code}@${src}")
    endforeach()
  endif()
  set(check_result "${result}" PARENT_SCOPE)
  set(check_err "${err}" PARENT_SCOPE)
  set(finding_count "${count}" PARENT_SCOPE)
  set(found "${found}" PARENT_SCOPE)
  set(found_locations "${locations}" PARENT_SCOPE)
endfunction()

# refctrace_check_text(REFCTRACE TRACE): the text report of TRACE and its
# stderr, for a failure message that shows the findings as a user reads them.
# Sets check_text.
function(refctrace_check_text refctrace trace)
  execute_process(COMMAND ${refctrace} check --color never ${trace} OUTPUT_VARIABLE text
                  ERROR_VARIABLE text_err)
  set(check_text "${text}${text_err}" PARENT_SCOPE)
endfunction()

# refctrace_expected_finding(SOURCE MARK CODE SRC_PREFIX): what a run must
# report. CODE empty: nothing, exit 0. Else exactly one CODE at the line of
# SOURCE that holds "MARK:CODE " (written SRC_PREFIX + the file's name, as
# the recorder writes `src`), exit 1. Sets expected and expected_result.
function(refctrace_expected_finding source mark code src_prefix)
  if(code STREQUAL "")
    set(expected "" PARENT_SCOPE)
    set(expected_result 0 PARENT_SCOPE)
    return()
  endif()
  # Counted in the text, not through file(STRINGS): a list of lines merges
  # a line that ends in a backslash (a macro's) with the next one.
  file(READ ${source} text)
  string(FIND "${text}" "${mark}:${code} " at REVERSE)
  if(at EQUAL -1)
    message(FATAL_ERROR "no line marked ${mark}:${code} in ${source}")
  endif()
  string(SUBSTRING "${text}" 0 ${at} before)
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines marked)
  math(EXPR marked "${marked} + 1")
  get_filename_component(source_name ${source} NAME)
  set(expected "${code}@${src_prefix}${source_name}:${marked}" PARENT_SCOPE)
  set(expected_result 1 PARENT_SCOPE)
endfunction()

# refctrace_trace_figures(TRACE): what a recorded trace holds, read before
# the verdict so a run that recorded too little fails as such. Sets, in the
# caller's scope: events, observes, amongs (gc with among), driver_refc and
# process_refc (events carrying the emulator's count, by side),
# borrows_from, borrows_gathered, task_borrows (borrows saying so), ports
# (the distinct ports driver events name), portless_driver_events (driver
# events naming none) and unknown_receivers (the lines of outputs whose
# receiver the recorder could not name).
function(refctrace_trace_figures trace)
  file(STRINGS ${trace} lines)
  foreach(figure IN ITEMS events observes amongs driver_refc process_refc borrows_from
                          borrows_gathered task_borrows portless_driver_events)
    set(${figure} 0)
  endforeach()
  set(ports "")
  set(unknown_receivers "")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "\"op\"")
      continue()
    endif()
    math(EXPR events "${events} + 1")
    if(line MATCHES "\"op\":\"observe\"")
      math(EXPR observes "${observes} + 1")
    endif()
    if(line MATCHES "\"among\":")
      math(EXPR amongs "${amongs} + 1")
    endif()
    if(line MATCHES "\"op\":\"borrow\"")
      if(line MATCHES "\"from\":")
        math(EXPR borrows_from "${borrows_from} + 1")
      endif()
      if(line MATCHES "\"gathered\":true")
        math(EXPR borrows_gathered "${borrows_gathered} + 1")
      endif()
      if(line MATCHES "\"task\":")
        math(EXPR task_borrows "${task_borrows} + 1")
      endif()
    endif()
    if(line MATCHES "\"to\":\"unknown\"")
      list(APPEND unknown_receivers "${line}")
    endif()
    if(line MATCHES "\"actor\":")
      if(line MATCHES "\"refc\":")
        math(EXPR process_refc "${process_refc} + 1")
      endif()
      continue()
    endif()
    if(line MATCHES "\"refc\":")
      math(EXPR driver_refc "${driver_refc} + 1")
    endif()
    if(line MATCHES "\"port\":\"([^\"]*)\"")
      list(APPEND ports "${CMAKE_MATCH_1}")
    else()
      math(EXPR portless_driver_events "${portless_driver_events} + 1")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES ports)
  foreach(figure IN ITEMS events observes amongs driver_refc process_refc borrows_from
                          borrows_gathered task_borrows portless_driver_events ports
                          unknown_receivers)
    set(${figure} "${${figure}}" PARENT_SCOPE)
  endforeach()
endfunction()

# refctrace_t_in_order(TRACE LINE...): the `t` of each LINE that has one is
# not below the previous one's (the recorder reads its clock under the
# writer's lock, so its lines' `t` never goes back in file order).
function(refctrace_t_in_order trace)
  set(previous_t "")
  foreach(line IN LISTS ARGN)
    if(NOT line MATCHES ",\"t\":(-?[0-9]+)[,}]")
      continue()
    endif()
    set(t ${CMAKE_MATCH_1})
    if(NOT previous_t STREQUAL "")
      math(EXPR step "(${t}) - (${previous_t})")
      if(step LESS 0)
        message(FATAL_ERROR "${trace}: `t` goes back by ${step} ns at: ${line}")
      endif()
    endif()
    set(previous_t ${t})
  endforeach()
endfunction()

# refctrace_none_held(REFCTRACE TRACE WHAT): at the trace's end no process
# holds a reference to a recorded binary (every one was recorded released:
# gc, exit); WHAT names the binaries in the message.
function(refctrace_none_held refctrace trace what)
  execute_process(COMMAND ${refctrace} check --format json ${trace} OUTPUT_VARIABLE report
                  ERROR_VARIABLE report_err)
  string(JSON held ERROR_VARIABLE held_error GET "${report}" summary held_by_processes)
  if(held_error OR NOT held EQUAL 0)
    message(FATAL_ERROR "${trace}: processes still hold ${what} at the end (${held}${held_error})")
  endif()
endfunction()
