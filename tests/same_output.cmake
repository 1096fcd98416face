# Runs refctrace twice with different arguments and requires identical
# stdout, stderr and exit status (e.g. `-j 1` against `-j 4`).
#
#   cmake -DREFCTRACE=exe -DWORKDIR=dir -DARGS_A="check|..." -DARGS_B="check|..." \
#         [-DSTDIN_A=file] [-DSTDIN_B=file] [-DRENAME_B="name_b|name_a"] -P same_output.cmake
#
# STDIN_A/B: what each run reads as standard input. RENAME_B: B's output has
# name_b where A's has name_a (the same trace under another file name, e.g.
# compressed); it is replaced before comparing.
foreach(which A B)
  string(REPLACE "|" ";" args "${ARGS_${which}}")
  set(input_args)
  if(STDIN_${which})
    set(input_args INPUT_FILE "${STDIN_${which}}")
  endif()
  execute_process(COMMAND "${REFCTRACE}" ${args} WORKING_DIRECTORY "${WORKDIR}" ${input_args}
                  OUTPUT_VARIABLE out_${which} ERROR_VARIABLE err_${which}
                  RESULT_VARIABLE rc_${which})
endforeach()
if(RENAME_B)
  string(REPLACE "|" ";" rename "${RENAME_B}")
  list(GET rename 0 from)
  list(GET rename 1 to)
  string(REPLACE "${from}" "${to}" out_B "${out_B}")
  string(REPLACE "${from}" "${to}" err_B "${err_B}")
endif()
if(NOT out_A STREQUAL out_B OR NOT err_A STREQUAL err_B OR NOT rc_A STREQUAL rc_B)
  message(FATAL_ERROR "outputs differ:\n--- ${ARGS_A} (exit ${rc_A})\n${out_A}${err_A}"
                      "--- ${ARGS_B} (exit ${rc_B})\n${out_B}${err_B}")
endif()
string(LENGTH "${out_A}" n)
if(n EQUAL 0)
  message(FATAL_ERROR "no output at all from ${ARGS_A}")
endif()
