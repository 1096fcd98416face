%% recorder_bench: runs the recorder's benchmark in the emulator
%% (recorder_bench.sh). PROCS processes at once, each ROUNDS times K
%% alloc/free pairs through the driver (a port of its own) or the NIF
%% (loop/1), or malloc/free pairs in the NIF (malloc_loop/1: one duration a
%% pair); prints the median and p99 of the per-call durations, in ns.
%%   erl -noshell -pa DIR -run recorder_bench main drv|nif|malloc DIR PROCS ROUNDS K
-module(recorder_bench).
-export([main/1]).

main([Kind, Dir, Procs, Rounds, K]) ->
    Run = runner(Kind, Dir),
    Parent = self(),
    Pids = [spawn_link(fun() -> Parent ! {samples, self(), Run(list_to_integer(Rounds), K)} end)
            || _ <- lists:seq(1, list_to_integer(Procs))],
    Samples = lists:sort(lists:append([receive {samples, P, S} -> S end || P <- Pids])),
    N = length(Samples),
    Median = lists:nth(max(1, N div 2), Samples),
    P99 = lists:nth(max(1, (N * 99) div 100), Samples),
    io:format("~s procs=~s calls=~b median_ns=~b p99_ns=~b~n", [Kind, Procs, N, Median, P99]),
    erlang:halt(0).

runner("drv", Dir) ->
    ok = erl_ddll:load_driver(Dir, "recorder_bench_drv"),
    fun(Rounds, K) ->
            Port = open_port({spawn_driver, "recorder_bench_drv"}, [binary]),
            lists:append([decode(list_to_binary(erlang:port_control(Port, $L, K)))
                          || _ <- lists:seq(1, Rounds)])
    end;
runner("nif", Dir) ->
    ok = recorder_bench_nif:load(Dir),
    fun(Rounds, K) ->
            Count = list_to_integer(K),
            lists:append([decode(recorder_bench_nif:loop(Count)) || _ <- lists:seq(1, Rounds)])
    end;
runner("malloc", Dir) ->
    ok = recorder_bench_nif:load(Dir),
    fun(Rounds, K) ->
            Count = list_to_integer(K),
            lists:append([decode(recorder_bench_nif:malloc_loop(Count))
                          || _ <- lists:seq(1, Rounds)])
    end.

decode(Bin) -> [D || <<D:32/native>> <= Bin].
