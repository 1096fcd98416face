# Replays every input under testdata/fuzz-regressions/ through the normal
# binary. Each input NAME.fuzz has NAME.expect beside it: `status N` and
# `contains TEXT` lines (and # comments). `check --color never` must exit N
# and print every TEXT (stdout and stderr together), and print the same bytes
# when run again; `check --format json` must exit N and print valid JSON;
# `graph --format dot` must end with an ordinary status (0, 1 or 2). No run may
# print a sanitizer report.
#
#   cmake -DREFCTRACE=exe -DDIR=testdata/fuzz-regressions -P fuzz_regressions.cmake
file(GLOB inputs "${DIR}/*.fuzz")
list(LENGTH inputs count)
if(count EQUAL 0)
  message(FATAL_ERROR "no regression inputs in ${DIR}")
endif()

# Runs refctrace with `args` (a list) on `input`; sets `out` (stdout and stderr) and `rc`.
function(run_refctrace input args)
  execute_process(COMMAND "${REFCTRACE}" ${args} "${input}"
                  OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr RESULT_VARIABLE status)
  if(stderr MATCHES "Sanitizer|runtime error")
    message(FATAL_ERROR "refctrace ${args} ${input}: sanitizer report\n${stderr}")
  endif()
  set(stdout "${stdout}" PARENT_SCOPE)
  set(out "${stdout}${stderr}" PARENT_SCOPE)
  set(rc "${status}" PARENT_SCOPE)
endfunction()

foreach(input IN LISTS inputs)
  string(REGEX REPLACE "\\.fuzz$" ".expect" expect_file "${input}")
  if(NOT EXISTS "${expect_file}")
    message(FATAL_ERROR "${input} has no ${expect_file}: say what check must do with it")
  endif()
  # Read line by line without CMake's list rules: `;` and brackets in the text are kept.
  file(READ "${expect_file}" expect)
  string(REPLACE ";" "<semicolon>" expect "${expect}")
  string(REPLACE "[" "<open>" expect "${expect}")
  string(REPLACE "]" "<close>" expect "${expect}")
  string(REPLACE "\n" ";" lines "${expect}")
  set(want_status "")
  set(wanted_texts "")
  foreach(line IN LISTS lines)
    if(line STREQUAL "" OR line MATCHES "^#")
      continue()
    elseif(line MATCHES "^status ([0-9]+)$")
      set(want_status "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^contains (.+)$")
      list(APPEND wanted_texts "${CMAKE_MATCH_1}")
    else()
      message(FATAL_ERROR "${expect_file}: not `status N`, `contains TEXT` or a comment: ${line}")
    endif()
  endforeach()
  if(want_status STREQUAL "" OR wanted_texts STREQUAL "")
    message(FATAL_ERROR "${expect_file}: needs a `status` line and at least one `contains`")
  endif()

  run_refctrace("${input}" "check;--color;never")
  if(NOT rc STREQUAL want_status)
    message(FATAL_ERROR "refctrace check ${input}: exit ${rc}, expected ${want_status}\n${out}")
  endif()
  foreach(text IN LISTS wanted_texts)
    string(REPLACE "<semicolon>" ";" text "${text}")
    string(REPLACE "<open>" "[" text "${text}")
    string(REPLACE "<close>" "]" text "${text}")
    string(FIND "${out}" "${text}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "refctrace check ${input}: the output lacks\n  ${text}\nit was:\n${out}")
    endif()
  endforeach()
  set(first "${out}")
  run_refctrace("${input}" "check;--color;never")
  if(NOT out STREQUAL first)
    message(FATAL_ERROR "refctrace check ${input}: a second run printed other bytes")
  endif()

  run_refctrace("${input}" "check;--format;json")
  if(NOT rc STREQUAL want_status)
    message(FATAL_ERROR "refctrace check --format json ${input}: exit ${rc}, expected ${want_status}")
  endif()
  string(JSON type ERROR_VARIABLE json_error TYPE "${stdout}")
  if(json_error)
    message(FATAL_ERROR "refctrace check --format json ${input}: not JSON (${json_error})\n${stdout}")
  endif()

  run_refctrace("${input}" "graph;--format;dot")
  if(NOT rc MATCHES "^[012]$")
    message(FATAL_ERROR "refctrace graph ${input}: exit ${rc}\n${out}")
  endif()
endforeach()
message(STATUS "${count} regression inputs replayed, each as its .expect says")
