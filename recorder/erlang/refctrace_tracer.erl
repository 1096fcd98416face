%% refctrace_tracer: records the process side of a refctrace trace (receive,
%% send, gc, exit of chosen processes) into the file the driver's recorder
%% writes (trace-format-v1 NDJSON). See docs/recording.md.
%%
%%   {ok, _} = refctrace_tracer:start("/tmp/drv.trace"),
%%   ok = refctrace_tracer:trace(self()),
%%   ... drive the port ...
%%   ok = refctrace_tracer:sync(),          % record what happened so far
%%   ok = refctrace_tracer:collect(self()), % garbage_collect + sync
%%   ok = refctrace_tracer:stop().
%%
%% How it works. A process's references are its binary wrappers, which
%% process_info(Pid, binary) lists (one entry per wrapper, with the
%% binary's address and the emulator's count). The tracer keeps the last list
%% of every traced process and, at each sync point, records the difference:
%% a new wrapper is a `receive`, a wrapper gone is a `gc` (one per wrapper,
%% with `refc` = the count the emulator reports now, when it is known).
%% Sync points are sync/0, collect/1, and every garbage collection of a traced
%% process (trace flag garbage_collection), so a release by a minor
%% collection is recorded when it happens, not at the next explicit one.
%% Sends come from erlang:trace (flag send): the copy of the message the
%% tracer receives holds wrappers of the same binaries, whose addresses it
%% reads from its own process_info (before and after taking the message) and
%% then drops (garbage_collect(self())) before it reads any count.
%% Exits come from erlang:trace (flag procs).
%% Only binaries the driver has recorded (an alloc, borrow or realloc line in
%% the file) are reported: the tracer reads the file's new lines at each sync.
-module(refctrace_tracer).

-export([start/1, trace/1, sync/0, collect/1, stop/0]).

-define(NAME, ?MODULE).

-record(state, {
    path :: file:filename(),
    out :: file:io_device(),
    in :: file:io_device(),
    offset = 0 :: non_neg_integer(),
    partial = <<>> :: binary(),
    %% driver ids ("0x...") seen in the file => first op seen (alloc | borrow)
    known = #{} :: #{binary() => alloc | {borrow, fresh | old}},
    %% the latest count seen for a known id (driver line or process_info):
    %% when it reaches 0 the binary is gone and its id (an address) may be
    %% reused by a binary that has nothing to do with the driver
    refcs = #{} :: #{binary() => integer()},
    %% traced pid => #{Address => {Wrappers, Refc}}
    snapshots = #{} :: #{pid() => #{integer() => {pos_integer(), integer()}}},
    %% the tracer may hold a copy of a sent binary: collect it before any
    %% count is read
    dirty = false :: boolean()
}).

%% Starts the tracer, appending to Path (the file REFCTRACE_TRACE names).
start(Path) ->
    Caller = self(),
    Pid = spawn(fun() -> init(Path, Caller) end),
    receive
        {?NAME, Pid, Result} -> Result
    end.

%% Starts recording Pid: its current binaries are the baseline.
trace(Pid) -> call({trace, Pid}).

%% Records everything that happened up to now. Call it at quiet points: no
%% driver call should run while it does (see docs/recording.md).
sync() -> call(sync).

%% Collects Pid's garbage, then records the releases.
collect(Pid) ->
    true = erlang:garbage_collect(Pid),
    sync().

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

init(Path, Caller) ->
    register(?NAME, self()),
    %% Queued trace messages stay off this heap until taken, so process_info
    %% of the tracer shows the binaries of the message being handled only.
    process_flag(message_queue_data, off_heap),
    {ok, Out} = file:open(Path, [append, raw, binary]),
    case filelib:file_size(Path) of
        0 -> header(Out);
        _ -> ok
    end,
    {ok, In} = file:open(Path, [read, raw, binary]),
    %% Sends to ports are not followed (receiver/1), and tracing them would
    %% put a copy of the data, with one more reference, in the tracer while
    %% the driver looks at the count. This pattern is node-wide.
    erlang:trace_pattern(send, [{['$1', '_'], [{'orelse', {is_pid, '$1'}, {is_atom, '$1'}}], []}], []),
    Caller ! {?NAME, self(), {ok, self()}},
    loop(collect_own(#state{path = Path, out = Out, in = In})).

header(Out) ->
    Otp = erlang:system_info(otp_release),
    ok = file:write(Out, ["{\"refctrace\":1,\"source\":\"refctrace_tracer\",\"otp\":\"", Otp, "\"}\n"]).

loop(State) ->
    Before = own_wrappers(),
    receive
        {?NAME, From, Ref, {trace, Pid}} ->
            try erlang:trace(Pid, true, [send, procs, garbage_collection, {tracer, self()}]) of
                _ ->
                    case snapshot(Pid) of
                        dead ->
                            From ! {?NAME, Ref, {error, noproc}},
                            loop(State);
                        Snapshot ->
                            From ! {?NAME, Ref, ok},
                            loop(State#state{snapshots = maps:put(Pid, Snapshot,
                                                                  State#state.snapshots)})
                    end
            catch
                error:Reason ->
                    From ! {?NAME, Ref, {error, Reason}},
                    loop(State)
            end;
        {?NAME, From, Ref, sync} ->
            State1 = sync_all(State),
            From ! {?NAME, Ref, ok},
            loop(State1);
        {?NAME, From, Ref, stop} ->
            State1 = sync_all(State),
            [catch erlang:trace(Pid, false, [all]) || Pid <- maps:keys(State1#state.snapshots)],
            erlang:trace_pattern(send, true, []),
            ok = file:close(State1#state.out),
            ok = file:close(State1#state.in),
            From ! {?NAME, Ref, ok};
        Trace when element(1, Trace) =:= trace ->
            loop(tidy(handle_trace(observe(Trace, Before), State)));
        _Other ->
            loop(State)
    end.

%% Every trace message generated so far is handled, then every traced
%% process's binaries are compared with the last look.
sync_all(State) ->
    Ref = erlang:trace_delivered(all),
    State1 = drain(Ref, State),
    collect_own(diff(maps:keys(State1#state.snapshots), read_new_lines(State1), with_refc)).

drain(Ref, State) ->
    Before = own_wrappers(),
    receive
        {trace_delivered, all, Ref} -> State;
        Trace when element(1, Trace) =:= trace ->
            drain(Ref, tidy(handle_trace(observe(Trace, Before), State)))
    end.

%% What a trace message says, as plain terms: the message copy a send trace
%% carries must be dead before the tracer collects its own garbage.
observe({trace, Pid, send, _Msg, To}, Before) ->
    %% The copy of the message is in this process now, and nothing else
    %% happened since Before: its new wrappers are the binaries sent.
    {send, Pid, To, subtract(own_wrappers(), Before)};
observe({trace, Pid, exit, _Reason}, _Before) ->
    {exit, Pid};
observe({trace, Pid, Gc, _Info}, _Before) when Gc =:= gc_minor_end; Gc =:= gc_major_end ->
    {gc, Pid};
observe(_Other, _Before) ->
    ignore.

handle_trace({send, _Pid, _To, Sent}, State) when map_size(Sent) =:= 0 ->
    State;
handle_trace({send, Pid, To, Sent}, State0) ->
    %% Drop the copy first: while the tracer holds it, the emulator's counts
    %% are one too high.
    State = collect_own(State0),
    case {receiver(To), maps:is_key(Pid, State#state.snapshots)} of
        {undefined, _} ->
            State;
        {Receiver, Traced} ->
            %% The sender's own receive of the binary comes before its send.
            State1 = case Traced of
                         true -> diff([Pid], read_new_lines(State), no_refc);
                         false -> read_new_lines(State)
                     end,
            Actor = pid_name(Pid),
            [emit(State1, [<<"{\"op\":\"send\",\"bin\":\"">>, Id, <<"\",\"actor\":\"">>, Actor,
                           <<"\",\"to\":\"">>, Receiver, <<"\"">>, timestamp(), <<"}\n">>])
             || {Address, Count} <- lists:sort(maps:to_list(Sent)),
                Id <- [driver_id(Address)],
                maps:is_key(Id, State1#state.known),
                _ <- lists:seq(1, Count)],
            State1#state{dirty = true}
    end;
handle_trace({exit, Pid}, State) ->
    case maps:is_key(Pid, State#state.snapshots) of
        true ->
            emit(State, [<<"{\"op\":\"exit\",\"actor\":\"">>, pid_name(Pid), <<"\"">>, timestamp(),
                         <<"}\n">>]),
            Held = maps:map(fun(_, {N, _}) -> N end, maps:get(Pid, State#state.snapshots)),
            released(Held, State#state{snapshots = maps:remove(Pid, State#state.snapshots)});
        false ->
            State
    end;
handle_trace({gc, Pid}, State) ->
    case maps:is_key(Pid, State#state.snapshots) of
        true -> (diff([Pid], read_new_lines(State), no_refc))#state{dirty = true};
        false -> State
    end;
handle_trace(ignore, State) ->
    State.

receiver(To) when is_pid(To) -> pid_name(To);
receiver(To) when is_atom(To) ->
    case whereis(To) of
        Pid when is_pid(Pid) -> pid_name(Pid);
        _ -> undefined
    end;
%% A port (or a remote process) holds no wrapper the model could follow.
receiver(_) -> undefined.

%% Records, for each process, the wrappers that appeared (receive) and went
%% (gc) since the last look. With with_refc (a sync: every traced process
%% looked at, every trace message handled), `refc` goes on the last event of
%% each binary, once every process's change to it has been recorded; a look
%% at one process cannot know that the others' changes are recorded.
diff(Pids, State, RefcMode) ->
    {Snapshots, Changes} =
        lists:foldl(
            fun(Pid, {Snaps, Acc}) ->
                Old = maps:get(Pid, Snaps),
                case snapshot(Pid) of
                    dead -> {Snaps, Acc};
                    New -> {maps:put(Pid, New, Snaps), Acc ++ changes(Pid, Old, New, State)}
                end
            end,
            {State#state.snapshots, []}, Pids),
    Refcs = maps:fold(fun(_Pid, Snap, Acc) ->
                          maps:fold(fun(A, {_, R}, Acc1) -> maps:put(A, R, Acc1) end, Acc, Snap)
                      end, #{}, Snapshots),
    Lasts = lists:foldl(fun({_Op, _Pid, A}, Acc) -> maps:update_with(A, fun(N) -> N + 1 end, 1, Acc) end,
                        #{}, Changes),
    lists:foldl(
        fun({Op, Pid, Address}, Seen) ->
            N = maps:get(Address, Seen, 0) + 1,
            Refc = case {RefcMode, N =:= maps:get(Address, Lasts), maps:find(Address, Refcs)} of
                       {with_refc, true, {ok, R}} -> [<<",\"refc\":">>, integer_to_binary(R)];
                       _ -> []
                   end,
            emit(State, [<<"{\"op\":\"">>, atom_to_binary(Op), <<"\",\"bin\":\"">>,
                         driver_id(Address), <<"\",\"actor\":\"">>, pid_name(Pid), <<"\"">>,
                         Refc, timestamp(), <<"}\n">>]),
            maps:put(Address, N, Seen)
        end, #{}, Changes),
    State1 = State#state{snapshots = Snapshots},
    %% Counts for the next look; gc'd wrappers may have been the last ones.
    State2 = lists:foldl(fun({_Op, _Pid, A}, S) ->
                             case maps:find(A, Refcs) of
                                 {ok, R} -> counted(driver_id(A), R, S);
                                 error -> S
                             end
                         end, State1, Changes),
    Gone = lists:foldl(fun({gc, _Pid, A}, Acc) -> maps:update_with(A, fun(N) -> N + 1 end, 1, Acc);
                          (_, Acc) -> Acc
                       end, #{}, Changes),
    released(Gone, State2).

changes(Pid, Old, New, State) ->
    Addresses = lists:usort(maps:keys(Old) ++ maps:keys(New)),
    lists:append(
        [begin
             {Before, _} = maps:get(A, Old, {0, 0}),
             {After, _} = maps:get(A, New, {0, 0}),
             Id = driver_id(A),
             case maps:find(Id, State#state.known) of
                 error -> [];
                 %% A binary the process made itself and passed to the port:
                 %% its wrapper predates the borrow that made it known.
                 {ok, {borrow, fresh}} when Before =:= 0 -> [];
                 {ok, _} when After > Before -> lists:duplicate(After - Before, {'receive', Pid, A});
                 {ok, _} -> lists:duplicate(Before - After, {gc, Pid, A})
             end
         end || A <- Addresses]).

%% #{Address => {Wrappers, Refc}}, or dead.
snapshot(Pid) ->
    case erlang:process_info(Pid, binary) of
        {binary, List} ->
            lists:foldl(fun({A, _Size, Refc}, Acc) ->
                            maps:update_with(A, fun({N, R}) -> {N + 1, R} end, {1, Refc}, Acc)
                        end, #{}, List);
        undefined ->
            dead
    end.

own_wrappers() ->
    {binary, List} = erlang:process_info(self(), binary),
    lists:foldl(fun({A, _, _}, Acc) -> maps:update_with(A, fun(N) -> N + 1 end, 1, Acc) end,
                #{}, List).

subtract(Now, Before) ->
    maps:filter(fun(_, N) -> N > 0 end,
                maps:map(fun(A, N) -> N - maps:get(A, Before, 0) end, Now)).

collect_own(State) ->
    true = erlang:garbage_collect(),
    State#state{dirty = false}.

%% Called once the trace message that was handled is no longer referenced.
tidy(State = #state{dirty = true}) -> collect_own(State);
tidy(State) -> State.

%% The driver names a binary by its ErlDrvBinary address, which is two words
%% into the emulator's Binary that process_info reports.
driver_id(Address) ->
    Offset = 2 * erlang:system_info(wordsize),
    iolist_to_binary(["0x", string:lowercase(integer_to_list(Address + Offset, 16))]).

pid_name(Pid) -> list_to_binary(pid_to_list(Pid)).

timestamp() -> [<<",\"t\":">>, integer_to_binary(erlang:monotonic_time(nanosecond))].

emit(State, Line) -> ok = file:write(State#state.out, Line).

%% Learns the ids the driver has recorded since the last read. Ids whose
%% first line is a borrow are marked fresh for one diff (see changes/4).
read_new_lines(State) ->
    Known0 = maps:map(fun(_, {borrow, fresh}) -> {borrow, old}; (_, V) -> V end,
                      State#state.known),
    read_more(State#state{known = Known0}).

read_more(State = #state{in = In, offset = Offset, partial = Partial}) ->
    case file:pread(In, Offset, 65536) of
        {ok, Data} ->
            Lines = binary:split(<<Partial/binary, Data/binary>>, <<"\n">>, [global]),
            {Complete, [Rest]} = lists:split(length(Lines) - 1, Lines),
            State1 = lists:foldl(fun learn/2, State, Complete),
            %% A copy: a sub-binary would keep the whole read buffer alive.
            read_more(State1#state{offset = Offset + byte_size(Data), partial = binary:copy(Rest)});
        eof ->
            State
    end.

%% Driver lines have no "actor"; their "bin" and "new_bin" are driver ids.
%% A line whose count is 0 ends the binary; a realloc that moved ends the
%% old id.
learn(Line, State = #state{known = Known, refcs = Refcs}) ->
    case binary:match(Line, <<"\"actor\"">>) of
        nomatch ->
            How = case binary:match(Line, <<"\"op\":\"borrow\"">>) of
                      nomatch -> alloc;
                      _ -> {borrow, fresh}
                  end,
            Bin = capture(Line, <<"\"bin\":\"(0x[0-9a-f]+)\"">>),
            NewBin = capture(Line, <<"\"new_bin\":\"(0x[0-9a-f]+)\"">>),
            Refc = case capture(Line, <<"\"refc\":(-?[0-9]+)">>) of
                       none -> none;
                       R -> binary_to_integer(R)
                   end,
            case {Bin, NewBin} of
                {none, _} ->
                    State;
                {_, none} ->
                    counted(Bin, Refc, State#state{known = maps:put(Bin, maps:get(Bin, Known, How), Known)});
                {_, _} ->
                    Moved = State#state{known = maps:remove(Bin, Known), refcs = maps:remove(Bin, Refcs)},
                    counted(NewBin, Refc, Moved#state{known = maps:put(NewBin, alloc, Moved#state.known)})
            end;
        _ ->
            State
    end.

capture(Line, Pattern) ->
    case re:run(Line, Pattern, [{capture, all_but_first, binary}]) of
        {match, [Value]} -> Value;
        nomatch -> none
    end.

counted(_Id, none, State) -> State;
counted(Id, Refc, State) when Refc =< 0 -> forget(Id, State);
counted(Id, Refc, State) -> State#state{refcs = maps:put(Id, Refc, State#state.refcs)}.

forget(Id, State) ->
    State#state{known = maps:remove(Id, State#state.known), refcs = maps:remove(Id, State#state.refcs)}.

%% After references were released: ids whose last count is used up, and that
%% no traced process still holds, are gone.
released(Released, State) ->
    Held = maps:fold(fun(_Pid, Snap, Acc) ->
                         maps:fold(fun(A, _, Acc1) -> Acc1#{A => true} end, Acc, Snap)
                     end, #{}, State#state.snapshots),
    maps:fold(fun(Address, Count, S) ->
                  Id = driver_id(Address),
                  case {maps:is_key(Address, Held), maps:find(Id, S#state.refcs)} of
                      {false, {ok, Last}} when Last - Count =< 0 -> forget(Id, S);
                      {false, {ok, Last}} -> S#state{refcs = maps:put(Id, Last - Count, S#state.refcs)};
                      _ -> S
                  end
              end, State, Released).
