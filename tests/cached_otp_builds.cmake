# CMake finds the complete OTP builds scripts/build-otp cached, through the
# script (tests/e2e/CachedOtpBuilds.cmake): each release in the directory its
# REFCTRACE_OTP<release>_DIR names, incomplete ones skipped, in release order.
#   cmake -DSOURCE=<repo> -DOUT=<scratch dir> -P cached_otp_builds.cmake
set(PROJECT_SOURCE_DIR "${SOURCE}")
include("${SOURCE}/tests/e2e/CachedOtpBuilds.cmake")
file(REMOVE_RECURSE "${OUT}")

function(fake_cache dir complete)
  file(WRITE "${dir}/bin/erl" "#!/bin/sh\n")
  file(CHMOD "${dir}/bin/erl" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
  if(complete)
    file(WRITE "${dir}/.refctrace-build-complete" "OTP built\n")
  endif()
endfunction()
fake_cache("${OUT}/otp27" YES)
fake_cache("${OUT}/otp29" YES)
fake_cache("${OUT}/otp29-half" NO)

function(expect_found otp27 otp29 expected)
  set(ENV{REFCTRACE_OTP27_DIR} "${otp27}")
  set(ENV{REFCTRACE_OTP29_DIR} "${otp29}")
  refctrace_cached_otp_builds(found)
  if(NOT found STREQUAL expected)
    message(FATAL_ERROR "27 in ${otp27}, 29 in ${otp29}: found '${found}', expected '${expected}'")
  endif()
endfunction()
expect_found("${OUT}/otp27" "${OUT}/otp29" "${OUT}/otp27;${OUT}/otp29")
expect_found("${OUT}/missing" "${OUT}/otp29" "${OUT}/otp29")
expect_found("${OUT}/otp27" "${OUT}/otp29-half" "${OUT}/otp27")
expect_found("${OUT}/missing" "${OUT}/otp29-half" "")
message(STATUS "cached OTP builds: both, 29 alone, 27 alone and none found as they are")
