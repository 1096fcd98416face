# Runs refctrace twice with different arguments and requires identical
# stdout, stderr and exit status (e.g. `-j 1` against `-j 4`).
#
#   cmake -DREFCTRACE=exe -DWORKDIR=dir -DARGS_A="check|..." -DARGS_B="check|..." -P same_output.cmake
foreach(which A B)
  string(REPLACE "|" ";" args "${ARGS_${which}}")
  execute_process(COMMAND "${REFCTRACE}" ${args} WORKING_DIRECTORY "${WORKDIR}"
                  OUTPUT_VARIABLE out_${which} ERROR_VARIABLE err_${which}
                  RESULT_VARIABLE rc_${which})
endforeach()
if(NOT out_A STREQUAL out_B OR NOT err_A STREQUAL err_B OR NOT rc_A STREQUAL rc_B)
  message(FATAL_ERROR "outputs differ:\n--- ${ARGS_A} (exit ${rc_A})\n${out_A}${err_A}"
                      "--- ${ARGS_B} (exit ${rc_B})\n${out_B}${err_B}")
endif()
string(LENGTH "${out_A}" n)
if(n EQUAL 0)
  message(FATAL_ERROR "no output at all from ${ARGS_A}")
endif()
