# `refctrace --version` names the tool's version and the trace format revision that
# docs/spec/trace-format.md states on its "Version X.Y." line.
#
#   cmake -DREFCTRACE=tool -DSPEC=docs/spec/trace-format.md -DVERSION=x.y.z -P version_names_format.cmake
file(STRINGS "${SPEC}" version_line REGEX "^Version [0-9]+\\.[0-9]+\\." LIMIT_COUNT 1)
if(NOT version_line MATCHES "^Version ([0-9]+)\\.([0-9]+)\\.")
  message(FATAL_ERROR "${SPEC} has no 'Version X.Y.' line")
endif()
set(revision "${CMAKE_MATCH_1}.${CMAKE_MATCH_2}")
set(header "${CMAKE_MATCH_1}")
execute_process(COMMAND "${REFCTRACE}" --version OUTPUT_VARIABLE out RESULT_VARIABLE rc)
message(STATUS "refctrace --version:\n${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "refctrace --version: exit ${rc}")
endif()
if(NOT out MATCHES "^refctrace ${VERSION}\n")
  message(FATAL_ERROR "--version does not start with 'refctrace ${VERSION}'")
endif()
string(REPLACE "." "\\." revision_re "${revision}")
if(NOT out MATCHES "trace format ${revision_re} and earlier \\(header \"refctrace\": ${header}\\)")
  message(FATAL_ERROR "--version does not name the spec's format ${revision} (header ${header}): "
                      "update trace/format_version.h with the spec")
endif()
