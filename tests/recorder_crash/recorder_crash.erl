%% recorder_crash: drives crash_drv for run_crash.cmake.
%%   erl -noshell -pa EBIN -run recorder_crash main DRIVER_DIR PORTS PAIRS END
%% PORTS processes, each with a port of its own, record PAIRS alloc/free
%% pairs each at the same time; then one port records one alloc that is
%% never freed and END says what follows: `abort` (the driver aborts the
%% emulator right after that call), `halt` (a clean exit) or `removed` (the
%% trace file is deleted, as the Common Test hook deletes a clean run's, then
%% a clean exit).
-module(recorder_crash).
-export([main/1]).

main([DriverDir, Ports, Pairs, End]) ->
    ok = erl_ddll:load_driver(DriverDir, "crash_drv"),
    Parent = self(),
    Workers = [spawn_link(fun() ->
                                  Port = open_port({spawn_driver, "crash_drv"}, [binary]),
                                  erlang:port_control(Port, $p, Pairs),
                                  Parent ! {done, self(), Port},
                                  %% Keeps the port open: its stop would be one
                                  %% more event, at a time nobody knows.
                                  receive never -> ok end
                          end)
               || _ <- lists:seq(1, list_to_integer(Ports))],
    [receive {done, W, _} -> ok end || W <- Workers],
    Last = open_port({spawn_driver, "crash_drv"}, [binary]),
    case End of
        "abort" -> erlang:port_control(Last, $a, "");
        "halt" -> erlang:port_control(Last, $e, "");
        "removed" ->
            erlang:port_control(Last, $e, ""),
            ok = file:delete(os:getenv("REFCTRACE_TRACE"))
    end,
    erlang:halt(0).
