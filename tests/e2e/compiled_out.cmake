# sample_drv built without -DREFCTRACE: no recorder symbol in the driver, and
# a full run under erl writes no driver line to the trace.
#   -DERL -DEBIN -DDRIVER -DNM -DTRACE
execute_process(COMMAND ${NM} -D ${DRIVER} OUTPUT_VARIABLE symbols RESULT_VARIABLE nm_result)
if(NOT nm_result EQUAL 0)
  message(FATAL_ERROR "${NM} -D ${DRIVER} failed")
endif()
if(symbols MATCHES "refctrace")
  message(FATAL_ERROR "recorder symbols in a driver built without REFCTRACE:\n${symbols}")
endif()

get_filename_component(driver_dir ${DRIVER} DIRECTORY)
file(REMOVE ${TRACE})
execute_process(COMMAND ${CMAKE_COMMAND} -E env REFCTRACE_TRACE=${TRACE}
                        ${ERL} -noshell -pa ${EBIN} -run refctrace_e2e main none ${driver_dir}
                RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err
                TIMEOUT 60)
if(NOT erl_result EQUAL 0)
  message(FATAL_ERROR "erl failed (${erl_result}):\n${erl_out}${erl_err}")
endif()
file(STRINGS ${TRACE} lines)
foreach(line IN LISTS lines)
  # Process lines carry an "actor"; the tracer still records exits.
  if(line MATCHES "\"op\"" AND NOT line MATCHES "\"actor\"")
    message(FATAL_ERROR "${TRACE}: a driver without the recorder produced an event: ${line}")
  endif()
endforeach()
