%% refctrace_cth: a Common Test hook that records a whole test run with
%% refctrace's recorder, one trace file ("part") per test case, with no call
%% in the test code. See docs/recording.md, "Recording a whole test suite".
%%
%%   rebar.config:  {ct_opts, [{ct_hooks, [{refctrace_cth, [{driver, "priv/my_drv"}]}]}]}.
%%   erlang.mk:     CT_OPTS += -ct_hooks refctrace_cth '[{driver, "priv/my_drv"}]'
%%   shell:         REFCTRACE_TRACE=$PWD/refctrace.run rebar3 ct
%%
%% How it works. The recorder writes one file for the whole emulator, named
%% by REFCTRACE_TRACE, which it reads with the C library's getenv: it must be
%% in the emulator's environment when it starts (os:putenv/2 does not reach
%% getenv), so the hook does not choose it. At the first suite the hook
%% starts refctrace_tracer on the driver (option `driver`), then follows each
%% suite phase and test case: it traces the process Common Test runs the
%% phase in, and the processes that one spawns (set_on_spawn), and at the
%% phase's end it collects the process's garbage, syncs the tracer, and
%% copies the run file's new complete lines into DIR/<name>.ndjson after a
%% header that names the run, the part's position and the case (trace format
%% 1.5, "parts"). Every byte of the run file after its header goes into
%% exactly one part, in order. At the end of the run the tracer is stopped,
%% the last lines go into DIR/end_of_run.ndjson, and the run file is removed
%% (every line of it is in the parts) unless {keep_run_file, true}. An
%% emulator that crashes leaves the run file: it is then the whole trace.
%%
%% Options (a proplist):
%%   {dir, Dir}                 where the parts go; default "traces". A relative
%%                              path is relative to the directory the test run
%%                              was started in (not Common Test's log directory).
%%   {driver, Path}             the recorded driver's file without ".so"
%%                              (Dir/Name, as erl_ddll:load_driver/2 takes them);
%%                              the tracer's NIFs are in it.
%%   {nifs, [Path]}             recorded NIF libraries whose process side is
%%                              recorded too (paths as erlang:load_nif/2 takes
%%                              them). A suite usually loads its library after the
%%                              hook started: each is attached at the first phase
%%                              that begins after it was loaded; what it made
%%                              before is recorded on the NIF side only.
%%   {tracer_library, Path}     without a driver: refctrace_tracer_nif.c built
%%                              alone (docs/recording.md), for the tracer's NIFs.
%%                              Without `driver` or this, only the driver or NIF
%%                              side is recorded (no process events).
%%   {processes, spawned | phase | none}
%%                              which processes the tracer follows: the phase's
%%                              process and every process it spawns (default),
%%                              the phase's process only, or none.
%%   {keep_run_file, Boolean}   keep REFCTRACE_TRACE at the end; default false.
%% The environment variable REFCTRACE=0 turns the hook off; so does an unset
%% REFCTRACE_TRACE (the hook says so once). A run file that is not empty
%% (without REFCTRACE_APPEND=1), a DIR that already holds parts, or a tracer
%% that does not start is refused: every suite then fails in init_per_suite
%% with the reason, and nothing is written.
-module(refctrace_cth).

%% Common Test hook callbacks.
-export([id/1, init/2, terminate/1]).
-export([pre_init_per_suite/3, post_init_per_suite/4, pre_end_per_suite/3,
         post_end_per_suite/4]).
-export([pre_init_per_group/4, post_init_per_group/5, pre_end_per_group/4,
         post_end_per_group/5]).
-export([pre_init_per_testcase/4, post_end_per_testcase/5, on_tc_skip/4]).

-define(KEEPER, refctrace_cth_keeper).

%% The hook's state, threaded through the callbacks by Common Test. The run
%% itself (file, offset, part number) lives in the keeper process: it
%% outlives the processes the callbacks run in.
-record(hook, {
    options :: list(),
    status = idle :: idle | off | recording | {refused, term()},
    %% the phase whose part is open: its name, cut at its end
    open :: undefined | string()
}).

id(_Options) -> ?MODULE.

init(_Id, Options) ->
    Status = case {os:getenv("REFCTRACE"), os:getenv("REFCTRACE_TRACE")} of
                 {"0", _} ->
                     off;
                 {_, Unset} when Unset =:= false; Unset =:= "" ->
                     say("REFCTRACE_TRACE is not set: not recording (set it in the emulator's "
                         "environment, e.g. REFCTRACE_TRACE=$PWD/refctrace.run rebar3 ct)", []),
                     off;
                 _ ->
                     idle
             end,
    {ok, #hook{options = Options, status = Status}}.

terminate(#hook{status = recording}) ->
    case keeper_call(finish) of
        {ok, Summary} -> say("~s", [Summary]);
        {error, Why} -> say("the run's end was not recorded: ~p", [Why])
    end,
    ok;
terminate(_) ->
    ok.

%% ---- suite and group phases ------------------------------------------

pre_init_per_suite(Suite, Config, Hook0) ->
    Hook = ensure_started(Hook0),
    case Hook#hook.status of
        {refused, Why} -> {{fail, {refctrace_cth, Why}}, Hook};
        _ -> {Config, begin_phase(name([Suite, init_per_suite]), Hook)}
    end.

post_init_per_suite(_Suite, _Config, Return, Hook) -> {Return, end_phase(Hook)}.

pre_end_per_suite(Suite, Config, Hook) ->
    {Config, begin_phase(name([Suite, end_per_suite]), Hook)}.

post_end_per_suite(_Suite, _Config, Return, Hook) -> {Return, end_phase(Hook)}.

pre_init_per_group(Suite, Group, Config, Hook) ->
    {Config, begin_phase(name([Suite | group_path(Group, Config)] ++ [init_per_group]), Hook)}.

post_init_per_group(_Suite, _Group, _Config, Return, Hook) -> {Return, end_phase(Hook)}.

pre_end_per_group(Suite, Group, Config, Hook) ->
    {Config, begin_phase(name([Suite | group_path(Group, Config)] ++ [end_per_group]), Hook)}.

post_end_per_group(_Suite, _Group, _Config, Return, Hook) -> {Return, end_phase(Hook)}.

%% ---- test cases ------------------------------------------------------

%% init_per_testcase, the case and end_per_testcase run in one process.
pre_init_per_testcase(Suite, Case, Config, Hook) ->
    {Config, begin_phase(name([Suite | groups(Config)] ++ [Case]), Hook)}.

post_end_per_testcase(_Suite, _Case, _Config, Return, Hook) -> {Return, end_phase(Hook)}.

%% A case whose init_per_testcase failed has no end_per_testcase: its part
%% is cut here. A case skipped before it began has no part open.
on_tc_skip(_Suite, _Case, _Reason, Hook) -> end_phase(Hook).

%% The groups a case or group phase runs in, outermost first. Common Test
%% gives the enclosing groups' properties in tc_group_path (innermost first)
%% and the current group's in tc_group_properties.
groups(Config) ->
    Path = [proplists:get_value(name, Props) || Props <- proplists:get_value(tc_group_path,
                                                                             Config, [])],
    Current = case proplists:get_value(tc_group_properties, Config) of
                  undefined -> [];
                  Props -> [proplists:get_value(name, Props)]
              end,
    [G || G <- lists:reverse(Path) ++ Current, G =/= undefined].

%% A group phase's Config names the group itself already (not in every
%% release: then it is added).
group_path(Group, Config) ->
    case groups(Config) of
        [] -> [Group];
        Groups ->
            case lists:last(Groups) of
                Group -> Groups;
                _ -> Groups ++ [Group]
            end
    end.

name(Parts) -> lists:flatten(lists:join(".", [to_text(P) || P <- Parts])).

to_text(A) when is_atom(A) -> atom_to_list(A);
to_text(T) -> io_lib:format("~p", [T]).

%% ---- phases ----------------------------------------------------------

%% The calling process is the phase's: the tracer follows it (and what it
%% spawns) from here.
begin_phase(Name, Hook = #hook{status = recording}) ->
    case keeper_call({begin_phase, self()}) of
        ok -> ok;
        {error, Why} -> say("~s: not traced: ~p", [Name, Why])
    end,
    Hook#hook{open = Name};
begin_phase(_Name, Hook) ->
    Hook.

%% The phase ended: the tracer looks once (relating the wrappers the
%% process received to their driver binaries while they still exist), the
%% process's garbage is collected (what it released is then recorded in its
%% own part), and everything recorded so far is cut.
end_phase(Hook = #hook{status = recording, open = Name}) when Name =/= undefined ->
    _ = keeper_call(sync),
    erlang:garbage_collect(),
    case keeper_call({cut, Name}) of
        {ok, _File} -> ok;
        {error, Why} -> say("~s: no part written: ~p", [Name, Why])
    end,
    Hook#hook{open = undefined};
end_phase(Hook) ->
    Hook.

%% ---- the keeper: the run's state, in a process of its own --------------

ensure_started(Hook = #hook{status = idle, options = Options}) ->
    Caller = self(),
    Keeper = spawn(fun() -> keeper_init(Options, Caller) end),
    Ref = monitor(process, Keeper),
    receive
        {?KEEPER, Keeper, ok} ->
            demonitor(Ref, [flush]),
            Hook#hook{status = recording};
        {?KEEPER, Keeper, {error, Why}} ->
            demonitor(Ref, [flush]),
            say("not recording: ~s", [describe(Why)]),
            Hook#hook{status = {refused, Why}};
        {'DOWN', Ref, process, Keeper, Reason} ->
            say("not recording: the hook's keeper died: ~p", [Reason]),
            Hook#hook{status = {refused, Reason}}
    end;
ensure_started(Hook) ->
    Hook.

-record(run, {
    file :: file:filename(),        % REFCTRACE_TRACE, absolute
    dir :: file:filename(),         % where the parts go, absolute
    id :: string(),                 % the parts' `run`
    header :: undefined | binary(), % the recorder's header, without its closing brace
    offset :: non_neg_integer(),    % where the next part starts in the run file
    part = 0 :: non_neg_integer(),
    names = #{} :: #{string() => pos_integer()},
    tracer :: boolean(),
    nifs_pending = [] :: [file:filename()], % {nifs, _} not attached yet, absolute
    processes :: spawned | phase | none,
    keep :: boolean()
}).

keeper_init(Options, Caller) ->
    case start_run(Options) of
        {ok, Run} ->
            register(?KEEPER, self()),
            Caller ! {?KEEPER, self(), ok},
            keeper_loop(Run);
        {error, Why} ->
            Caller ! {?KEEPER, self(), {error, Why}}
    end.

keeper_call(Request) ->
    case whereis(?KEEPER) of
        undefined ->
            {error, keeper_not_running};
        Keeper ->
            Ref = monitor(process, Keeper),
            Keeper ! {?KEEPER, self(), Ref, Request},
            receive
                {?KEEPER, Ref, Reply} ->
                    demonitor(Ref, [flush]),
                    Reply;
                {'DOWN', Ref, process, Keeper, Reason} ->
                    {error, {keeper_died, Reason}}
            end
    end.

keeper_loop(Run) ->
    receive
        {?KEEPER, From, Ref, {begin_phase, Pid}} ->
            Run1 = attach_loaded(Run),
            From ! {?KEEPER, Ref, follow(Pid, Run1)},
            keeper_loop(Run1);
        {?KEEPER, From, Ref, sync} ->
            From ! {?KEEPER, Ref, sync(Run)},
            keeper_loop(Run);
        {?KEEPER, From, Ref, {cut, Name}} ->
            {Reply, Run1} = cut(Name, Run),
            From ! {?KEEPER, Ref, Reply},
            keeper_loop(Run1);
        {?KEEPER, From, Ref, finish} ->
            From ! {?KEEPER, Ref, finish(Run)};
        _ ->
            keeper_loop(Run)
    end.

%% Paths, refusals, the tracer. Relative paths are taken from the directory
%% the run started in: Common Test has made its log directory the working
%% directory by now.
start_run(Options) ->
    StartDir = start_dir(),
    File = filename:absname(os:getenv("REFCTRACE_TRACE"), StartDir),
    Dir = filename:absname(proplists:get_value(dir, Options, "traces"), StartDir),
    Processes = proplists:get_value(processes, Options, spawned),
    Driver = proplists:get_value(driver, Options),
    TracerLibrary = proplists:get_value(tracer_library, Options),
    Nifs = [filename:absname(Nif, StartDir) || Nif <- proplists:get_value(nifs, Options, [])],
    Tracer = case {Driver, TracerLibrary} of
                 {undefined, undefined} -> undefined;
                 {undefined, _} -> {alone, TracerLibrary};
                 _ -> {driver, Driver}
             end,
    Appending = os:getenv("REFCTRACE_APPEND") =:= "1",
    Size = content_size(File),
    maybe_error(
      [fun() -> lists:member(Processes, [spawned, phase, none])
                    orelse {error, {bad_option, {processes, Processes}}} end,
       fun() -> Nifs =:= [] orelse Tracer =/= undefined
                    orelse {error, {nifs_without_tracer, Nifs}} end,
       fun() -> Size =:= 0 orelse Appending orelse {error, {run_file_not_empty, File}} end,
       fun() -> no_parts_in(Dir) end,
       fun() -> filelib:ensure_dir(filename:join(Dir, "x")) end,
       fun() -> start_tracer(Tracer, StartDir) end],
      fun() ->
          {ok, #run{file = File, dir = Dir, id = run_id(), offset = Size,
                    tracer = Tracer =/= undefined, nifs_pending = Nifs, processes = Processes,
                    keep = proplists:get_value(keep_run_file, Options, false) =:= true}}
      end).

maybe_error([], Then) ->
    Then();
maybe_error([Check | Rest], Then) ->
    case Check() of
        true -> maybe_error(Rest, Then);
        ok -> maybe_error(Rest, Then);
        {error, _} = Error -> Error
    end.

%% The bytes before the first NUL (a mapped writer's file may be longer than
%% its lines); 0 when the file is missing.
content_size(File) ->
    case read_from(File, 0) of
        {ok, Bytes} ->
            case binary:match(Bytes, <<0>>) of
                {Nul, _} -> Nul;
                nomatch -> byte_size(Bytes)
            end;
        {error, _} ->
            filelib:file_size(File)
    end.

%% ct_util:get_start_dir/0 is Common Test's record of it (not a documented
%% function: without it, the working directory is taken).
start_dir() ->
    try ct_util:get_start_dir() of
        Dir when is_list(Dir) -> Dir;
        _ -> cwd()
    catch
        _:_ -> cwd()
    end.

cwd() ->
    {ok, Dir} = file:get_cwd(),
    Dir.

%% Never write over another run's parts.
no_parts_in(Dir) ->
    case filelib:wildcard("*.ndjson", Dir) of
        [] -> ok;
        [First | _] -> {error, {parts_already_in, Dir, First}}
    end.

%% The tracer's trace module is in the driver's file, or in the tracer
%% library built alone: start/3 loads it (the driver itself need not be
%% loaded yet; NIF libraries are attached later). The recorder opens
%% REFCTRACE_TRACE then, relative to the working directory: the run's start
%% directory.
start_tracer(undefined, _StartDir) ->
    ok;
start_tracer({_, Library}, StartDir) ->
    Path = filename:absname(Library, StartDir),
    {ok, Cwd} = file:get_cwd(),
    ok = file:set_cwd(StartDir),
    try refctrace_tracer:start(filename:dirname(Path), filename:basename(Path), []) of
        {ok, _} -> ok;
        {error, Why} -> {error, {tracer, Why}}
    after
        file:set_cwd(Cwd)
    end.

run_id() ->
    lists:flatten(io_lib:format("~s-~b-~b", [node(), os:system_time(microsecond),
                                              erlang:unique_integer([positive])])).

follow(_Pid, #run{tracer = false}) -> ok;
follow(_Pid, #run{processes = none}) -> ok;
follow(Pid, #run{processes = Processes}) ->
    Options = case Processes of
                  spawned -> [set_on_spawn];
                  phase -> []
              end,
    refctrace_tracer:trace(Pid, Options).

%% The NIF libraries loaded since the last phase began are attached; those
%% still not loaded stay pending, and one that cannot be attached is said
%% once and dropped.
attach_loaded(Run = #run{nifs_pending = []}) ->
    Run;
attach_loaded(Run = #run{nifs_pending = Nifs}) ->
    Pending = lists:filter(
                fun(Nif) ->
                        case refctrace_tracer:attach_nif(Nif) of
                            ok -> false;
                            {error, not_loaded} -> true;
                            {error, Why} ->
                                say("~s: its process side is not recorded: ~p", [Nif, Why]),
                                false
                        end
                end, Nifs),
    Run#run{nifs_pending = Pending}.

%% Every complete line recorded up to now (the tracer synced first) goes
%% into the part Name.
cut(Name, Run) ->
    ok = sync(Run),
    write_part(Name, Run).

sync(#run{tracer = true}) -> refctrace_tracer:sync();
sync(#run{tracer = false}) -> ok.

finish(Run = #run{tracer = Tracer, nifs_pending = NeverLoaded}) ->
    [say("~s was never loaded while the run was recorded: no process side recorded", [Nif])
     || Nif <- NeverLoaded],
    Unrelated = case Tracer of
                    true ->
                        %% What the NIF libraries still hold is written now, in
                        %% the last part (at the emulator's exit it would come
                        %% after it).
                        ok = refctrace_tracer:held(),
                        {ok, #{unrelated := U}} = refctrace_tracer:stop(),
                        U;
                    false ->
                        0
                end,
    case write_part("end_of_run", Run) of
        {{ok, _}, #run{part = Parts}} ->
            Run#run.keep orelse file:delete(Run#run.file),
            {ok, io_lib:format("~b parts of run ~s in ~s (~b binaries of processes not related)",
                               [Parts, Run#run.id, Run#run.dir, Unrelated])};
        {{error, _} = Error, _} ->
            Error
    end.

write_part(Name, Run0) ->
    case new_lines(Run0) of
        {ok, Lines, Run} ->
            {FileName, Run1} = file_name(Name, Run),
            Header = part_header(Name, Run1),
            File = filename:join(Run1#run.dir, FileName ++ ".ndjson"),
            case file:write_file(File, [Header, Lines]) of
                ok -> {{ok, File}, Run1#run{part = Run1#run.part + 1}};
                {error, Why} -> {{error, {File, Why}}, Run1}
            end;
        {error, Why} ->
            {{error, Why}, Run0}
    end.

%% The run file's complete lines from the offset on. A reader stops at the
%% first NUL byte (a writer that maps the file may have grown it ahead of its
%% lines) and at the last newline (a line being written is not taken).
new_lines(Run = #run{file = File, offset = Offset}) ->
    case read_from(File, Offset) of
        {ok, Bytes0} ->
            Bytes = case binary:match(Bytes0, <<0>>) of
                        {Nul, _} -> binary:part(Bytes0, 0, Nul);
                        nomatch -> Bytes0
                    end,
            Complete = case last_newline(Bytes) of
                           none -> <<>>;
                           At -> binary:part(Bytes, 0, At + 1)
                       end,
            {Lines, Run1} = take_header(Complete, Run),
            {ok, Lines, Run1#run{offset = Offset + byte_size(Complete)}};
        {error, _} = Error ->
            Error
    end.

read_from(File, Offset) ->
    case file:open(File, [read, raw, binary]) of
        {ok, Fd} ->
            try read_all(Fd, Offset, [])
            after file:close(Fd)
            end;
        {error, enoent} ->
            {ok, <<>>}; % nothing recorded yet (the recorder opens it at its first line)
        {error, Why} ->
            {error, {File, Why}}
    end.

read_all(Fd, Offset, Acc) ->
    case file:pread(Fd, Offset, 1 bsl 20) of
        {ok, Data} -> read_all(Fd, Offset + byte_size(Data), [Acc, Data]);
        eof -> {ok, iolist_to_binary(Acc)};
        {error, _} = Error -> Error
    end.

last_newline(Bytes) ->
    case binary:matches(Bytes, <<"\n">>) of
        [] -> none;
        Matches -> element(1, lists:last(Matches))
    end.

%% The recorder's header line (the run file's first) is not an event: its
%% fields go into every part's header. With REFCTRACE_APPEND the file began
%% with an earlier run, whose first line is still the header.
take_header(Bytes, Run = #run{header = undefined, offset = 0}) ->
    case binary:split(Bytes, <<"\n">>) of
        [<<"{\"refctrace\"", _/binary>> = Line, Rest] ->
            {Rest, Run#run{header = without_brace(Line)}};
        _ ->
            {Bytes, Run}
    end;
take_header(Bytes, Run = #run{header = undefined, file = File}) ->
    case read_from(File, 0) of
        {ok, <<"{\"refctrace\"", _/binary>> = Head} ->
            [Line | _] = binary:split(Head, <<"\n">>),
            {Bytes, Run#run{header = without_brace(Line)}};
        _ ->
            {Bytes, Run}
    end;
take_header(Bytes, Run) ->
    {Bytes, Run}.

without_brace(Line) ->
    Trimmed = string:trim(Line, trailing),
    binary:part(Trimmed, 0, byte_size(Trimmed) - 1).

%% The recorder's header with the part's fields: the run, the part's
%% position in it, the case.
part_header(Name, #run{header = Header, id = Id, part = Part}) ->
    Start = case Header of
                undefined -> <<"{\"refctrace\":1">>;
                _ -> Header
            end,
    [Start, <<",\"run\":">>, json_string(Id), <<",\"part\":">>, integer_to_binary(Part),
     <<",\"case\":">>, json_string(Name), <<"}\n">>].

%% A case that runs twice (a group repeated, the same case in two groups
%% of one name) gets .2, .3, ... after its name.
file_name(Name, Run = #run{names = Names}) ->
    case maps:get(Name, Names, 0) of
        0 -> {Name, Run#run{names = maps:put(Name, 1, Names)}};
        N -> {Name ++ "." ++ integer_to_list(N + 1), Run#run{names = maps:put(Name, N + 1, Names)}}
    end.

json_string(Text) ->
    Escaped = [case C of
                   $" -> "\\\"";
                   $\\ -> "\\\\";
                   _ when C < 32 -> io_lib:format("\\u~4.16.0b", [C]);
                   _ -> C
               end || C <- Text],
    [$", unicode:characters_to_binary(Escaped), $"].

describe({run_file_not_empty, File}) ->
    io_lib:format("REFCTRACE_TRACE=~s is not empty (an earlier run?); remove it, or set "
                  "REFCTRACE_APPEND=1 to add to it", [File]);
describe({parts_already_in, Dir, First}) ->
    io_lib:format("~s already holds parts (~s, an earlier run?); remove them first", [Dir, First]);
describe({nifs_without_tracer, Nifs}) ->
    io_lib:format("{nifs, ~p} needs {driver, Path} or {tracer_library, Path}: the tracer's NIFs "
                  "are in one of them", [Nifs]);
describe({tracer, Why}) ->
    io_lib:format("refctrace_tracer did not start: ~p", [Why]);
describe(Why) ->
    io_lib:format("~p", [Why]).

say(Format, Args) ->
    io:format(user, "refctrace_cth: " ++ Format ++ "~n", Args).
