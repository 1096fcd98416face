%% refctrace_tracer_nif: the trace module of refctrace_tracer (the
%% erl_tracer behaviour). Its NIFs are refctrace_tracer_nif.c, compiled into
%% the recorded driver's own shared object: load/1 loads that object, which
%% the emulator already has open as the driver, so the NIFs share the C
%% recorder's trace file, lock and table of driver binaries. For recorded NIF
%% libraries (load/2), the NIFs find each library's recorder in it; a node
%% without a recorded driver loads them from refctrace_tracer_nif.c built
%% alone (refctrace_tracer_nif.so).
-module(refctrace_tracer_nif).

-export([load/1, load/2, loaded/0]).
-export([enabled/3, trace/5, recording/0, write/1, take_news/0, released/2, attach/1,
         held/0]).

-nifs([enabled/3, trace/5, recording/0, write/1, take_news/0, released/2, attach/1,
       held/0]).

%% Path: the driver's file without ".so", as erlang:load_nif/2 wants it.
load(Path) -> load(Path, []).

%% NifLibraries: the recorded NIF libraries (absolute paths without ".so",
%% already loaded) whose recorders the module serves too.
load(Path, NifLibraries) ->
    case loaded() of
        true -> ok;
        false -> erlang:load_nif(Path, NifLibraries)
    end.

loaded() ->
    try recording() of
        _ -> true
    catch
        error:{nif_not_loaded, _} -> false;
        error:undef -> false
    end.

enabled(_Tag, _State, _Tracee) -> nif_not_loaded().
trace(_Tag, _State, _Tracee, _Message, _Opts) -> nif_not_loaded().
recording() -> nif_not_loaded().
write(_Line) -> nif_not_loaded().
take_news() -> nif_not_loaded().
released(_Id, _Count) -> nif_not_loaded().
attach(_NifLibrary) -> nif_not_loaded().
held() -> nif_not_loaded().

nif_not_loaded() -> erlang:nif_error({nif_not_loaded, ?MODULE}).
