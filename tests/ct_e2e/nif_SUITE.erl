%% nif_SUITE: a Common Test suite that calls the sample NIF library
%% (tests/nif_e2e) with no refctrace call in it: the hook refctrace_cth,
%% without a driver, runs the tracer from refctrace_tracer_nif.so built
%% alone, attaches the library once init_per_suite has loaded it (option
%% nifs), and cuts the run into one part per case (tests/ct_e2e/run_ct.cmake).
%% SAMPLE_NIF_DIR names the folder of sample_nif.so; sample_nif.erl is
%% compiled beside this suite.
%%
%% clean: binaries made, inspected and grown, each released by the NIF or
%% handed to the caller. leak: the seeded bin-leak (make_bin returns without
%% releasing its binary), the one finding the whole run must have.
-module(nif_SUITE).

-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([clean/1, leak/1]).

all() -> [clean, leak].

%% A NIF library belongs to its module, not to a process: loaded once.
init_per_suite(Config) ->
    ok = sample_nif:load(os:getenv("SAMPLE_NIF_DIR")),
    Config.

end_per_suite(_Config) -> ok.

clean(_Config) ->
    ok = sample_nif:set_bug(none),
    200 = byte_size(sample_nif:make_bin(200)),
    %% Not 200 bytes: the tracer relates a process's wrappers to the NIF's
    %% binaries by size, and a look that comes after this copy would find two
    %% unrelated 200-byte wrappers (how soon it looks is the scheduler's).
    Big = binary:copy(<<"m">>, 300),
    600 = byte_size(sample_nif:grow(Big)),
    Sum = 300 * $m + 3 * $a,
    Sum = sample_nif:checksum([Big, <<"aaa">>]),
    ok.

leak(_Config) ->
    ok = sample_nif:set_bug('bin-leak'),
    ok = sample_nif:make_bin(200),
    ok = sample_nif:set_bug(none).
