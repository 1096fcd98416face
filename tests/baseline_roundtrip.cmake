# --write-baseline, then --baseline with the file it wrote: every finding is
# known, the run passes, and a trace with a new bug still fails.
#
#   cmake -DREFCTRACE=exe -DWORKDIR=testdata -DOUT=dir -P baseline_roundtrip.cmake
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
set(baseline "${OUT}/baseline.json")
include(${CMAKE_CURRENT_LIST_DIR}/run_check.cmake)

run(1 --write-baseline "${baseline}" examples)
file(GLOB temporaries "${OUT}/.baseline.json.tmp*")
if(NOT EXISTS "${baseline}" OR temporaries)
  message(FATAL_ERROR "--write-baseline left no file, or its temporary: ${temporaries}")
endif()
run(0 --baseline "${baseline}" examples)
if(NOT out MATCHES "0 errors, 0 warnings in 2 inputs; .*; 0 suppressed, 2 in the baseline")
  message(FATAL_ERROR "expected both findings to be in the baseline:\n${out}")
endif()
run(1 --baseline "${baseline}" examples diagnostics/double-free.ndjson)
if(NOT out MATCHES "error\\[double-free\\]" OR NOT out MATCHES "1 error, 0 warnings in 3 inputs")
  message(FATAL_ERROR "expected only the new double free to be reported:\n${out}")
endif()
