%% echo_workload: drives ERTS's port-test driver echo_drv (vendor/echo_drv,
%% unmodified but for the recorder's marks) the way its own test suite,
%% port_trace_SUITE, does: `port_command(Port, [Op | Data])` on binary-mode
%% ports, while the recorder and refctrace_tracer write one trace.
%%
%%   REFCTRACE_TRACE=TRACE erl -noshell -pa EBIN -run echo_workload main DRIVER_DIR
%%
%% Exits 0 when the run went as planned (what the trace says is judged by
%% `refctrace check` afterwards), 1 with a message otherwise. Every binary
%% this process receives is used inside a step function, so when the step
%% returns nothing refers to it and collect/0 records its release there.
-module(echo_workload).

-export([main/1]).

%% echo_drv's opcodes (port_trace_SUITE.erl).
-define(ECHO_DRV_OUTPUT_BINARY, 3).
-define(ECHO_DRV_OUTPUTV, 4).

main([DriverDir]) ->
    refctrace_test_script:run("echo_workload", fun() -> run(DriverDir) end).

run(DriverDir) ->
    ok = refctrace_test_script:require_trace_path(),
    ok = erl_ddll:load_driver(DriverDir, echo_drv),
    %% The tracer's trace module is compiled into the driver's own file.
    {ok, _} = refctrace_tracer:start(DriverDir, echo_drv),
    session(),
    collect(),
    %% Every binary the process got was related to the driver's or is in a
    %% group of equal-sized ones (its releases written with `among`), so
    %% every release of one is in the trace.
    {ok, #{unrelated := 0, uncertain := Uncertain}} = refctrace_tracer:stop(),
    io:format("echo_workload: tracer: unrelated 0, uncertain ~b~n", [Uncertain]).

session() ->
    %% The data and the replies expected, made before tracing starts: they
    %% are this process's own binaries, and comparing a reply with them
    %% (sub-binaries) makes no new binary. A process's new binary is related
    %% to the driver's it received by its size, so nothing else of a reply's
    %% size may appear here between two looks.
    Cases = [{Iodata, iolist_to_binary(Iodata)} || Iodata <- iodata()],
    %% Two ports at once get the same data, as users send it: three replies
    %% of one size in one look, which the tracer cannot tell apart (their
    %% releases are written with `among`, the model takes the emulator's word).
    Rounds = [[Case, Case, Case] || Case <- Cases],
    ok = refctrace_tracer:trace(self()),
    First = open_port({spawn, echo_drv}, [binary]),
    Second = open_port({spawn, echo_drv}, [binary]),
    %% driver_alloc_binary + driver_output_binary of all but the first byte:
    %% 64 bytes or less are copied into the message, more are referenced.
    [begin echo(?ECHO_DRV_OUTPUT_BINARY, [{First, Case}]), collect() end || Case <- Cases],
    %% Both ports at once: commands to one are queued while the other's run,
    %% and the replies are held together.
    [begin echo(?ECHO_DRV_OUTPUT_BINARY, lists:zip([First, Second, First], Round)), collect() end
     || Round <- Rounds],
    %% driver_enq (the queue copies the bytes into a binary the driver never
    %% names), driver_peekqv, driver_outputv of the queue's binary, driver_deq.
    [begin echo(?ECHO_DRV_OUTPUTV, [{First, Case}]), collect() end || Case <- Cases],
    [begin echo(?ECHO_DRV_OUTPUTV, lists:zip([First, Second, First], Round)), collect() end
     || Round <- Rounds],
    %% Two equal replies, one kept past a collection and the next command:
    %% the release of the other is one of two, decided by what follows (the
    %% allocator giving its address to the next reply, or the kept one's
    %% release).
    [keep_one(Op, First, Second, Case) || Op <- [?ECHO_DRV_OUTPUT_BINARY, ?ECHO_DRV_OUTPUTV],
                                          Case <- Cases],
    true = port_close(First),
    true = port_close(Second),
    ok = refctrace_tracer:sync(),
    %% The data stay live until here.
    18 = length(lists:append(Rounds)),
    ok.

keep_one(Op, First, Second, {Iodata, Flat}) ->
    Kept = replies(Op, [{First, {Iodata, Flat}}, {Second, {Iodata, Flat}}], 1),
    collect(),
    echo(Op, [{First, {Iodata, Flat}}]),
    collect(),
    [$a | Expected] = Kept,
    Expected = expected(Op, Flat),
    collect().

%% Small and large iodata, deep lists of bytes and binaries, sizes on both
%% sides of the 64-byte copy limit (an output_binary reply is the data
%% minus its first byte).
iodata() ->
    Big = binary:copy(<<"b">>, 100000),
    [[<<"small">>],
     [$s, "mall", [<<" iodata">>]],
     binary:copy(<<"6">>, 65),
     binary:copy(<<"7">>, 66),
     [<<"x">>, binary:copy(<<"m">>, 300), "tail"],
     [lists:duplicate(40, <<"chunk">>), Big, [<<"end">>]]].

collect() -> ok = refctrace_tracer:collect(self()).

%% port_command is asynchronous; a port_control to the same port returns
%% only after the command's callback has run (echo_drv's control echoes).
barrier(Port) -> _ = erlang:port_control(Port, 0, <<0>>), ok.

reply(Port) ->
    receive
        {Port, {data, Data}} -> Data
    after 5000 -> error({no_reply_from, Port})
    end.

%% One command per {Port, {Iodata, Flat}} (a port may come twice), then every
%% reply: "a" followed by the data (OUTPUTV) or by the data but its first
%% byte (OUTPUT_BINARY).
echo(Op, Commands) ->
    _ = replies(Op, Commands, 0),
    ok.

%% The commands' replies, checked; the Nth one is returned (0: none), the
%% others are garbage once this returns.
replies(Op, Commands, Keep) ->
    [true = port_command(Port, [Op | Iodata]) || {Port, {Iodata, _}} <- Commands],
    Replies = [{reply(Port), Flat} || {Port, {_, Flat}} <- Commands],
    [barrier(Port) || Port <- lists:usort([Port || {Port, _} <- Commands])],
    ok = refctrace_tracer:sync(),
    [[$a | Expected] = Reply || {Reply, Flat} <- Replies, Expected <- [expected(Op, Flat)]],
    case Keep of
        0 -> none;
        N -> element(1, lists:nth(N, Replies))
    end.

expected(?ECHO_DRV_OUTPUT_BINARY, Flat) -> binary:part(Flat, 1, byte_size(Flat) - 1);
expected(?ECHO_DRV_OUTPUTV, Flat) -> Flat.
