# sample_nif built without -DREFCTRACE: no recorder symbol in the library,
# and a clean session under erl writes no trace at all.
#   -DERL -DEBIN -DLIBRARY -DNM -DTRACE
execute_process(COMMAND ${NM} -D ${LIBRARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE nm_result)
if(NOT nm_result EQUAL 0)
  message(FATAL_ERROR "${NM} -D ${LIBRARY} failed")
endif()
if(symbols MATCHES "refctrace")
  message(FATAL_ERROR "recorder symbols in a NIF built without REFCTRACE:\n${symbols}")
endif()
if(NOT symbols MATCHES "enif_alloc_binary")
  message(FATAL_ERROR "${LIBRARY} calls no enif_alloc_binary: not the sample NIF?\n${symbols}")
endif()

get_filename_component(lib_dir ${LIBRARY} DIRECTORY)
file(REMOVE ${TRACE})
execute_process(COMMAND ${CMAKE_COMMAND} -E env REFCTRACE_TRACE=${TRACE}
                        ${ERL} -noshell -pa ${EBIN} -run refctrace_nif_e2e main none ${lib_dir}
                RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err
                TIMEOUT 60)
if(NOT erl_result EQUAL 0)
  message(FATAL_ERROR "erl failed (${erl_result}):\n${erl_out}${erl_err}")
endif()
if(EXISTS ${TRACE})
  file(READ ${TRACE} written)
  message(FATAL_ERROR "${TRACE}: a NIF without the recorder wrote a trace:\n${written}")
endif()
