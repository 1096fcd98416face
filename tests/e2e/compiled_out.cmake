# sample_drv built without -DREFCTRACE: no recorder symbol in the driver, the
# tracer refuses to start with a clear error (the trace module lives in the
# recorder), and a full run under erl writes no line at all.
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
                        ${ERL} -noshell -pa ${EBIN} -run refctrace_e2e main none ${driver_dir} untraced
                RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err
                TIMEOUT 60)
if(NOT erl_result EQUAL 0)
  message(FATAL_ERROR "erl failed (${erl_result}):\n${erl_out}${erl_err}")
endif()
if(EXISTS ${TRACE})
  file(READ ${TRACE} written)
  message(FATAL_ERROR "${TRACE}: a driver without the recorder wrote a trace:\n${written}")
endif()
