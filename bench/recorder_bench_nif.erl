%% recorder_bench_nif: the NIF module of the recorder's benchmark.
-module(recorder_bench_nif).
-export([load/1, loop/1, malloc_loop/1]).
-nifs([loop/1, malloc_loop/1]).

load(Dir) -> erlang:load_nif(filename:join(Dir, "recorder_bench_nif"), 0).

loop(_K) -> erlang:nif_error(not_loaded).
malloc_loop(_K) -> erlang:nif_error(not_loaded).
