%% echo_busy_workload: a busy port on ERTS's port-test driver echo_drv
%% (vendor/echo_drv, unmodified but for the recorder's marks), fed the way
%% its own test suite feeds it in port_trace_SUITE's outputv case: the driver
%% loaded with OUTPUTV set (echo_drv then takes commands through its outputv
%% callback) and vectors of small and large binaries sent both with
%% `Port ! {self(), {command, Data}}` and with `port_command/2`.
%%
%%   REFCTRACE_TRACE=TRACE erl -noshell -pa EBIN -run echo_busy_workload main DRIVER_DIR
%%
%% The port is opened with the documented open_port options
%% `{parallelism, true}` (a command sent as a message is a scheduled port
%% task: the emulator takes one reference per vector entry until the callback
%% returns) and `{busy_limits_msgq, {Low, High}}`: when the commands waiting
%% in the port's queue hold High bytes or more, the port is busy and a
%% process sending to it is suspended until they drop below Low. The run
%% proves the port went busy by erlang:system_monitor's `busy_port` message
%% (the emulator sends it when it suspends a process on a busy port).
%%
%% Exits 0 when the run went as planned (what the trace says is judged by
%% `refctrace check` afterwards), 1 with a message otherwise.
-module(echo_busy_workload).

-export([main/1]).

%% echo_drv's opcode (port_trace_SUITE.erl); its outputv callback ignores
%% the data, the suite sends a 0 byte first.
-define(ECHO_DRV_NOOP, 0).
%% The port is busy above 4 kB of waiting commands, free again below 2 kB.
-define(BUSY_LIMITS, {2048, 4096}).
%% Commands sent as messages: 20 of about 800 bytes, four times High: the
%% sixth makes the port busy.
-define(BANG_COMMANDS, 20).
%% Then commands through port_command/2 while tasks may still wait.
-define(CALL_COMMANDS, 4).

main([DriverDir]) ->
    refctrace_test_script:run("echo_busy_workload", fun() -> run(DriverDir) end).

run(DriverDir) ->
    ok = refctrace_test_script:require_trace_path(),
    %% echo_drv reads OUTPUTV when it is loaded (erl_drv_getenv), as in
    %% port_trace_SUITE.
    true = os:putenv("OUTPUTV", "true"),
    ok = erl_ddll:load_driver(DriverDir, echo_drv),
    %% One scheduler: the port's tasks run when the sender stops (busy or
    %% waiting), not beside it on another scheduler, so the queue fills.
    Schedulers = erlang:system_flag(schedulers_online, 1),
    %% The emulator tells this process when it suspends another on a busy
    %% port (not when it suspends the monitoring process itself: the
    %% commands come from a process of their own).
    _ = erlang:system_monitor(self(), [busy_port]),
    {ok, _} = refctrace_tracer:start(DriverDir, echo_drv),
    Sender = spawn_link(fun sender/0),
    ok = refctrace_tracer:trace(Sender),
    Sender ! {go, self()},
    Port = receive {sent, Sender, P} -> P after 30000 -> error(no_commands_sent) end,
    ok = refctrace_tracer:sync(),
    %% The sender has let go of its data: collect records the releases.
    Sender ! release,
    receive {released, Sender} -> ok after 5000 -> error(sender_stuck) end,
    ok = refctrace_tracer:collect(Sender),
    Sender ! stop,
    %% The emulator's system messages are delivered by a thread of their
    %% own: wait for the first before turning the monitor off.
    Suspensions = busy_port_messages(Sender, Port, 10000),
    _ = erlang:system_monitor(undefined),
    _ = erlang:system_flag(schedulers_online, Schedulers),
    %% Every binary the sender passed to the port was related to the
    %% driver's borrow, so every release of one is in the trace.
    {ok, #{unrelated := 0}} = refctrace_tracer:stop(),
    io:format("echo_busy_workload: the sender was suspended ~b times on the busy port~n",
              [Suspensions]),
    ok.

%% Opens the port (commands sent as messages must come from the port's
%% owner), sends, and keeps its data until told to let go.
sender() ->
    Main = receive {go, M} -> M end,
    Port = send_commands(),
    Main ! {sent, self(), Port},
    receive release -> ok end,
    Main ! {released, self()},
    receive stop -> ok end.

send_commands() ->
    %% Sizes differ from command to command (the tracer relates a process's
    %% binary to the driver's borrow by its size); the single bytes are heap
    %% binaries the emulator gathers into a binary of its own.
    Commands = [[<<?ECHO_DRV_NOOP>>, binary:copy(<<N>>, 512 + N), binary:copy(<<N>>, 256 + N), <<0>>]
                || N <- lists:seq(1, ?BANG_COMMANDS + ?CALL_COMMANDS)],
    {Bang, Call} = lists:split(?BANG_COMMANDS, Commands),
    Port = open_port({spawn, echo_drv}, [binary, {parallelism, true}, {busy_limits_msgq, ?BUSY_LIMITS}]),
    [Port ! {self(), {command, Data}} || Data <- Bang],
    [true = port_command(Port, Data) || Data <- Call],
    barrier(Port),
    true = port_close(Port),
    %% The data stay live until here.
    24 = length(Commands),
    Port.

%% A port_control runs after the commands before it (echo_drv's control
%% echoes).
barrier(Port) -> _ = erlang:port_control(Port, 0, <<0>>), ok.

%% How many times the emulator suspended Sender on the busy Port: at least
%% once, or the run failed.
busy_port_messages(Sender, Port, Timeout) ->
    receive
        {monitor, Sender, busy_port, Port} -> 1 + busy_port_messages(Sender, Port, 1000)
    after Timeout ->
        Timeout < 10000 orelse error(port_never_busy),
        0
    end.
