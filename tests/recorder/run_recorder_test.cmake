# recorder_test writes a trace and compares it line by line (also with
# recording off, and with a stack); then
# `refctrace check` must read it without an input error and find the leak in
# the file whose name has a quote and a backslash, under that very name.
#   cmake -DRECORDER_TEST=exe -DREFCTRACE=exe -DOUT=dir -P run_recorder_test.cmake
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
set(trace "${OUT}/recorded.ndjson")

execute_process(COMMAND "${RECORDER_TEST}" "${trace}" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "recorder_test failed (${rc}):\n${err}")
endif()
foreach(mode off stack refuse append locked fork thread-first)
  execute_process(COMMAND "${RECORDER_TEST}" "${OUT}/${mode}.ndjson" ${mode} RESULT_VARIABLE rc
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "recorder_test ${mode} failed (${rc}):\n${err}")
  endif()
endforeach()

execute_process(COMMAND "${REFCTRACE}" check --format json "${trace}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE report ERROR_VARIABLE err)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "refctrace check ${trace}: exit ${rc}, expected 1 (findings)\n${err}")
endif()
string(JSON count LENGTH "${report}" diagnostics)
math(EXPR last "${count} - 1")
set(found "")
foreach(i RANGE ${last})
  string(JSON code GET "${report}" diagnostics ${i} code)
  string(JSON src ERROR_VARIABLE no_src GET "${report}" diagnostics ${i} src)
  string(JSON func ERROR_VARIABLE no_func GET "${report}" diagnostics ${i} func)
  if(code STREQUAL "leak" AND src STREQUAL "my\"drv\\x.c:27" AND func STREQUAL "LeakInQuotedFile")
    set(found yes)
  endif()
endforeach()
if(NOT found)
  message(FATAL_ERROR "no leak at my\"drv\\x.c:27 in:\n${report}")
endif()
