%% refctrace_test_script: what every `erl -run` script of the real-emulator
%% tests shares (tests/e2e, tests/nif_e2e, tests/realdrv). The script's
%% outcome is the emulator's exit status, which the ctest's -P script reads:
%% 0 when the run went as planned, 1 with the reason on stderr otherwise.
-module(refctrace_test_script).

-export([run/2, require_trace_path/0]).

%% Runs Script() and halts the emulator: 0 when it returns, 1 after writing
%% Name and the exception to stderr when it raises.
-spec run(string(), fun(() -> term())) -> no_return().
run(Name, Script) ->
    try
        Script(),
        halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "~s: ~p:~p~n~p~n", [Name, Class, Reason, Stack]),
            halt(1)
    end.

%% The recorder reads REFCTRACE_TRACE from the emulator's environment when
%% it starts (os:putenv/2 does not reach C's getenv), so the caller sets it;
%% without it the run would record nothing and prove nothing.
-spec require_trace_path() -> ok.
require_trace_path() ->
    case os:getenv("REFCTRACE_TRACE") of
        false -> error(set_REFCTRACE_TRACE_to_the_trace_path);
        _ -> ok
    end.
