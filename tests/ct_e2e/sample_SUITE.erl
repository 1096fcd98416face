%% sample_SUITE: a Common Test suite that drives sample_drv (tests/e2e) with
%% no refctrace call in it: the hook refctrace_cth records it, one part per
%% case (tests/ct_e2e/run_ct.cmake judges them). SAMPLE_DRV_DIR names the
%% folder of sample_drv.so.
%%
%% clean and grouped.clean: the driver outputs a 1000-byte binary (the case
%% process's reference) and a 32-byte one (copied), frees its own, and the
%% port stops; the case returns, so nothing refers to the binaries when the
%% hook collects the case process's garbage at its end. spawned: the same in
%% a process the case spawns, which outlives the case holding its binary;
%% dropped: the next case tells it to drop the binary and collect its
%% garbage (the tracer, which followed the spawned process from the hook's
%% sync at the end of spawned, writes that release in dropped's part);
%% end_per_suite stops it. leak: the port
%% is opened with the seeded leak (the driver never frees its 1000-byte
%% binary), the one finding the whole run must have.
-module(sample_SUITE).

-export([all/0, groups/0, init_per_suite/1, end_per_suite/1, init_per_group/2,
         end_per_group/2]).
-export([clean/1, spawned/1, dropped/1, leak/1]).

-define(OUTPUT, 1).

all() -> [clean, spawned, dropped, leak, {group, grouped}].

groups() -> [{grouped, [], [clean]}].

init_per_suite(Config) -> Config.

end_per_suite(_Config) ->
    case whereis(sample_holder) of
        undefined -> ok;
        Holder -> Holder ! stop, ok
    end.

init_per_group(_Group, Config) -> Config.

end_per_group(_Group, _Config) -> ok.

clean(_Config) -> session("sample_drv").

spawned(_Config) ->
    Case = self(),
    Holder = spawn(fun() -> hold(Case) end),
    receive
        {Holder, holding} -> ok
    after 5000 -> error(no_holder)
    end.

dropped(_Config) ->
    Holder = whereis(sample_holder),
    Holder ! {drop, self()},
    receive
        {Holder, dropped} -> ok
    after 5000 -> error(not_dropped)
    end.

%% Gets the 1000-byte binary from the port and keeps it until told to drop
%% it; then collects its garbage and waits to be stopped.
hold(Case) ->
    true = register(sample_holder, self()),
    ok = erl_ddll:load_driver(os:getenv("SAMPLE_DRV_DIR"), sample_drv),
    Port = open_port({spawn, "sample_drv"}, [binary]),
    <<>> = erlang:port_control(Port, ?OUTPUT, <<>>),
    Big = data(Port),
    _Small = data(Port),
    true = port_close(Port),
    Case ! {self(), holding},
    receive
        {drop, From} ->
            1000 = byte_size(Big),
            drop(From)
    end.

drop(From) ->
    true = erlang:garbage_collect(),
    From ! {self(), dropped},
    receive stop -> ok end.

leak(_Config) -> session("sample_drv leak").

%% One output command; both binaries are used after they arrive.
%% erl_ddll ties a loaded driver to the process that loaded it: each
%% process that opens a port loads it.
session(Command) ->
    ok = erl_ddll:load_driver(os:getenv("SAMPLE_DRV_DIR"), sample_drv),
    Port = open_port({spawn, Command}, [binary]),
    <<>> = erlang:port_control(Port, ?OUTPUT, <<>>),
    Big = data(Port),
    Small = data(Port),
    true = port_close(Port),
    1000 = byte_size(Big),
    <<$o, _/binary>> = Big,
    Small = binary:copy(<<"s">>, 32),
    ok.

data(Port) ->
    receive
        {Port, {data, Data}} -> Data
    after 5000 -> error({no_data_from, Port})
    end.
