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
    try
        run(DriverDir),
        halt(0)
    catch
        Class:Reason:Stack ->
            io:format(standard_error, "echo_workload: ~p:~p~n~p~n", [Class, Reason, Stack]),
            halt(1)
    end.

run(DriverDir) ->
    Trace = case os:getenv("REFCTRACE_TRACE") of
                false -> error(set_REFCTRACE_TRACE_to_the_trace_path);
                Path -> Path
            end,
    {ok, _} = refctrace_tracer:start(Trace),
    ok = erl_ddll:load_driver(DriverDir, echo_drv),
    ok = refctrace_tracer:trace(self()),
    session(),
    collect(),
    ok = refctrace_tracer:stop().

session() ->
    First = open_port({spawn, echo_drv}, [binary]),
    Second = open_port({spawn, echo_drv}, [binary]),
    %% driver_alloc_binary + driver_output_binary of all but the first byte:
    %% 64 bytes or less are copied into the message, more are referenced.
    [begin echo_binary(First, Iodata), collect() end || Iodata <- iodata()],
    %% The same on both ports at once: commands to one are queued while the
    %% other's run, and both replies are held together.
    [begin both_ports(?ECHO_DRV_OUTPUT_BINARY, First, Second, Iodata), collect() end
     || Iodata <- iodata()],
    %% driver_enq (the queue copies the bytes into a binary the driver never
    %% names), driver_peekqv, driver_outputv of the queue's binary, driver_deq.
    [begin echo_queued(First, Iodata), collect() end || Iodata <- iodata()],
    [begin both_ports(?ECHO_DRV_OUTPUTV, First, Second, Iodata), collect() end
     || Iodata <- iodata()],
    true = port_close(First),
    true = port_close(Second),
    ok = refctrace_tracer:sync().

%% Small and large iodata, deep lists of bytes and binaries, sizes on both
%% sides of the 64-byte copy limit (the reply is the data minus one byte).
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

echo_binary(Port, Iodata) ->
    true = port_command(Port, [?ECHO_DRV_OUTPUT_BINARY | Iodata]),
    Reply = iolist_to_binary(reply(Port)),
    barrier(Port),
    ok = refctrace_tracer:sync(),
    <<_, Rest/binary>> = iolist_to_binary(Iodata),
    Reply = <<"a", Rest/binary>>,
    ok.

echo_queued(Port, Iodata) ->
    true = port_command(Port, [?ECHO_DRV_OUTPUTV | Iodata]),
    Reply = iolist_to_binary(reply(Port)),
    barrier(Port),
    ok = refctrace_tracer:sync(),
    Reply = iolist_to_binary(["a", Iodata]),
    ok.

both_ports(Op, First, Second, Iodata) ->
    true = port_command(First, [Op | Iodata]),
    true = port_command(Second, [Op | Iodata]),
    true = port_command(First, [Op | Iodata]),
    Replies = [reply(First), reply(Second), reply(First)],
    barrier(First),
    barrier(Second),
    ok = refctrace_tracer:sync(),
    3 = length([R || R <- Replies, byte_size(iolist_to_binary(R)) > 0]),
    ok.
