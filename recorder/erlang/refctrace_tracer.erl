%% refctrace_tracer: records the process side of a refctrace trace (receive,
%% send, gc, exit of chosen processes, and the receivers of the driver's
%% messages) into the trace the driver's recorder writes. See
%% docs/recording.md.
%%
%%   ok = erl_ddll:load_driver(Dir, my_drv),
%%   {ok, _} = refctrace_tracer:start(Dir, my_drv),   % the same driver file
%%   ok = refctrace_tracer:trace(self()),
%%   ... open and drive the port ...
%%   ok = refctrace_tracer:sync(),          % record the releases so far
%%   ok = refctrace_tracer:collect(self()), % garbage_collect + sync
%%   ok = refctrace_tracer:stop().
%%
%% How it works. The trace module is refctrace_tracer_nif (the erl_tracer
%% behaviour), whose NIFs are compiled into the driver with the recorder:
%% start/2 loads the driver's own file with erlang:load_nif/2. The emulator
%% calls the module where each event happens, with the event's own term (no
%% copy, so no reference is added), and it writes its line in place:
%% - ports opened after start/2 (and ports given to trace/1) are traced with
%%   `send` (the receiver of each driver message: an output's `to`) and
%%   `receive` (the sender of a command: a borrow's `from`);
%% - traced processes with `receive`, `send`, `procs` (exit) and
%%   `garbage_collection`: one line per driver binary in a message, found by
%%   its bytes.
%% Releases are not events: a process's references are its binary wrappers,
%% which process_info(Pid, binary) lists as {Id, OrigSize, Refc}; this server
%% compares each traced process's list with the last one at sync/0,
%% collect/1 and after each garbage collection of the process, and writes a
%% `gc` per wrapper that went. An Id is related to a driver binary only by
%% what the trace module learnt: the process received (or passed to the
%% port) that driver binary, and the Id is the one new wrapper of that size
%% in the process. Several received binaries of one size whose new wrappers
%% cannot be told apart form a group: a wrapper of the group that goes is
%% written as a `gc` with `among` (trace format 1.4), the group's binaries,
%% which one unknown. When even that cannot be said (more new wrappers of the
%% size than binaries received), the Ids stay unrelated and their releases
%% are not recorded (stop/0 reports how many).
-module(refctrace_tracer).

-export([start/2, start/3, attach_nif/1, trace/1, trace/2, sync/0, collect/1, held/0, stop/0]).

-define(NAME, ?MODULE).

%% Driver binaries of one size that Pid received between two looks, and the
%% new wrappers of that size it then had: each Id is one of the Drivers,
%% which one unknown. `released`: how many of its wrappers went (each written
%% as a `gc` with `among`).
-record(group, {
    pid :: pid(),
    ids :: [integer()],
    drivers :: [string()],
    released = 0 :: non_neg_integer()
}).

-record(state, {
    %% traced pid => #{Id => {Wrappers, Refc, OrigSize}}
    snapshots = #{} :: #{pid() => #{integer() => {pos_integer(), integer(), integer()}}},
    %% pid_to_list text => pid, for the trace module's news
    names = #{} :: #{string() => pid()},
    %% process_info Id <=> driver id ("0x..."), learnt once per binary
    ids = #{} :: #{integer() => string()},
    drivers = #{} :: #{string() => integer()},
    %% driver binaries a process got that no Id is related to yet
    pending = #{} :: #{pid() => [{'receive' | borrow, string(), integer()}]},
    %% received driver binaries whose wrappers cannot be told apart:
    %% group number => #group{}, and each of its Ids => its group number
    groups = #{} :: #{pos_integer() => #group{}},
    grouped = #{} :: #{integer() => pos_integer()},
    next_group = 1 :: pos_integer(),
    %% binaries that went into a group (stop/0's `uncertain`)
    uncertain = 0 :: non_neg_integer(),
    %% how many could not be related (more new wrappers than binaries received)
    ambiguous = 0 :: non_neg_integer()
}).

%% Starts the tracer. DriverDir and DriverName are what
%% erl_ddll:load_driver/2 was given: the trace module's NIFs are in that
%% file. Relative paths are relative to the emulator's working directory.
start(DriverDir, DriverName) -> start(DriverDir, DriverName, []).

%% The same, also recording the process side of recorded NIF libraries
%% (NifLibraries: what erlang:load_nif/2 was given for each, already loaded).
%% LibDir/LibName is the library holding the trace module's NIFs: a recorded
%% driver, or, without one, refctrace_tracer_nif.c built alone as
%% refctrace_tracer_nif.so (see docs/recording.md).
start(LibDir, LibName, NifLibraries) ->
    Caller = self(),
    Path = filename:absname(filename:join(LibDir, LibName)),
    Nifs = [filename:absname(Lib) || Lib <- NifLibraries],
    Pid = spawn(fun() -> init(Path, Nifs, Caller) end),
    Ref = monitor(process, Pid),
    receive
        {?NAME, Pid, Result} ->
            demonitor(Ref, [flush]),
            Result;
        {'DOWN', Ref, process, Pid, Reason} ->
            {error, Reason}
    end.

%% Also records the process side of the recorded NIF library Lib (what
%% erlang:load_nif/2 was given), loaded since start/3: ok, or {error, Why}
%% with Why not_loaded (not loaded yet: try again later), no_recorder (not
%% built with the NIF recorder) or too_many. Attaching a library twice is ok.
%% Binaries the library made before are not followed.
attach_nif(Lib) -> refctrace_tracer_nif:attach(filename:absname(Lib)).

%% Starts recording Pid (its current binaries are the baseline), or a port
%% that was opened before start/2.
trace(PidOrPort) -> trace(PidOrPort, []).

%% Options: set_on_spawn also records every process Pid spawns from now on
%% (and the ones they spawn), each from its first instruction: a child starts
%% with no binary of its own, so every wrapper it gets is new to the tracer.
trace(PidOrPort, Options) -> call({trace, PidOrPort, Options}).

%% Records the releases up to now. Call it at quiet points: no driver call
%% should run while it does (see docs/recording.md).
sync() -> call(sync).

%% Collects Pid's garbage, then records the releases.
collect(Pid) ->
    true = erlang:garbage_collect(Pid),
    sync().

%% The recorded NIF libraries write their `held` lines now (what each still
%% reaches from its priv_data and globals: not leaks), in place of the scan
%% at the emulator's exit: for a recording whose end comes first (the Common
%% Test hook's last part). See docs/recording.md.
held() -> refctrace_tracer_nif:held().

stop() -> call(stop).

call(Request) ->
    case whereis(?NAME) of
        undefined ->
            error(refctrace_tracer_not_started);
        Tracer ->
            Ref = monitor(process, Tracer),
            Tracer ! {?NAME, self(), Ref, Request},
            receive
                {?NAME, Ref, Reply} ->
                    demonitor(Ref, [flush]),
                    Reply;
                {'DOWN', Ref, process, Tracer, Reason} ->
                    error({refctrace_tracer_died, Reason})
            end
    end.

init(Path, Nifs, Caller) ->
    case load(Path, Nifs) of
        ok ->
            register(?NAME, self()),
            erlang:trace(new_ports, true, port_flags()),
            [erlang:trace_pattern({erlang, port_command, Arity},
                                  [{'_', [], [{exception_trace}]}], [global])
             || Arity <- [2, 3]],
            Caller ! {?NAME, self(), {ok, self()}},
            loop(#state{});
        {error, Reason} ->
            Caller ! {?NAME, self(), {error, Reason}}
    end.

load(Path, Nifs) ->
    case refctrace_tracer_nif:load(Path, Nifs) of
        ok ->
            case refctrace_tracer_nif:recording() of
                true -> ok;
                %% Built alone, with NIF libraries to come (attach_nif/1).
                {false, no_recorder} when Nifs =:= [] -> ok;
                {false, Why} -> {error, {not_recording, Why}}
            end;
        {error, Reason} ->
            {error, {no_recorder_in, Path ++ ".so", Reason}}
    end.

port_flags() -> [send, 'receive', running_ports, {tracer, refctrace_tracer_nif, self()}].

%% `call`: erlang:port_command/2,3 (see init/2)
%% gives the command's own binaries, which tell a borrowed binary of the
%% caller from one the emulator gathered.
process_flags() ->
    [send, 'receive', procs, garbage_collection, call,
     {tracer, refctrace_tracer_nif, self()}].

loop(State) ->
    receive
        {?NAME, From, Ref, {trace, Port, _Options}} when is_port(Port) ->
            Reply = try erlang:trace(Port, true, port_flags()) of
                        _ -> ok
                    catch
                        error:Reason -> {error, Reason}
                    end,
            From ! {?NAME, Ref, Reply},
            loop(State);
        {?NAME, From, Ref, {trace, Pid, Options}} ->
            {Reply, State1} = start_tracing(Pid, Options, State),
            From ! {?NAME, Ref, Reply},
            loop(State1);
        {?NAME, From, Ref, sync} ->
            State1 = look(maps:keys(State#state.snapshots), with_refc, State),
            From ! {?NAME, Ref, ok},
            loop(State1);
        {?NAME, From, Ref, stop} ->
            State1 = look(maps:keys(State#state.snapshots), with_refc, State),
            erlang:trace(new_ports, false, [all]),
            [erlang:trace_pattern({erlang, port_command, Arity}, false, [global])
             || Arity <- [2, 3]],
            %% try, not `catch Expr`: OTP 29 warns about the old form by default.
            [try erlang:trace(Pid, false, [all]) catch _:_ -> ok end
             || Pid <- maps:keys(State1#state.snapshots)],
            From ! {?NAME, Ref, {ok, #{unrelated => State1#state.ambiguous,
                                       uncertain => State1#state.uncertain}}};
        {refctrace_spawned, Child} ->
            loop(add_spawned(Child, State));
        {refctrace_gc, Pid} ->
            %% A collection of Pid ended: record what it released now rather
            %% than at the next sync.
            case maps:is_key(Pid, State#state.snapshots) of
                true -> loop(look([Pid], no_refc, State));
                false -> loop(State)
            end;
        _Other ->
            loop(State)
    end.

start_tracing(Pid, Options, State) ->
    Flags = [Flag || Flag <- Options, Flag =:= set_on_spawn] ++ process_flags(),
    try erlang:trace(Pid, true, Flags) of
        _ ->
            case snapshot(Pid) of
                dead ->
                    {{error, noproc}, State};
                Snapshot ->
                    {ok, State#state{snapshots = maps:put(Pid, Snapshot, State#state.snapshots),
                                     names = maps:put(pid_to_list(Pid), Pid, State#state.names)}}
            end
    catch
        error:Reason -> {{error, Reason}, State}
    end.

%% A traced process (set_on_spawn) spawned Child, which the emulator traces
%% from its first instruction: it is followed from an empty baseline, so the
%% binaries it received before this look are new wrappers like any other.
%% A child that is not traced by this tracer (its parent had no
%% set_on_spawn) or is already gone (its exit line is written) is left out.
add_spawned(Child, State) ->
    Ours = {tracer, {refctrace_tracer_nif, self()}},
    case {maps:is_key(Child, State#state.snapshots), erlang:trace_info(Child, tracer)} of
        {false, Ours} ->
            State#state{snapshots = maps:put(Child, #{}, State#state.snapshots),
                        names = maps:put(pid_to_list(Child), Child, State#state.names)};
        _ ->
            State
    end.

%% Children spawned before a look are followed before it takes the trace
%% module's news: a child's first receive may be among them.
add_spawned_queued(State) ->
    receive
        {refctrace_spawned, Child} -> add_spawned_queued(add_spawned(Child, State))
    after 0 ->
        State
    end.

%% Looks at Pids: relates new wrappers to the driver binaries they received,
%% then records one `gc` per related wrapper that went. With with_refc (a
%% sync: every traced process looked at), the last event of each binary
%% carries the count process_info reports, when a traced process still holds
%% it; a look at one process cannot know that the others' changes are
%% recorded.
look(Pids0, RefcMode, State0) ->
    Known = State0#state.snapshots,
    State = take_news(add_spawned_queued(State0)),
    %% A full look (sync) covers the children just added too.
    Pids = case RefcMode of
               with_refc -> Pids0 ++ [P || P <- maps:keys(State#state.snapshots),
                                           not maps:is_key(P, Known)];
               no_refc -> Pids0
           end,
    {State1, Gcs} =
        lists:foldl(
            fun(Pid, {S, Acc}) ->
                Old = maps:get(Pid, S#state.snapshots),
                case snapshot(Pid) of
                    dead ->
                        %% Its exit line is written; its references went with it.
                        {forget_dead(Pid, Old, S), Acc};
                    New ->
                        S1 = relate(Pid, Old, New, S),
                        S2 = S1#state{snapshots = maps:put(Pid, New, S1#state.snapshots)},
                        S3 = release_grouped(Pid, Old, New, S2),
                        {S3, Acc ++ released(Pid, Old, New, S3)}
                end
            end, {State, []}, Pids),
    Refcs = held_refcs(State1),
    Lasts = lists:foldl(fun({_, Id}, Acc) -> maps:update_with(Id, fun(N) -> N + 1 end, 1, Acc) end,
                        #{}, Gcs),
    _ = lists:foldl(
          fun({Pid, Id}, Seen) ->
              N = maps:get(Id, Seen, 0) + 1,
              Refc = case {RefcMode, N =:= maps:get(Id, Lasts), maps:find(Id, Refcs)} of
                         {with_refc, true, {ok, R}} -> [<<",\"refc\":">>, integer_to_binary(R)];
                         _ -> []
                     end,
              write([<<"{\"op\":\"gc\",\"bin\":\"">>, maps:get(Id, State1#state.ids),
                     <<"\",\"actor\":\"">>, pid_to_list(Pid), <<"\"">>, Refc, timestamp(),
                     <<"}\n">>]),
              maps:put(Id, N, Seen)
          end, #{}, Gcs),
    tell_released(Gcs, State1).

%% What the trace module noted since the last look: driver binaries traced
%% processes received or passed to the port, and driver binaries that ended.
take_news(State) ->
    lists:foldl(fun take_news/2, State, refctrace_tracer_nif:take_news()).

take_news({gone, _, DriverId, _}, State) ->
    ungroup(DriverId, unrelate(DriverId, State));
take_news({Kind, PidText, DriverId, Size}, State) ->
    case {maps:find(PidText, State#state.names), maps:is_key(DriverId, State#state.drivers)} of
        {{ok, Pid}, false} ->
            Pending = maps:get(Pid, State#state.pending, []),
            case lists:keymember(DriverId, 2, Pending) of
                true -> State;
                false ->
                    State#state{pending = maps:put(Pid, Pending ++ [{Kind, DriverId, Size}],
                                                   State#state.pending)}
            end;
        _ ->
            State
    end.

%% A received binary is the one wrapper of its size that is new in the
%% process; a binary the process passed to the port is its one unrelated
%% wrapper of that size. Several binaries of one size received between two
%% looks, with as many new wrappers of that size or fewer (a message not yet
%% taken from the queue), form a group: each new wrapper is one of them.
%% More new wrappers than binaries: one is something else, nothing can be
%% said, nothing is related (counted in `ambiguous`).
relate(Pid, Old, New, State) ->
    Pending = maps:get(Pid, State#state.pending, []),
    Borrows = [Item || {borrow, _, _} = Item <- Pending],
    Sizes = lists:usort([Size || {Kind, _, Size} <- Pending, Kind =/= borrow]),
    State1 = lists:foldl(fun(Size, S) -> relate_received(Pid, Old, New, Size, S) end,
                         State, Sizes),
    lists:foldl(
        fun({borrow, DriverId, Size} = Item, S) ->
            case [Id || {Id, {_, _, IdSize}} <- maps:to_list(New), IdSize =:= Size,
                        not maps:is_key(Id, S#state.ids), not maps:is_key(Id, S#state.grouped)] of
                [Id] -> drop_pending(Pid, Item, relate_id(Id, DriverId, S));
                [] -> S;
                [_, _ | _] = Candidates -> drop_pending(Pid, Item, unrelated(Pid, DriverId, Size,
                                                                              Candidates, S))
            end
        end, State1, Borrows).

relate_received(Pid, Old, New, Size, State) ->
    Items = [Item || {Kind, _, ItemSize} = Item <- maps:get(Pid, State#state.pending, []),
                     Kind =/= borrow, ItemSize =:= Size],
    Drivers = [DriverId || {_, DriverId, _} <- Items],
    Ids = [Id || {Id, {N, _, IdSize}} <- lists:sort(maps:to_list(New)), IdSize =:= Size,
                 not maps:is_key(Id, State#state.ids), N > wrappers(Id, Old)],
    Fresh = [Id || Id <- Ids, not maps:is_key(Id, State#state.grouped)],
    Dropped = lists:foldl(fun(Item, S) -> drop_pending(Pid, Item, S) end, State, Items),
    case {Drivers, Ids} of
        {_, []} ->
            %% A received one is not taken from the queue yet: next look. A
            %% binary a NIF made in Pid's call has no queue: with no wrapper of
            %% its size left unrelated, Pid released it already.
            Unrelated = [Id || {Id, {_, _, IdSize}} <- maps:to_list(New), IdSize =:= Size,
                               not maps:is_key(Id, State#state.ids),
                               not maps:is_key(Id, State#state.grouped)],
            case Unrelated of
                [] -> lists:foldl(fun(Item, S) -> made_gone(Pid, Item, S) end, State, Items);
                _ -> State
            end;
        {[DriverId], [Id]} ->
            relate_id(Id, DriverId, Dropped);
        _ when length(Ids) =< length(Drivers), Fresh =:= Ids ->
            Number = Dropped#state.next_group,
            Group = #group{pid = Pid, ids = Ids, drivers = Drivers},
            Dropped#state{groups = maps:put(Number, Group, Dropped#state.groups),
                          grouped = maps:merge(Dropped#state.grouped,
                                               maps:from_list([{Id, Number} || Id <- Ids])),
                          next_group = Number + 1,
                          uncertain = Dropped#state.uncertain + length(Drivers)};
        _ ->
            lists:foldl(fun(DriverId, S) -> unrelated(Pid, DriverId, Size, Ids, S) end,
                        Dropped, Drivers)
    end.

%% A binary a NIF made in Pid's call whose wrapper went before a look saw it.
made_gone(Pid, {made, DriverId, _} = Item, State) ->
    write([<<"{\"op\":\"gc\",\"bin\":\"">>, DriverId, <<"\",\"actor\":\"">>,
           pid_to_list(Pid), <<"\"">>, timestamp(), <<"}\n">>]),
    ok = refctrace_tracer_nif:released(DriverId, 1),
    drop_pending(Pid, Item, State);
made_gone(_Pid, _Item, State) ->
    State.

unrelated(Pid, DriverId, Size, Candidates, State) ->
    io:format(standard_error,
              "refctrace_tracer: ~p got driver binary ~s (~b bytes) and has ~b "
              "unrelated wrappers of that size: its releases are not recorded~n",
              [Pid, DriverId, Size, length(Candidates)]),
    State#state{ambiguous = State#state.ambiguous + 1}.

%% Id is DriverId's wrapper, from now on in every process. If Id was in a
%% group, DriverId leaves it too: what is left may be decided.
relate_id(Id, DriverId, State) ->
    S = State#state{ids = maps:put(Id, DriverId, State#state.ids),
                    drivers = maps:put(DriverId, Id, State#state.drivers)},
    case maps:find(Id, S#state.grouped) of
        {ok, Number} ->
            #group{ids = Ids, drivers = Drivers} = Group = maps:get(Number, S#state.groups),
            settle_group(Number, Group#group{ids = lists:delete(Id, Ids),
                                             drivers = lists:delete(DriverId, Drivers)},
                         S#state{grouped = maps:remove(Id, S#state.grouped)});
        error ->
            S
    end.

%% A group of one binary and its one wrapper, none released: exactly related.
%% A group whose binaries were all released: the recorder learns it.
settle_group(Number, #group{ids = [Id], drivers = [DriverId], released = 0}, State) ->
    relate_id(Id, DriverId, drop_group(Number, State));
settle_group(Number, #group{ids = [], drivers = Drivers, released = Released}, State)
  when Released >= length(Drivers) ->
    [ok = refctrace_tracer_nif:released(DriverId, 1) || DriverId <- Drivers],
    drop_group(Number, State);
settle_group(Number, Group, State) ->
    State#state{groups = maps:put(Number, Group, State#state.groups)}.

drop_group(Number, State) ->
    #group{ids = Ids} = maps:get(Number, State#state.groups),
    State#state{groups = maps:remove(Number, State#state.groups),
                grouped = maps:without(Ids, State#state.grouped)}.

%% One `gc` with `among` per grouped wrapper of Pid that went.
release_grouped(Pid, Old, New, State) ->
    Gone = lists:append([lists:duplicate(N - wrappers(Id, New), Id)
                         || {Id, {N, _, _}} <- lists:sort(maps:to_list(Old)),
                            maps:is_key(Id, State#state.grouped), N > wrappers(Id, New)]),
    lists:foldl(
        fun(Id, S) ->
            Number = maps:get(Id, S#state.grouped),
            #group{ids = Ids, drivers = Drivers, released = Released} = Group =
                maps:get(Number, S#state.groups),
            write([<<"{\"op\":\"gc\",\"among\":[">>,
                   lists:join(<<",">>, [[$", D, $"] || D <- Drivers]),
                   <<"],\"actor\":\"">>, pid_to_list(Pid), <<"\"">>, timestamp(), <<"}\n">>]),
            Left = case wrappers(Id, New) of
                       0 -> lists:delete(Id, Ids);
                       _ -> Ids
                   end,
            settle_group(Number, Group#group{ids = Left, released = Released + 1},
                         S#state{grouped = case Left =:= Ids of
                                               true -> S#state.grouped;
                                               false -> maps:remove(Id, S#state.grouped)
                                           end})
        end, State, Gone).

%% DriverId ended (the recorder forgot it: its address may come back). In
%% a group, it was one of the binaries whose wrapper went.
ungroup(DriverId, State) ->
    case [{N, G} || {N, #group{drivers = Ds} = G} <- maps:to_list(State#state.groups),
                    lists:member(DriverId, Ds)] of
        [{Number, #group{drivers = Drivers, released = Released} = Group}] when Released > 0 ->
            settle_group(Number, Group#group{drivers = lists:delete(DriverId, Drivers),
                                             released = Released - 1}, State);
        _ ->
            State
    end.

drop_pending(Pid, Item, State) ->
    State#state{pending = maps:update_with(Pid, fun(L) -> lists:delete(Item, L) end, [],
                                           State#state.pending)}.

wrappers(Id, Snapshot) ->
    case maps:find(Id, Snapshot) of
        {ok, {N, _, _}} -> N;
        error -> 0
    end.

%% {Pid, Id} once per related wrapper that went.
released(Pid, Old, New, State) ->
    lists:append([lists:duplicate(N - wrappers(Id, New), {Pid, Id})
                  || {Id, {N, _, _}} <- lists:sort(maps:to_list(Old)),
                     maps:is_key(Id, State#state.ids), N > wrappers(Id, New)]).

held_refcs(State) ->
    maps:fold(fun(_Pid, Snap, Acc) ->
                  maps:fold(fun(Id, {_, R, _}, Acc1) -> maps:put(Id, R, Acc1) end, Acc, Snap)
              end, #{}, State#state.snapshots).

forget_dead(Pid, Old, State) ->
    %% Binaries a NIF made in its calls that no look related went with it.
    [ok = refctrace_tracer_nif:released(DriverId, 1)
     || {made, DriverId, _} <- maps:get(Pid, State#state.pending, [])],
    S0 = State#state{snapshots = maps:remove(Pid, State#state.snapshots),
                     pending = maps:remove(Pid, State#state.pending)},
    %% Its exit released every reference of its groups' wrappers: a group
    %% whose wrappers were one per binary leaves no binary of it held by Pid.
    S = maps:fold(fun(Number, #group{pid = P, ids = Ids, drivers = Drivers, released = R}, Acc)
                        when P =:= Pid ->
                          case length(Ids) + R >= length(Drivers) of
                              true -> [ok = refctrace_tracer_nif:released(D, 1) || D <- Drivers];
                              false -> ok
                          end,
                          drop_group(Number, Acc);
                     (_, _, Acc) ->
                          Acc
                  end, S0, S0#state.groups),
    tell_released([{Pid, Id} || {Id, {N, _, _}} <- maps:to_list(Old), _ <- lists:seq(1, N)], S).

%% The recorder follows each driver binary's count through the trace's lines
%% and forgets a binary when it reaches 0 (its address may next be another
%% binary); it learns of the releases here.
tell_released(Releases, State) ->
    Counts = lists:foldl(fun({_Pid, Id}, Acc) -> maps:update_with(Id, fun(N) -> N + 1 end, 1, Acc)
                         end, #{}, Releases),
    maps:foreach(fun(Id, N) ->
                     case maps:find(Id, State#state.ids) of
                         {ok, DriverId} -> ok = refctrace_tracer_nif:released(DriverId, N);
                         error -> ok
                     end
                 end, Counts),
    State.

unrelate(DriverId, State) ->
    Pending = maps:map(fun(_, L) -> lists:keydelete(DriverId, 2, L) end, State#state.pending),
    case maps:find(DriverId, State#state.drivers) of
        {ok, Id} ->
            State#state{ids = maps:remove(Id, State#state.ids),
                        drivers = maps:remove(DriverId, State#state.drivers),
                        pending = Pending};
        error ->
            State#state{pending = Pending}
    end.

%% #{Id => {Wrappers, Refc, OrigSize}}, or dead.
snapshot(Pid) ->
    case erlang:process_info(Pid, binary) of
        {binary, List} ->
            lists:foldl(fun({Id, Size, Refc}, Acc) ->
                            maps:update_with(Id, fun({N, R, S}) -> {N + 1, R, S} end,
                                             {1, Refc, Size}, Acc)
                        end, #{}, List);
        undefined ->
            dead
    end.

timestamp() -> [<<",\"t\":">>, integer_to_binary(erlang:monotonic_time(nanosecond))].

write(Line) -> ok = refctrace_tracer_nif:write(Line).
