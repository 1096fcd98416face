%% refctrace_mixed_e2e: the sample driver (tests/e2e) and the sample NIF
%% library (tests/nif_e2e) recorded in one node into one REFCTRACE_TRACE,
%% with the Erlang tracer serving both.
%%
%%   REFCTRACE_TRACE=TRACE erl -noshell -pa EBIN -run refctrace_mixed_e2e main ORDER DRIVER_BUG NIF_SEED DRIVER_DIR LIB_DIR
%%
%% ORDER is which recorder opens the trace first: `driver-first` (a port is
%% opened and closed before the NIF library is loaded, whose load then joins
%% the driver's writer) or `nif-first` (the library is loaded and called
%% before the driver's first port). The tracer is then started with the
%% driver and the NIF library (refctrace_tracer:start/3), and the driver's
%% session (refctrace_e2e, with DRIVER_BUG) and the library's
%% (refctrace_nif_e2e, with NIF_SEED) run one after the other in this
%% process. NIF_SEED `crash`: after the driver's session and the tracer's
%% stop, the library aborts the emulator inside a call.
%%
%% ORDER `nif-unloaded` (DRIVER_BUG none): no tracer; the library opens the
%% trace and runs its session, the driver joins (a port opened and closed),
%% the library is unloaded (its module deleted and purged: its handler
%% leaves the writer), and the driver records one more port, which must be
%% in the file, cut to its lines at exit by the driver, the last to leave.
%%
%% Exits 0 when the run went as planned (what the trace says is judged by
%% `refctrace check` afterwards), 1 with a message otherwise.
-module(refctrace_mixed_e2e).

-export([main/1]).

main([Order, DriverBug, NifSeed, DriverDir, LibDir]) ->
    refctrace_test_script:run("refctrace_mixed_e2e " ++ Order ++ " " ++ DriverBug ++ " " ++ NifSeed,
                              fun() -> run(Order, DriverBug, NifSeed, DriverDir, LibDir) end).

run("nif-unloaded", "none", NifSeed, DriverDir, LibDir) ->
    ok = refctrace_test_script:require_trace_path(),
    %% Keeping nothing for life: a kept resource would keep it loaded.
    ok = sample_nif:load(LibDir, 2),
    refctrace_nif_e2e:run_session(NifSeed, false),
    ok = erl_ddll:load_driver(DriverDir, sample_drv),
    open_driver(),
    true = code:delete(sample_nif),
    true = code:soft_purge(sample_nif),
    unmapped("sample_nif.so", 100),
    open_driver();
run(Order, DriverBug, NifSeed, DriverDir, LibDir) ->
    ok = refctrace_test_script:require_trace_path(),
    %% A crash has no held scan at exit: the library keeps nothing for life.
    Keep = case NifSeed of
               "crash" -> 2;
               _ -> 0
           end,
    case Order of
        "driver-first" ->
            ok = erl_ddll:load_driver(DriverDir, sample_drv),
            open_driver(),
            ok = sample_nif:load(LibDir, Keep);
        "nif-first" ->
            ok = sample_nif:load(LibDir, Keep),
            ok = sample_nif:set_bug(none),
            ok = erl_ddll:load_driver(DriverDir, sample_drv),
            open_driver()
    end,
    {ok, _} = refctrace_tracer:start(DriverDir, sample_drv, [filename:join(LibDir, "sample_nif")]),
    refctrace_e2e:traced_session(DriverBug),
    case NifSeed of
        "crash" ->
            {ok, #{unrelated := 0}} = refctrace_tracer:stop(),
            sample_nif:crash(),
            error(crash_returned);
        _ ->
            refctrace_nif_e2e:run_session(NifSeed, true),
            ok = refctrace_tracer:collect(self()),
            {ok, #{unrelated := 0}} = refctrace_tracer:stop(),
            ok
    end.

%% The driver's recorder opens the trace (or joins the library's writer)
%% at its first recorded call: the port's start.
open_driver() ->
    Port = open_port({spawn, "sample_drv"}, [binary]),
    true = port_close(Port).

%% The emulator unloads a purged module's NIF library once nothing of it is
%% left (dlclose): wait until it is no longer mapped.
unmapped(Library, 0) -> error({still_loaded, Library});
unmapped(Library, Tries) ->
    {ok, Maps} = file:read_file("/proc/self/maps"),
    case binary:match(Maps, list_to_binary(Library)) of
        nomatch -> ok;
        _ ->
            erlang:garbage_collect(),
            timer:sleep(10),
            unmapped(Library, Tries - 1)
    end.
