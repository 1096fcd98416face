# refctrace_cached_otp_builds(OUT): the install prefixes of the complete OTP
# builds that scripts/build-otp has cached (OTP 27, 29), in its order.
# The script owns where they are (/var/cache/refctrace, or the
# REFCTRACE_OTP<release>_DIR variables) and what "complete" means (marker
# written last, bin/erl there): CMake asks it with --releases and --check
# instead of spelling the directories a second time. A release without a
# complete build is named, with the script's reason, and skipped.
function(refctrace_cached_otp_builds out)
  set(script "${PROJECT_SOURCE_DIR}/scripts/build-otp")
  execute_process(COMMAND "${script}" --releases OUTPUT_VARIABLE releases
                  RESULT_VARIABLE result OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT result EQUAL 0 OR releases STREQUAL "")
    message(FATAL_ERROR "e2e: ${script} --releases failed (${result})")
  endif()
  string(REPLACE "\n" ";" releases "${releases}")
  set(prefixes "")
  foreach(release IN LISTS releases)
    execute_process(COMMAND "${script}" ${release} --check OUTPUT_VARIABLE prefix ERROR_VARIABLE why
                    RESULT_VARIABLE result OUTPUT_STRIP_TRAILING_WHITESPACE
                    ERROR_STRIP_TRAILING_WHITESPACE)
    if(result EQUAL 0)
      list(APPEND prefixes "${prefix}")
    else()
      message(STATUS "e2e: OTP ${release} not tested: ${why} (scripts/build-otp ${release} makes one)")
    endif()
  endforeach()
  set(${out} "${prefixes}" PARENT_SCOPE)
endfunction()
