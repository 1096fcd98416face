# Read by cpack before it makes each package (CPACK_PROJECT_CONFIG_FILE). Without
# dpkg-shlibdeps CPack would quietly make a .deb with an empty Depends, which installs and then
# fails to run: refuse instead.
if(CPACK_GENERATOR STREQUAL "DEB")
  find_program(REFCTRACE_DPKG_SHLIBDEPS dpkg-shlibdeps)
  if(NOT REFCTRACE_DPKG_SHLIBDEPS)
    message(FATAL_ERROR "dpkg-shlibdeps is missing (Debian: apt-get install dpkg-dev): "
                        "without it the package's Depends would be empty")
  endif()
endif()
