#!/usr/bin/env escript
%% bench-otp.escript PROBE STAMP...: OTP's own supervisor bringing OS
%% processes back, for scripts/bench. One permanent child per STAMP file: a
%% process that owns a port running `PROBE stamp STAMP` and exits when the
%% port's program does, as an Erlang application supervising an external
%% program would be written. The supervisor restarts it, which opens a new
%% port (fork+exec through erl_child_setup).
-module(bench_otp).
-behaviour(supervisor).
-mode(compile).
-export([main/1, init/1, start_port/2]).

main([Probe | Stamps]) ->
    {ok, _} = supervisor:start_link({local, bench_otp}, ?MODULE, {Probe, Stamps}),
    receive never -> ok end.

init({Probe, Stamps}) ->
    Flags = #{strategy => one_for_one, intensity => 1000000, period => 1},
    Kids = [#{id => S, start => {?MODULE, start_port, [Probe, S]}} || S <- Stamps],
    {ok, {Flags, Kids}}.

start_port(Probe, Stamp) ->
    Pid = proc_lib:spawn_link(fun() ->
        Port = open_port({spawn_executable, Probe}, [{args, ["stamp", Stamp]}, exit_status]),
        receive {Port, {exit_status, S}} -> exit({port_exit, S}) end
    end),
    {ok, Pid}.
