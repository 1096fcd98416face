%% sample_nif: the Erlang face of sample_nif.c (each function is replaced by
%% the NIF when load/1 has loaded the library).
-module(sample_nif).

-export([load/1, load/2, set_bug/1, make_bin/1, scratch/1, grow/1, grow_owned/0, checksum/1,
         keep_view/1, use_view/0, new_bin/1, t2b/1, ioq/1, iov_sum/1, iov_keep/1, iov_first/0,
         notify/2, send_bin/2, copy_send/2, env_scratch/0,
         copy_to_env/1, res_new/0, res_bin/1, keep_release/1, res_temp/0, watch/1, pipe_open/0,
         pipe_close/1, send_kept/1, remember/0, stash/0, stash_in_cxx/0, stash_in_mapping/0, fork_exit/0, counts/0, crash/0]).

-nifs([set_bug/1, make_bin/1, scratch/1, grow/1, grow_owned/0, checksum/1, keep_view/1,
       use_view/0, new_bin/1, t2b/1, ioq/1, iov_sum/1, iov_keep/1, iov_first/0, notify/2,
       send_bin/2, copy_send/2, env_scratch/0, copy_to_env/1, res_new/0,
       res_bin/1, keep_release/1, res_temp/0, watch/1, pipe_open/0, pipe_close/1, send_kept/1,
       remember/0, stash/0, stash_in_cxx/0, stash_in_mapping/0, fork_exit/0, counts/0, crash/0]).

%% LibDir/sample_nif.so; LoadInfo 1: without the resource kept from load
%% on, 2: keeping nothing (sample_nif.c's Load).
load(LibDir) -> load(LibDir, 0).

load(LibDir, LoadInfo) -> erlang:load_nif(filename:join(LibDir, "sample_nif"), LoadInfo).

set_bug(_) -> erlang:nif_error(not_loaded).
make_bin(_) -> erlang:nif_error(not_loaded).
scratch(_) -> erlang:nif_error(not_loaded).
grow(_) -> erlang:nif_error(not_loaded).
grow_owned() -> erlang:nif_error(not_loaded).
checksum(_) -> erlang:nif_error(not_loaded).
keep_view(_) -> erlang:nif_error(not_loaded).
use_view() -> erlang:nif_error(not_loaded).
new_bin(_) -> erlang:nif_error(not_loaded).
t2b(_) -> erlang:nif_error(not_loaded).
ioq(_) -> erlang:nif_error(not_loaded).
iov_sum(_) -> erlang:nif_error(not_loaded).
iov_keep(_) -> erlang:nif_error(not_loaded).
iov_first() -> erlang:nif_error(not_loaded).
notify(_, _) -> erlang:nif_error(not_loaded).
send_bin(_, _) -> erlang:nif_error(not_loaded).
copy_send(_, _) -> erlang:nif_error(not_loaded).
env_scratch() -> erlang:nif_error(not_loaded).
copy_to_env(_) -> erlang:nif_error(not_loaded).
res_new() -> erlang:nif_error(not_loaded).
res_bin(_) -> erlang:nif_error(not_loaded).
keep_release(_) -> erlang:nif_error(not_loaded).
res_temp() -> erlang:nif_error(not_loaded).
watch(_) -> erlang:nif_error(not_loaded).
pipe_open() -> erlang:nif_error(not_loaded).
pipe_close(_) -> erlang:nif_error(not_loaded).
send_kept(_) -> erlang:nif_error(not_loaded).
remember() -> erlang:nif_error(not_loaded).
stash() -> erlang:nif_error(not_loaded).
stash_in_cxx() -> erlang:nif_error(not_loaded).
stash_in_mapping() -> erlang:nif_error(not_loaded).
fork_exit() -> erlang:nif_error(not_loaded).
counts() -> erlang:nif_error(not_loaded).
crash() -> erlang:nif_error(not_loaded).
