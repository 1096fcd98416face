%% refctrace_nif_e2e: drives sample_nif in the real emulator while the NIF
%% recorder writes the trace.
%%
%%   REFCTRACE_TRACE=TRACE erl -noshell -pa EBIN -run refctrace_nif_e2e main BUG LIB_DIR
%%
%% BUG is one of sample_nif.c's seeds (`none`: a clean run) or `crash` (the
%% library aborts the emulator in the middle of a call). Exits 0 when the
%% session went as planned (what the trace says is judged by
%% `refctrace check` afterwards), 1 with a message otherwise.
%%
%% Every term the NIF returns is dropped when session/1 returns; a full
%% collection then lets the emulator run the resources' destructors, and the
%% run waits for them (sample_nif:counts/0) so that the trace holds every
%% res_dtor before the emulator halts.
-module(refctrace_nif_e2e).

-export([main/1]).

main([Bug, LibDir]) ->
    refctrace_test_script:run("refctrace_nif_e2e " ++ Bug, fun() -> run(Bug, LibDir) end).

run(Bug, LibDir) ->
    ok = sample_nif:load(LibDir),
    case Bug of
        "crash" ->
            sample_nif:crash(),
            error(crash_returned);
        _ ->
            ok = sample_nif:set_bug(list_to_atom(Bug)),
            session(),
            garbage_collect(),
            %% A resource the NIF never released (res-leak), or whose select
            %% was never stopped, is never destroyed.
            Leftover = case Bug of
                           "res-leak" -> 1;
                           "select-never-stopped" -> 1;
                           _ -> 0
                       end,
            wait_for(fun() -> element(1, sample_nif:counts()) =:= Leftover end, destructors)
    end.

session() ->
    %% bin-leak returns ok instead of the binary, write-after-make changes it.
    Made = sample_nif:make_bin(200),
    true = Made =:= ok orelse byte_size(Made) =:= 200,
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
