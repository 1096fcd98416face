# run(EXPECTED_RC ARGS...): `refctrace check --color never ARGS` in
# ${WORKDIR}; fails unless it exits EXPECTED_RC, and sets `out` to its
# standard output. Included by the baseline scripts.
function(run expected_rc)
  execute_process(COMMAND "${REFCTRACE}" check --color never ${ARGN}
                  WORKING_DIRECTORY "${WORKDIR}" OUTPUT_VARIABLE out ERROR_VARIABLE err
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL expected_rc)
    message(FATAL_ERROR "refctrace check ${ARGN}: exit ${rc}, expected ${expected_rc}\n${out}${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()
