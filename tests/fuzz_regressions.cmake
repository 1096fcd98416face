# Replays every input under testdata/fuzz-regressions/ through the normal
# binary: `check` (text and JSON) and `graph` (DOT) must end with an
# ordinary status (0, 1 or 2) and print no sanitizer report.
#
#   cmake -DREFCTRACE=exe -DDIR=testdata/fuzz-regressions -P fuzz_regressions.cmake
file(GLOB inputs "${DIR}/*.fuzz")
list(LENGTH inputs count)
if(count EQUAL 0)
  message(FATAL_ERROR "no regression inputs in ${DIR}")
endif()
foreach(input IN LISTS inputs)
  foreach(args IN ITEMS "check;--color;never" "check;--format;json" "graph;--format;dot")
    execute_process(COMMAND "${REFCTRACE}" ${args} "${input}"
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
    if(NOT rc MATCHES "^[012]$")
      message(FATAL_ERROR "refctrace ${args} ${input}: exit ${rc}\n${err}")
    endif()
    if(err MATCHES "Sanitizer|runtime error")
      message(FATAL_ERROR "refctrace ${args} ${input}: sanitizer report\n${err}")
    endif()
  endforeach()
endforeach()
message(STATUS "${count} regression inputs replayed")
