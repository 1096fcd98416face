# The real-emulator suites (tests/e2e, tests/nif_e2e, tests/realdrv) list
# their runs as "RUN=CODE": the run's name (its seeded bug, or `none`) and
# the diagnostic code its trace must yield (empty: a clean run, no finding).

# refctrace_seeded_run(ENTRY RUN_VAR CODE_VAR): splits one such entry.
function(refctrace_seeded_run entry run_var code_var)
  string(FIND "${entry}" "=" at)
  if(at LESS 1)
    message(FATAL_ERROR "seeded run '${entry}' is not RUN=CODE")
  endif()
  string(SUBSTRING "${entry}" 0 ${at} run)
  math(EXPR after "${at} + 1")
  string(SUBSTRING "${entry}" ${after} -1 code)
  set(${run_var} "${run}" PARENT_SCOPE)
  set(${code_var} "${code}" PARENT_SCOPE)
endfunction()
