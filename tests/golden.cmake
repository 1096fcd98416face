# Golden CLI test: runs refctrace, and compares its stdout, stderr and exit
# status with a checked-in file. With REFCTRACE_UPDATE_GOLDEN=1 in the
# environment it rewrites the file instead (review the diff before committing).
#
#   cmake -DREFCTRACE=exe -DWORKDIR=dir -DARGS="check|--color|never|x" \
#         -DGOLDEN=file [-DSTDIN=file] -P golden.cmake
string(REPLACE "|" ";" args "${ARGS}")
string(REPLACE "|" " " shown "${ARGS}")
set(input_args)
if(STDIN)
  set(input_args INPUT_FILE "${STDIN}")
  get_filename_component(stdin_name "${STDIN}" NAME)
  set(shown "${shown} < ${stdin_name}")
endif()
execute_process(
  COMMAND "${REFCTRACE}" ${args}
  WORKING_DIRECTORY "${WORKDIR}"
  ${input_args}
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)
set(actual "$ refctrace ${shown}\n${out}--- stderr\n${err}--- exit ${rc}\n")

if("$ENV{REFCTRACE_UPDATE_GOLDEN}" STREQUAL "1")
  file(WRITE "${GOLDEN}" "${actual}")
  message(STATUS "updated ${GOLDEN}")
  return()
endif()
if(NOT EXISTS "${GOLDEN}")
  message(FATAL_ERROR "missing golden file ${GOLDEN}; run with REFCTRACE_UPDATE_GOLDEN=1")
endif()
file(READ "${GOLDEN}" expected)
if(NOT actual STREQUAL expected)
  get_filename_component(name "${GOLDEN}" NAME)
  set(actual_file "${CMAKE_CURRENT_BINARY_DIR}/${name}.actual")
  file(WRITE "${actual_file}" "${actual}")
  execute_process(COMMAND diff -u "${GOLDEN}" "${actual_file}")
  message(FATAL_ERROR "output differs from ${GOLDEN} (actual output: ${actual_file})")
endif()
