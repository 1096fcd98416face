# A baseline written from baseline/old (one leak, my_drv.c:27 in my_drv_start)
# must not hide a new leak in another function of the same file
# (baseline/new: my_drv.c:410 in my_drv_reply), and it accounts for as many
# findings of a fingerprint as it holds (baseline/twice: the old leak twice,
# so one is new).
#
#   cmake -DREFCTRACE=exe -DWORKDIR=testdata -DOUT=dir -P baseline_functions.cmake
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")
set(baseline "${OUT}/base.json")
include(${CMAKE_CURRENT_LIST_DIR}/run_check.cmake)

run(1 --write-baseline "${baseline}" baseline/old/)
run(0 --baseline "${baseline}" baseline/old/)
if(NOT out MATCHES "0 errors, 0 warnings; .*; 0 suppressed, 1 in the baseline")
  message(FATAL_ERROR "expected the old leak to be in the baseline:\n${out}")
endif()

run(1 --baseline "${baseline}" baseline/new/)
# (Nothing suppressed or baselined: the summary leaves that part out.)
if(NOT out MATCHES "error\\[leak\\]" OR NOT out MATCHES "at my_drv\\.c:410 in my_drv_reply"
   OR NOT out MATCHES "refctrace: 1 error, 0 warnings;" OR out MATCHES "in the baseline")
  message(FATAL_ERROR "expected the new leak in my_drv_reply to be reported:\n${out}")
endif()

run(1 --baseline "${baseline}" baseline/twice/)
if(NOT out MATCHES "1 error, 0 warnings; .*; 0 suppressed, 1 in the baseline")
  message(FATAL_ERROR "expected one of the two same leaks to be new:\n${out}")
endif()
