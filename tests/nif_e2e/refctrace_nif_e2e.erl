%% refctrace_nif_e2e: drives sample_nif in the real emulator while the NIF
%% recorder writes the trace.
%%
%%   REFCTRACE_TRACE=TRACE erl -noshell -pa EBIN -run refctrace_nif_e2e main BUG LIB_DIR [TRACER_DIR]
%%
%% With TRACER_DIR (where refctrace_tracer_nif.so, the trace module built
%% alone, is), the Erlang tracer records the process side: the test process
%% and a holder process it hands NIF-made binaries to are traced, so their
%% receive, send, gc and exit of those binaries are in the trace, gc with
%% process_info's counts (stop/0 must have related every one).
%%
%% BUG is one of sample_nif.c's seeds (`none`: a clean run), `crash` (the
%% library aborts the emulator in the middle of a call), `unloaded` (the
%% library is loaded, then unloaded at once) or `scan-limit` (the clean
%% session, the library built with a held scan limit it exceeds). Exits 0 when the
%% session went as planned (what the trace says is judged by
%% `refctrace check` afterwards), 1 with a message otherwise.
%%
%% Every term the NIF returns is dropped when session/1 returns; a full
%% collection then lets the emulator run the resources' destructors, and the
%% run waits for them (sample_nif:counts/0) so that the trace holds every
%% res_dtor before the emulator halts.
-module(refctrace_nif_e2e).

-export([main/1, run_session/2]).

main([Bug, LibDir]) -> main([Bug, LibDir, none]);
main([Bug, LibDir, TracerDir]) ->
    refctrace_test_script:run("refctrace_nif_e2e " ++ Bug,
                              fun() -> run(Bug, LibDir, TracerDir) end).

run("unloaded", LibDir, _TracerDir) ->
    %% The library is unloaded (its unload callback runs at the purge): what
    %% it kept from load() on is lost for good.
    ok = sample_nif:load(LibDir, 1),
    true = code:delete(sample_nif),
    _ = code:purge(sample_nif),
    ok;
run("scan-limit", LibDir, TracerDir) ->
    %% The clean session, with a library whose held scan stops at its limit.
    run("none", LibDir, TracerDir);
run("crash", LibDir, _TracerDir) ->
    %% Nothing kept for life: a crash has no scan at exit.
    ok = sample_nif:load(LibDir, 2),
    sample_nif:crash(),
    error(crash_returned);
run(Bug, LibDir, TracerDir) ->
    ok = sample_nif:load(LibDir),
    Traced = start_tracer(TracerDir, LibDir),
    run_session(Bug, Traced),
    keep_for_life(),
    stop_tracer(Traced).

%% The session with seed Bug, up to the last resource destructor; Traced:
%% the caller traces this process (tests/mixed_e2e starts the tracer for a
%% driver too).
run_session(Bug, Traced) ->
    ok = sample_nif:set_bug(list_to_atom(Bug)),
    session(Traced),
    garbage_collect(),
    %% A resource the NIF never released (res-leak), or whose select was
    %% never stopped, is never destroyed.
    Leftover = case Bug of
                   "res-leak" -> 1;
                   "select-never-stopped" -> 1;
                   _ -> 0
               end,
    wait_for(fun() -> element(1, sample_nif:counts()) =:= Leftover end, destructors).

start_tracer(none, _LibDir) -> false;
start_tracer(TracerDir, LibDir) ->
    {ok, _} = refctrace_tracer:start(TracerDir, refctrace_tracer_nif,
                                     [filename:join(LibDir, "sample_nif")]),
    ok = refctrace_tracer:trace(self()),
    true.

stop_tracer(false) -> ok;
stop_tracer(true) ->
    ok = refctrace_tracer:collect(self()),
    {ok, #{unrelated := 0}} = refctrace_tracer:stop(),
    ok.

%% The process side of NIF binaries: a binary made in this process's call
%% (held by its heap), and one a NIF sends from a message environment, each
%% forwarded to a traced holder; this process's releases are then recorded
%% with process_info's count (the holder's reference), and the holder's exit
%% releases the rest.
pass_to_holder(Traced) ->
    Holder = spawn(fun() -> receive stop -> ok end end),
    ok = trace(Traced, Holder),
    forward_made(Holder, Traced),
    forward_sent(Holder, Traced),
    sync(Traced),
    collect(Traced),
    Ref = monitor(process, Holder),
    Holder ! stop,
    receive {'DOWN', Ref, process, Holder, _} -> ok end,
    sync(Traced).

forward_made(Holder, Traced) ->
    %% grow_owned, not make_bin: the seeds apply to make_bin (one finding per run).
    Made = sample_nif:grow_owned(),
    100000 = byte_size(Made),
    sync(Traced),
    Holder ! {made, Made},
    %% A copy into a message environment: the holder's second reference.
    ok = sample_nif:copy_send(Made, Holder),
    ok.

forward_sent(Holder, Traced) ->
    ok = sample_nif:send_bin(self(), 700),
    Sent = receive {bin, B} -> B after 5000 -> error(no_bin) end,
    700 = byte_size(Sent),
    sync(Traced),
    Holder ! {sent, Sent},
    ok.

trace(false, _Pid) -> ok;
trace(true, Pid) -> refctrace_tracer:trace(Pid).

sync(false) -> ok;
sync(true) -> refctrace_tracer:sync().

collect(false) -> ok;
collect(true) -> refctrace_tracer:collect(self()).

session(Traced) ->
    pass_to_holder(Traced),
    %% bin-leak returns ok instead of the binary, write-after-make changes it.
    Made = sample_nif:make_bin(200),
    true = Made =:= ok orelse byte_size(Made) =:= 200,
    %% A look before this process makes a binary of that size itself: the
    %% tracer relates the one new wrapper of 200 bytes to the NIF's binary.
    sync(Traced),
    Big = binary:copy(<<"m">>, 200),
    <<"mmmmmmmmmm">> = sample_nif:make_bin(10),
    ok = sample_nif:scratch(100),
    Grown = sample_nif:grow(Big),
    true = Grown =:= ok orelse byte_size(Grown) =:= 400,
    100000 = byte_size(sample_nif:grow_owned()),
    Sum = 200 * $m + 3 * $a,
    Sum = sample_nif:checksum([Big, <<"aaa">>]),
    ok = sample_nif:keep_view(Big),
    $m = sample_nif:use_view(),
    <<"nnnn", _/binary>> = sample_nif:new_bin(300),
    Term = {tuple, lists:seq(1, 50)},
    Term = binary_to_term(sample_nif:t2b(Term)),
    500 = sample_nif:ioq(500),
    %% An iovec of a large binary (its own bytes) and two small ones (copied).
    IovSum = 200 * $m + 2 * $a + 2 * $b,
    IovSum = sample_nif:iov_sum([Big, <<"aa">>, <<"bb">>]),
    ok = sample_nif:iov_keep([Big, <<"aa">>]),
    $m = sample_nif:iov_first(),
    200 = byte_size(Big),
    ok = sample_nif:notify(self(), 2),
    [receive {tick, I} -> I after 5000 -> error({no_tick, I}) end || I <- [0, 1]],
    %% A send to a process that is gone fails (env_send "failed"): the
    %% environment keeps its terms and is cleared all the same.
    {Dead, Ref} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', Ref, process, Dead, _} -> ok end,
    ok = sample_nif:notify(Dead, 1),
    2 = sample_nif:env_scratch(),
    Res = sample_nif:res_new(),
    <<"rrrr", _/binary>> = sample_nif:res_bin(Res),
    $r = sample_nif:keep_release(Res),
    ok = sample_nif:copy_to_env(Res),
    ok = sample_nif:res_temp(),
    Watched = spawn(fun() -> receive stop -> ok end end),
    Watcher = sample_nif:watch(Watched),
    Watched ! stop,
    wait_for(fun() -> element(2, sample_nif:counts()) =:= 1 end, down),
    true = is_reference(Watcher) orelse is_binary(Watcher) orelse Watcher =/= undefined,
    Pipe = sample_nif:pipe_open(),
    ok = sample_nif:pipe_close(Pipe),
    ok.

%% What the library keeps for its life (held at exit, not leaked), with
%% load/1's kept state.
keep_for_life() ->
    ok = sample_nif:send_kept(self()),
    receive {kept, $c} -> ok after 5000 -> error(no_kept) end,
    ok = sample_nif:remember(),
    ok = sample_nif:remember(),
    %% A resource kept only through malloc'd memory.
    ok = sample_nif:stash(),
    %% And one kept only through objects from C++ new.
    ok = sample_nif:stash_in_cxx(),
    %% And one kept only in a mapping the library names as a root.
    ok = sample_nif:stash_in_mapping(),
    %% A forked child's clean exit writes nothing (the held lines are the
    %% parent's, once).
    ok = sample_nif:fork_exit().

wait_for(Done, What) -> wait_for(Done, What, 500).

wait_for(_, What, 0) -> error({timeout, What, sample_nif:counts()});
wait_for(Done, What, Tries) ->
    case Done() of
        true -> ok;
        false ->
            garbage_collect(),
            timer:sleep(10),
            wait_for(Done, What, Tries - 1)
    end.
