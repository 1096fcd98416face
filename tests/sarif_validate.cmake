# Validates `check --format sarif` with Microsoft's SARIF validator
# (sarif-multitool, tools/sarif-multitool). Any error or warning it reports
# fails the test; its notes are advice we do not follow (see docs/ci.md).
#
#   cmake -DREFCTRACE=exe -DVALIDATOR=exe -DWORKDIR=testdata -DOUT=file -P sarif_validate.cmake
execute_process(COMMAND "${REFCTRACE}" check --format sarif . WORKING_DIRECTORY "${WORKDIR}"
                OUTPUT_FILE "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 2)  # testdata/ has findings and malformed inputs
  message(FATAL_ERROR "refctrace check --format sarif exited ${rc}, expected 2")
endif()
# .NET without ICU: the validator needs no locale data, and a fresh machine
# may have no libicu.
set(ENV{DOTNET_SYSTEM_GLOBALIZATION_INVARIANT} 1)
execute_process(COMMAND "${VALIDATOR}" validate "${OUT}" OUTPUT_VARIABLE out ERROR_VARIABLE err
                RESULT_VARIABLE rc)
message(STATUS "${out}${err}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "Analysis completed successfully")
  message(FATAL_ERROR "the validator failed (exit ${rc})")
endif()
if(out MATCHES ": (error|warning) [A-Z]+[0-9]+:")
  message(FATAL_ERROR "the validator reported problems in ${OUT}")
endif()
