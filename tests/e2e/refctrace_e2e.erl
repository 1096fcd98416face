%% refctrace_e2e: drives sample_drv in the real emulator while the recorder
%% (driver side) and refctrace_tracer (process side) write one trace.
%%
%%   REFCTRACE_TRACE=TRACE erl -noshell -pa EBIN -run refctrace_e2e main BUG DRIVER_DIR [MODE]
%%
%% writes TRACE. BUG is none, leak, double-free, write-after-output or dec-to-zero. Exits 0
%% when the run went as planned (what the trace says is judged by
%% `refctrace check` afterwards), 1 with a message otherwise. MODE
%% `untraced`: the driver has no recorder; the tracer must refuse to start
%% with a clear error, and the session runs without it. MODE `refused`: the
%% trace file is not empty; the tracer must refuse to start (exit 0 if so).
%%
%% A second port with no bug is open beside the first for part of the
%% session, so every trace has two ports.
%%
%% Garbage collection is lazy, so every binary this process gets is used
%% inside a step function: when the step returns, nothing refers to it, and
%% collect/1 (a full collection, then a look at the wrappers) records its
%% release at that point and no other. Each step also uses what it received
%% after its sync(): the receive is written when it happens, and a wrapper
%% that a minor collection swept before any look would have a receive and
%% no release.
-module(refctrace_e2e).

-export([main/1, traced_session/1]).

-define(PING, 0).
-define(OUTPUT, 1).
-define(FLUSH_KEPT, 2).
-define(QUEUE, 3).
-define(DRAIN, 4).
-define(REUSE_SEND, 5).
-define(REUSE_RELEASE, 6).
-define(SEND_TERM, 7).
-define(QUEUE_COPIES, 8).
-define(REPLY, 9).
-define(SMALL_REPLY, 10).
-define(THREAD_SEND, 11).

main([Bug, DriverDir]) ->
    main([Bug, DriverDir, "traced"]);
main([Bug, DriverDir, Mode]) ->
    refctrace_test_script:run("refctrace_e2e " ++ Bug, fun() -> run(Bug, DriverDir, Mode) end).

run(Bug, DriverDir, Mode) ->
    ok = refctrace_test_script:require_trace_path(),
    ok = erl_ddll:load_driver(DriverDir, sample_drv),
    case {Mode, refctrace_tracer:start(DriverDir, sample_drv)} of
        {"traced", {ok, _}} ->
            traced_session(Bug),
            %% Every process-side id was related to its driver binary.
            {ok, #{unrelated := 0}} = refctrace_tracer:stop();
        {"untraced", {error, {no_recorder_in, _, _}}} ->
            put(traced, false),
            session(Bug);
        {"refused", {error, {not_recording, Why}}} ->
            io:format("refused: ~s~n", [Why]);
        {_, Other} ->
            error({tracer_start, Mode, Other})
    end.

%% The session with the tracer started (by the caller: tests/mixed_e2e
%% starts it for a NIF library too), up to the last collection.
traced_session(Bug) ->
    put(traced, true),
    session(Bug),
    %% session/1 has returned: nothing refers to its binaries any more.
    collect().

traced() -> get(traced).

sync() ->
    case traced() of
        true -> ok = refctrace_tracer:sync();
        false -> ok
    end.

session(Bug) ->
    %% Made before tracing starts: this process's own, not received.
    Kept = binary:copy(<<"k">>, 1000),
    Queued = binary:copy(<<"q">>, 2000),
    traced() andalso (ok = refctrace_tracer:trace(self())),
    %% parallelism: a command sent with Port ! {self(), {command, Data}} is
    %% a scheduled port task (port_command/2 still runs at once).
    Port = open_port({spawn, "sample_drv " ++ Bug}, [binary, {parallelism, true}]),
    %% A second port at the same time: its messages name their receiver
    %% and its binaries their port; it stops while the first one runs.
    Other = open_port({spawn, "sample_drv"}, [binary]),
    output(Port, Bug),
    output(Other, "none"),
    true = port_close(Other),
    collect(),
    outputv(Port, Kept, Queued),
    flush_kept(Port, Kept),
    collect(),
    outputv_made_after_trace(Port),
    collect(),
    queue_and_drain(Port),
    send_term(Port),
    collect(),
    thread_send(Port),
    collect(),
    gathered(Port),
    collect(),
    scheduled(Port),
    collect(),
    queue_copies(Port),
    replies(Port),
    collect(),
    reuse(Port),
    forward_and_exit(Port),
    true = port_close(Port),
    sync(),
    %% Kept and Queued stay live until here.
    3000 = byte_size(Kept) + byte_size(Queued),
    ok.

collect() ->
    case traced() of
        true -> ok = refctrace_tracer:collect(self());
        false -> true = erlang:garbage_collect()
    end.

control(Port, Command) -> control(Port, Command, <<>>).
control(Port, Command, Data) -> <<>> = erlang:port_control(Port, Command, Data).

data(Port) ->
    receive
        {Port, {data, Data}} -> Data
    after 5000 -> error({no_data_from, Port})
    end.

%% 1000 bytes by reference, 32 bytes copied.
output(Port, Bug) ->
    control(Port, ?OUTPUT),
    Big = data(Port),
    Small = data(Port),
    1000 = byte_size(Big),
    Small = binary:copy(<<"s">>, 32),
    First = case Bug of
                "write-after-output" -> $X; % the driver changed what we hold
                _ -> $o
            end,
    <<First, _/binary>> = Big,
    sync(),
    1000 = byte_size(Big).

%% Both binaries are borrowed by outputv; the driver keeps the first (inc)
%% and queues the second (enq).
outputv(Port, Kept, Queued) ->
    true = port_command(Port, [Kept, Queued]),
    control(Port, ?PING), % port_command is asynchronous: wait until it ran
    sync().

%% A binary this process makes while traced and passes to the port: its
%% wrapper is this process's own, not a receive (the tracer learns the id from
%% the borrow). The driver keeps it, sends it back and frees it.
outputv_made_after_trace(Port) ->
    Late = binary:copy(<<"l">>, 1500),
    true = port_command(Port, [Late]),
    control(Port, ?PING),
    sync(),
    flush_kept(Port, Late).

flush_kept(Port, Kept) ->
    control(Port, ?FLUSH_KEPT),
    Back = data(Port),
    Kept = iolist_to_binary(Back),
    sync(),
    Kept = iolist_to_binary(Back).

%% Queue now: Queued(2000). The driver adds A(600) at the tail, B(700) at
%% the head, and A's first 300 bytes again: B, Queued, A, A'. Dequeue it in
%% pieces that end inside and on segment boundaries.
queue_and_drain(Port) ->
    control(Port, ?QUEUE),
    Counts = [700 + 100, 1900, 599, 1, 300],
    control(Port, ?DRAIN, << <<N:32>> || N <- Counts >>),
    sync().

%% Small pieces around a large binary: the emulator gathers "abc" and "de"
%% into one binary of its own (two vector entries), which the driver keeps
%% (inc) and sends back; the large one, this process's own, is queued.
gathered(Port) ->
    Own = binary:copy(<<"g">>, 1100),
    true = port_command(Port, [<<"abc">>, Own, <<"de">>]),
    control(Port, ?PING),
    sync(),
    control(Port, ?FLUSH_KEPT),
    <<"abcde">> = iolist_to_binary(data(Port)),
    control(Port, ?DRAIN, <<1100:32>>),
    sync(),
    1100 = byte_size(Own).

%% A command sent to the port as a message on a port with parallelism runs
%% as a port task: the emulator holds one reference per vector entry until
%% the callback returns. The driver keeps it and sends it back.
scheduled(Port) ->
    Own = binary:copy(<<"p">>, 1300),
    Port ! {self(), {command, [Own]}},
    control(Port, ?PING),
    sync(),
    flush_kept(Port, Own),
    1300 = byte_size(Own).

%% driver_enq, driver_pushq and a NULL-binary driver_enqv segment: binaries
%% only the queue holds, until the drain.
queue_copies(Port) ->
    control(Port, ?QUEUE_COPIES),
    control(Port, ?DRAIN, << <<N:32>> || N <- [80, 100, 90] >>),
    sync().

%% Binary-mode control replies: 200 bytes become this process's reference,
%% 32 bytes are copied by the emulator (which frees the driver's binary).
replies(Port) ->
    Reply = erlang:port_control(Port, ?REPLY, <<>>),
    <<"y", _:199/binary>> = Reply,
    Small = erlang:port_control(Port, ?SMALL_REPLY, <<>>),
    32 = byte_size(Small),
    sync(),
    200 = byte_size(Reply).

send_term(Port) ->
    control(Port, ?SEND_TERM),
    Sent = receive {sent, S} -> S after 5000 -> error(no_send_term) end,
    Output = receive {output, O} -> O after 5000 -> error(no_output_term) end,
    500 = byte_size(Sent),
    200 = byte_size(Output),
    sync(),
    700 = byte_size(Sent) + byte_size(Output).

%% erl_drv_send_term from a thread of the driver's own: the emulator fires no
%% send trace, so the output names no receiver ("unknown"); this process's
%% receive of the binary is that message's.
thread_send(Port) ->
    control(Port, ?THREAD_SEND),
    Sent = receive {thread, S} -> S after 5000 -> error(no_thread_send) end,
    sync(),
    600 = byte_size(Sent).

%% The inet_drv trick. The first buffer is still held here when the driver
%% releases it (refc 2), so the driver frees it. The second is collected
%% here first (refc 1), so the driver keeps it and writes it again.
reuse(Port) ->
    reuse_while_held(Port),
    collect(),
    reuse_receive(Port),
    collect(),
    control(Port, ?REUSE_RELEASE), % refc 1: kept for reuse
    reuse_receive(Port),           % written again, output again
    collect().

reuse_while_held(Port) ->
    Bin = reuse_receive(Port),
    control(Port, ?REUSE_RELEASE), % refc 2: freed
    sync(),
    1000 = byte_size(Bin).

reuse_receive(Port) ->
    control(Port, ?REUSE_SEND),
    Bin = data(Port),
    <<"r", _/binary>> = Bin,
    sync(),
    Bin.

%% A binary travels on to another traced process, which exits holding it:
%% after the exit the driver's count says 1 (its own), so it keeps the buffer.
forward_and_exit(Port) ->
    Self = self(),
    Holder = spawn(fun() -> hold(Self) end),
    traced() andalso (ok = refctrace_tracer:trace(Holder)),
    forward(Port, Holder),
    collect(),
    Ref = monitor(process, Holder),
    Holder ! exit,
    receive {'DOWN', Ref, process, Holder, normal} -> ok end,
    sync(),
    control(Port, ?REUSE_RELEASE), % refc 1 again: kept, freed by stop
    sync().

forward(Port, Holder) ->
    control(Port, ?REUSE_SEND),
    Bin = data(Port),
    Holder ! {hold, Bin},
    receive {held, Holder} -> ok end,
    sync(),
    1000 = byte_size(Bin).

hold(Parent) ->
    receive
        {hold, Bin} ->
            Parent ! {held, self()},
            receive exit -> byte_size(Bin) end
    end.
