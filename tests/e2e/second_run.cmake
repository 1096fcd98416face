# A second run with the same REFCTRACE_TRACE never merges into the first
# run's trace: the recorder refuses a file that is not empty (unless
# REFCTRACE_APPEND=1), the tracer's start says why, and the file is left as
# the first run wrote it.
#   -DERL -DEBIN -DDRIVER_DIR -DTRACE
file(REMOVE ${TRACE})
foreach(mode IN ITEMS traced refused)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env REFCTRACE_TRACE=${TRACE}
                          ${ERL} -noshell -pa ${EBIN} -run refctrace_e2e main none ${DRIVER_DIR} ${mode}
                  RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err
                  TIMEOUT 60)
  if(NOT erl_result EQUAL 0)
    message(FATAL_ERROR "erl (${mode}) failed (${erl_result}):\n${erl_out}${erl_err}")
  endif()
  if(mode STREQUAL "traced")
    file(SHA256 ${TRACE} first_run)
  endif()
endforeach()
if(NOT erl_out MATCHES "refused: REFCTRACE_TRACE is not empty")
  message(FATAL_ERROR "the second run's tracer did not say why it refused:\n${erl_out}${erl_err}")
endif()
if(NOT erl_err MATCHES "is not empty")
  message(FATAL_ERROR "the recorder did not tell stderr why it is not recording:\n${erl_err}")
endif()
file(SHA256 ${TRACE} after_second_run)
if(NOT first_run STREQUAL after_second_run)
  message(FATAL_ERROR "${TRACE}: the second run changed the first run's trace")
endif()
