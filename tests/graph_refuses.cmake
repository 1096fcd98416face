# `graph` refuses what it cannot draw before it writes anything: a directory
# as its trace, a trace that cannot be read, and a --format that contradicts
# -o's file name. Each must exit 2, say why, and leave no output file.
#
#   cmake -DREFCTRACE=bin -DSOURCE=repo -DOUT=dir -P graph_refuses.cmake
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
function(expect_refusal name expected_message)
  execute_process(COMMAND "${REFCTRACE}" ${ARGN} RESULT_VARIABLE status
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 2)
    message(FATAL_ERROR "${name}: exit ${status}, expected 2\n${err}")
  endif()
  if(NOT err MATCHES "${expected_message}")
    message(FATAL_ERROR "${name}: stderr does not say '${expected_message}':\n${err}")
  endif()
  file(GLOB written "${OUT}/*")
  if(written)
    message(FATAL_ERROR "${name}: wrote ${written}")
  endif()
endfunction()
expect_refusal(directory "is a directory: graph reads one trace"
               graph "${SOURCE}/testdata/examples" -o "${OUT}/life.svg")
expect_refusal(unreadable "cannot open"
               graph "${OUT}/no-such-trace.ndjson" -o "${OUT}/life.svg")
expect_refusal(format-against-name "--format png does not match -o .*x.svg \\(named as svg\\)"
               graph "${SOURCE}/testdata/examples/quickstart.ndjson" --format png -o "${OUT}/x.svg")
expect_refusal(show-directory "is a directory: show reads one trace"
               show "${SOURCE}/testdata/examples" --bin 1)
expect_refusal(check-without-trace "TRACE is required" check)
