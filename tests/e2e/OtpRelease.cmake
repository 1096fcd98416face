# refctrace_otp_release(DIR PREFIX): what the e2e tests need from one OTP
# installation. DIR is an OTP root (code:root_dir(), e.g. /usr/lib/erlang) or
# an install prefix (scripts/build-otp's cache: DIR/lib/erlang is the root).
# Sets PREFIX_ROOT, PREFIX_RELEASE ("25"), PREFIX_ERL, PREFIX_ERLC and
# PREFIX_INCLUDE_DIR (where erl_driver.h is) in the caller's scope, or stops
# with an error that names DIR.
function(refctrace_otp_release dir prefix)
  if(EXISTS "${dir}/lib/erlang/bin/erl")
    set(root "${dir}/lib/erlang")
  else()
    set(root "${dir}")
  endif()
  set(erl "${root}/bin/erl")
  set(erlc "${root}/bin/erlc")
  foreach(tool IN ITEMS erl erlc)
    if(NOT EXISTS "${${tool}}")
      message(FATAL_ERROR "REFCTRACE_OTP_ROOTS: ${dir} is not an OTP installation (no ${${tool}}); "
                          "Debian 12: install erlang-base, or run scripts/build-otp")
    endif()
  endforeach()
  execute_process(COMMAND "${erl}" -noshell -eval
                          "io:format(\"~s\", [erlang:system_info(otp_release)]), halt()."
                  OUTPUT_VARIABLE release RESULT_VARIABLE result)
  if(NOT result EQUAL 0 OR NOT release MATCHES "^[0-9]+$")
    message(FATAL_ERROR "REFCTRACE_OTP_ROOTS: ${erl} does not run (${result}: ${release})")
  endif()
  # erl_driver.h lives in the emulator's usr/include, under code:root_dir().
  if(NOT EXISTS "${root}/usr/include/erl_driver.h")
    message(FATAL_ERROR "REFCTRACE_OTP_ROOTS: no ${root}/usr/include/erl_driver.h "
                        "(Debian 12: install erlang-dev)")
  endif()
  set(${prefix}_ROOT "${root}" PARENT_SCOPE)
  set(${prefix}_RELEASE "${release}" PARENT_SCOPE)
  set(${prefix}_ERL "${erl}" PARENT_SCOPE)
  set(${prefix}_ERLC "${erlc}" PARENT_SCOPE)
  set(${prefix}_INCLUDE_DIR "${root}/usr/include" PARENT_SCOPE)
endfunction()

# refctrace_loaded_by_erl([OUR_CODE]): the settings of a test directory whose
# libraries a plain `erl` loads (drivers, NIF libraries), for the release
# refctrace_otp_release named (otp_*): `rel` is that release; no sanitizer
# flags, since the emulator has no ASan runtime; Threads found. OUR_CODE adds
# the project's warnings (-Werror with REFCTRACE_WERROR), for code we wrote,
# not for vendored code compiled as upstream writes it.
macro(refctrace_loaded_by_erl)
  cmake_parse_arguments(loaded_by_erl "OUR_CODE" "" "" ${ARGN})
  set(rel ${otp_RELEASE})
  set_directory_properties(PROPERTIES COMPILE_OPTIONS "" LINK_OPTIONS "")
  if(loaded_by_erl_OUR_CODE)
    add_compile_options(-Wall -Wextra -Wshadow)
    if(REFCTRACE_WERROR)
      add_compile_options(-Werror)
    endif()
  endif()
  find_package(Threads REQUIRED)
endmacro()
