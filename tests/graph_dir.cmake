# `check --graph-dir`: one SVG per binary with a finding, named after the
# input, the binary and the code, and each named in the text output.
#
#   cmake -DREFCTRACE=exe -DWORKDIR=dir -DOUT=dir -P graph_dir.cmake
file(REMOVE_RECURSE "${OUT}")
execute_process(
  COMMAND "${REFCTRACE}" check --color never --graph-dir "${OUT}" examples/quickstart.ndjson
          examples/leaky.ndjson valid/fanout.ndjson
  WORKING_DIRECTORY "${WORKDIR}"
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "exit ${rc}, expected 1 (findings)\n${out}\n${err}")
endif()
if(NOT err STREQUAL "")
  message(FATAL_ERROR "unexpected stderr:\n${err}")
endif()
set(expected
    "quickstart.0x7f3a50.double-free:0x7f3a50#1 (double-free)"
    "leaky.0x7f5e2c010000-2.leak:0x7f5e2c010000#2 (leak)")
foreach(entry IN LISTS expected)
  string(REPLACE ":" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 what)
  set(svg "${OUT}/${name}.svg")
  if(NOT EXISTS "${svg}")
    message(FATAL_ERROR "missing ${svg}; output:\n${out}")
  endif()
  string(FIND "${out}" "refctrace: graph of ${what}: ${svg}\n" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the output does not name ${svg}:\n${out}")
  endif()
  file(READ "${svg}" text)
  string(LENGTH "${text}" length)
  string(FIND "${text}" "<?xml" xml)
  string(FIND "${text}" "</svg>" end)
  if(NOT xml EQUAL 0 OR end EQUAL -1 OR length LESS 4000 OR length GREATER 2000000)
    message(FATAL_ERROR "${svg} is not a complete SVG of sensible size (${length} bytes)")
  endif()
endforeach()
file(GLOB written "${OUT}/*")
list(LENGTH written count)
if(NOT count EQUAL 2)
  message(FATAL_ERROR "expected 2 files in ${OUT} (fanout has no findings), got: ${written}")
endif()
