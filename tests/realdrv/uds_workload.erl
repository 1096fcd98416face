%% uds_workload: drives OTP's example distribution carrier driver uds_drv
%% (vendor/uds_dist, unmodified but for the recorder's stop mark) through its
%% own Erlang API, uds.erl and uds_server.erl, as their users do: a listener,
%% accepted connections, uds:send/recv of small and large iodata, a peer too
%% slow to read so that the driver queues what the socket does not take
%% (driver_enqv, driver_peekq, driver_deq), two connections queueing at once,
%% and a port closed with data still queued.
%%
%%   REFCTRACE_TRACE=TRACE erl -noshell -pa EBIN -pa UDS_DIST/ebin -run uds_workload main
%%
%% The driver outputs only bytes (driver_output copies), so no binary of the
%% driver reaches a process and the trace is the driver's side alone.
%% Exits 0 when the run went as planned, 1 with a message otherwise.
-module(uds_workload).

-export([main/0]).

%% More than a Unix stream socket's send buffer (about 200 kB on Linux), so
%% a send to a peer that does not read is partly queued.
-define(LARGE, 600000).

main() ->
    refctrace_test_script:run("uds_workload", fun run/0).

run() ->
    ok = refctrace_test_script:require_trace_path(),
    {ok, _} = uds_server:start_link(),
    %% uds_drv binds under /tmp/erlang; a name per emulator keeps parallel
    %% runs apart.
    Name = "refctrace_realdrv_" ++ os:getpid(),
    {ok, Listener} = uds:listen(Name),
    {Peer1, C1} = connection(Listener, Name),
    small_iodata(C1, Peer1),
    large_iodata_slow_peer(C1, Peer1),
    pipelined(C1, Peer1),
    {Peer2, C2} = connection(Listener, Name),
    two_ports_queueing(C1, Peer1, C2, Peer2),
    close_with_data_queued(C2, Peer2),
    ok = uds:close(C1),
    stop_peer(Peer1),
    ok = uds:close(Listener),
    _ = file:delete("/tmp/erlang/" ++ Name ++ ".lock"),
    ok.

%% A connection: the accepting side belongs to a peer process, which reads
%% only when told to; the connecting side belongs to this process.
connection(Listener, Name) ->
    Self = self(),
    Peer = spawn_link(fun() ->
                              {ok, Accepted} = uds:accept(Listener),
                              Self ! {accepted, self()},
                              peer(Accepted)
                      end),
    {ok, Connected} = uds:connect(Name),
    receive {accepted, Peer} -> ok after 5000 -> error(no_accept) end,
    {Peer, Connected}.

peer(Port) ->
    receive
        {read, N, Delay, From} ->
            timer:sleep(Delay),
            Packets = [begin {ok, P} = uds:recv(Port), P end || _ <- lists:seq(1, N)],
            From ! {packets, self(), Packets},
            peer(Port);
        {close, From} ->
            ok = uds:close(Port),
            From ! {closed, self()}
    end.

%% Ask Peer to read N packets after Delay ms; collect them later.
read_later(Peer, N, Delay) -> Peer ! {read, N, Delay, self()}.

packets(Peer) ->
    receive {packets, Peer, Packets} -> Packets
    after 30000 -> error({no_packets_from, Peer})
    end.

stop_peer(Peer) ->
    Peer ! {close, self()},
    receive {closed, Peer} -> ok after 5000 -> error({peer_did_not_close, Peer}) end.

%% Written at once: nothing is queued.
small_iodata(C, Peer) ->
    read_later(Peer, 2, 0),
    {ok, C} = uds:send(C, "hello"),
    {ok, C} = uds:send(C, [<<"io">>, "da", [<<"ta">>, $!]]),
    ["hello", "iodata!"] = packets(Peer).

%% The peer sleeps before it reads: the socket takes part of the packet and
%% uds_drv queues the rest (driver_enqv of its stack iovec, whose binaries
%% are NULL, so the queue copies the bytes), then writes the queue out as
%% the peer reads (driver_peekq, writev, driver_deq). uds:send returns when
%% the queue is empty.
large_iodata_slow_peer(C, Peer) ->
    Large = [binary:copy(<<"L">>, ?LARGE), "tail"],
    read_later(Peer, 1, 300),
    {ok, C} = uds:send(C, Large),
    [Packet] = packets(Peer),
    true = (Packet =:= binary_to_list(iolist_to_binary(Large))),
    ok.

%% Commands that arrive while the queue is not empty are queued whole
%% (header and data: two copied segments each). Issued with port_command,
%% the call uds:send makes, without waiting for each "Sok" in between.
pipelined(C, Peer) ->
    Small = [["small ", integer_to_list(I)] || I <- lists:seq(1, 20)],
    command(C, [binary:copy(<<"P">>, ?LARGE)]),
    [command(C, S) || S <- Small],
    read_later(Peer, 21, 200),
    [_ | Smalls] = packets(Peer),
    Smalls = [lists:flatten(S) || S <- Small],
    drained(C).

%% Both connections hold a queue at the same time; the peers read together.
two_ports_queueing(C1, Peer1, C2, Peer2) ->
    command(C1, [binary:copy(<<"1">>, ?LARGE)]),
    command(C2, [binary:copy(<<"2">>, ?LARGE)]),
    command(C1, "after one"),
    command(C2, "after two"),
    true = queued(C1) > 0,
    true = queued(C2) > 0,
    read_later(Peer1, 2, 100),
    read_later(Peer2, 2, 100),
    [_, "after one"] = packets(Peer1),
    [_, "after two"] = packets(Peer2),
    drained(C1),
    drained(C2).

%% Closing a port whose queue is not empty leaves it closing until the
%% queue is written out (uds_drv has no flush callback). The peer closes
%% without reading: the next write fails, driver_failure_eof ends the port,
%% `stop` runs and the emulator frees what is still queued.
close_with_data_queued(C, Peer) ->
    command(C, [binary:copy(<<"Q">>, ?LARGE)]),
    command(C, "never read"),
    true = queued(C) > 0,
    Monitor = erlang:monitor(port, C),
    ok = uds:close(C),
    stop_peer(Peer),
    receive {'DOWN', Monitor, port, C, _} -> ok
    after 10000 -> error({port_still_open_with_queue, C})
    end,
    flush_replies(C).

command(C, Data) -> true = erlang:port_command(C, [$S | Data]).

%% Bytes in the port's queue: the third counter of uds:get_status_counters.
queued(C) ->
    {ok, _Received, _Sent, Queued} = uds:get_status_counters(C),
    Queued.

%% Wait for the queue to empty, then drop the "Sok" replies of the commands
%% sent without waiting (uds:send would take one as its own).
drained(C) ->
    wait_until_drained(C, 100),
    flush_replies(C).

wait_until_drained(C, 0) -> error({queue_not_drained, C, queued(C)});
wait_until_drained(C, Tries) ->
    case queued(C) of
        0 -> ok;
        _ -> timer:sleep(50), wait_until_drained(C, Tries - 1)
    end.

flush_replies(C) ->
    receive {C, {data, "Sok"}} -> flush_replies(C)
    after 0 -> ok
    end.
