# A driver or NIF library built without -DREFCTRACE: no recorder symbol in
# it, and a full session under erl (which must still work) writes no line.
#   -DERL -DEBIN -DLIBRARY -DNM -DTRACE -DSCRIPT (the session's module: erl
#   -run SCRIPT main none LIBRARY_DIR [EXTRA_ARG]) -DMUST_CALL (a function
#   the library imports: proves it is the library meant) [-DEXTRA_ARG]
execute_process(COMMAND ${NM} -D ${LIBRARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE nm_result)
if(NOT nm_result EQUAL 0)
  message(FATAL_ERROR "${NM} -D ${LIBRARY} failed")
endif()
if(symbols MATCHES "refctrace")
  message(FATAL_ERROR "recorder symbols in ${LIBRARY}, built without REFCTRACE:\n${symbols}")
endif()
if(NOT symbols MATCHES "${MUST_CALL}")
  message(FATAL_ERROR "${LIBRARY} calls no ${MUST_CALL}: not the library meant?\n${symbols}")
endif()

get_filename_component(library_dir ${LIBRARY} DIRECTORY)
file(REMOVE ${TRACE})
execute_process(COMMAND ${CMAKE_COMMAND} -E env REFCTRACE_TRACE=${TRACE}
                        ${ERL} -noshell -pa ${EBIN} -run ${SCRIPT} main none ${library_dir} ${EXTRA_ARG}
                RESULT_VARIABLE erl_result OUTPUT_VARIABLE erl_out ERROR_VARIABLE erl_err
                TIMEOUT 60)
if(NOT erl_result EQUAL 0)
  message(FATAL_ERROR "erl failed (${erl_result}):\n${erl_out}${erl_err}")
endif()
if(EXISTS ${TRACE})
  file(READ ${TRACE} written)
  message(FATAL_ERROR "${TRACE}: ${LIBRARY}, built without the recorder, wrote a trace:\n${written}")
endif()
