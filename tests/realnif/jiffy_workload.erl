%% jiffy_workload: drives jiffy (vendor/jiffy, unmodified) the way its own
%% test suite does, while the NIF recorder, linked into jiffy.so, writes
%% the trace:
%%
%%   REFCTRACE_TRACE=TRACE erl -noshell -pa EBIN -pa JIFFY_EBIN -run jiffy_workload main CASES_DIR
%%
%% - jiffy_01_yajl_tests: every case in test/cases decoded and compared
%%   with its .eterm (the error cases must raise that error);
%% - every decoded document encoded again (plain and pretty) and decoded
%%   back to the same term;
%% - a large document both ways with {bytes_per_red, 1}, so that the
%%   encoder and the decoder yield (enif_schedule_nif) every 2000 bytes,
%%   the encoder's buffer is flushed into many binaries and grows;
%% - terms encode refuses, so an encoder's resource dies with its buffer
%%   still owned (its destructor releases it).
%% Then the processes that held jiffy's resources are gone and a garbage
%% collection has run every destructor, so the trace ends with nothing of
%% jiffy's alive. Exits 0 when the run went as planned (what the trace says
%% is judged by `refctrace check` afterwards), 1 with a message otherwise.
-module(jiffy_workload).

-export([main/1]).

main([CasesDir]) ->
    refctrace_test_script:run("jiffy_workload", fun() -> run(CasesDir) end).

run(CasesDir) ->
    ok = refctrace_test_script:require_trace_path(),
    Cases = cases(CasesDir),
    length(Cases) >= 30 orelse error({too_few_cases, CasesDir, length(Cases)}),
    %% Each step in a process of its own, which then exits: what it held
    %% (jiffy's resources, the binaries of its results) is released.
    in_process(fun() -> [yajl_case(Case) || Case <- Cases] end),
    Docs = [Term || {_Name, _Json, Term} <- Cases, not is_error(Term)],
    in_process(fun() -> [round_trip(Doc, Opts) || Doc <- Docs, Opts <- [[], [pretty]]] end),
    in_process(fun large_document/0),
    in_process(fun refused/0),
    erlang:garbage_collect(),
    io:format("jiffy_workload: ~b cases, ~b round trips~n", [length(Cases), 2 * length(Docs)]).

%% test/jiffy_01_yajl_tests.erl's read_cases/0 and gen/1.
cases(Dir) ->
    Names = lists:sort(filelib:wildcard(filename:join(Dir, "*.json"))),
    [begin
         {ok, Json} = file:read_file(Name),
         {ok, [Term]} = file:consult(filename:rootname(Name) ++ ".eterm"),
         {filename:basename(Name), Json, Term}
     end
     || Name <- Names].

is_error({error, _}) -> true;
is_error(_) -> false.

yajl_case({Name, Json, {error, Expected}}) ->
    try jiffy:decode(Json) of
        Got -> error({Name, decoded, Got, expected_error, Expected})
    catch
        error:Expected -> ok
    end;
yajl_case({Name, Json, Expected}) ->
    case jiffy:decode(Json) of
        Expected -> ok;
        Got -> error({Name, Got, expected, Expected})
    end.

round_trip(Doc, Opts) ->
    Json = iolist_to_binary(jiffy:encode(Doc, Opts)),
    case jiffy:decode(Json) of
        Doc -> ok;
        Got -> error({round_trip, Opts, Doc, Got})
    end.

large_document() ->
    Doc = {[{integer_to_binary(I),
             [I, I * 1.5, <<"value ", (integer_to_binary(I))/binary>>, true, null, {[]}]}
            || I <- lists:seq(1, 2000)]},
    Json = jiffy:encode(Doc, [{bytes_per_red, 1}]),
    byte_size(iolist_to_binary(Json)) > 50000 orelse error({small, iolist_size(Json)}),
    Doc = jiffy:decode(iolist_to_binary(Json), [{bytes_per_red, 1}]),
    ok.

%% An object key must be a binary or an atom; a tuple is no EJSON.
refused() ->
    [try jiffy:encode(Bad) of
         Got -> error({encoded, Bad, Got})
     catch
         error:_ -> ok
     end
     || Bad <- [{[{1, 2}]}, [1, 2, {3, 4, 5}], {[{<<"k">>, self()}]}]],
    ok.

in_process(Fun) ->
    {Pid, Ref} = spawn_monitor(fun() -> Fun(), exit(done) end),
    receive
        {'DOWN', Ref, process, Pid, done} -> ok;
        {'DOWN', Ref, process, Pid, Why} -> error(Why)
    end.
