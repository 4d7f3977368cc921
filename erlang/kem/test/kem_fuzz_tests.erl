%%% Every exported function of the application called 10,000 times with random terms (mixed
%%% with well-formed values so that deeper paths run too). Each call must return a value
%%% or raise badarg (the raw nif_* functions); the VM must survive and its memory, its process
%%% count and the OS process's resident memory must come back to their baseline.
-module(kem_fuzz_tests).
-include_lib("eunit/include/eunit.hrl").

-define(CALLS, 10000).
%% A test hook that would only make the run slow (each call simulates a device loss), and the
%% trust policy's setter (random lists that happen to be valid would stay in force).
-define(SKIP, [{kem_nif, nif_simulate_device_loss, 1}, {kem_nif, nif_set_trust, 2}]).

fuzz_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     {timeout, 240, fun fuzz/0}}.

fuzz() ->
    rand:seed(exsss, {17, 42, 4711}),
    Functions = [{M, F, A} || M <- [kem, kem_nif, kem_image, dev_kem, kem_json, kem_request,
                                    kem_kernels, kem_hb],
                              {F, A} <- M:module_info(exports),
                              F =/= module_info, not lists:member({M, F, A}, ?SKIP)],
    % Warm up (the executor, pipelines, allocators) before taking the baseline.
    run(Functions, 200),
    Before = baseline(),
    T0 = erlang:monotonic_time(millisecond),
    run(Functions, ?CALLS),
    Elapsed = erlang:monotonic_time(millisecond) - T0,
    After = baseline(),
    ?debugFmt("~b functions x ~b random calls in ~b ms; before ~p, after ~p",
              [length(Functions), ?CALLS, Elapsed, Before, After]),
    #{erlang := E0, processes := P0, rss := R0} = Before,
    #{erlang := E1, processes := P1, rss := R1} = After,
    ?assertEqual(P0, P1),
    ?assert(E1 - E0 < 8 * 1024 * 1024),
    ?assert(R1 - R0 < 64 * 1024 * 1024),
    % Still working.
    ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute({id, kem_test_env:poc_id()}, <<1, 3, 5, 7>>, #{})).

run(Functions, Calls) ->
    lists:foreach(fun({M, F, A}) ->
                      N = case A of 0 -> Calls div 100; _ -> Calls end,
                      lists:foreach(fun(_) -> call(M, F, [term(3) || _ <- lists:seq(1, A)]) end,
                                    lists:seq(1, N)),
                      flush()
                  end, Functions).

call(M, F, Args) ->
    Outcome = try apply(M, F, Args) of
                  Value -> {value, Value}
              catch
                  error:badarg -> badarg;
                  Class:Reason -> {raised, Class, Reason}
              end,
    case allowed(M, F, Outcome) of
        true -> ok;
        false -> error({bad_outcome, M, F, Args, Outcome})
    end.

%% The raw NIF entry points may raise badarg; everything else returns a value.
allowed(_, _, {value, {error, {invalid_json, _}}}) -> true;
allowed(kem_nif, F, badarg) -> lists:prefix("nif_", atom_to_list(F));
allowed(kem_json, encode, badarg) -> true;
allowed(kem_hb, json_encode, badarg) -> true;
allowed(_, _, {value, {ok, _}}) -> true;
allowed(_, _, {value, {error, {Code, Msg}}}) -> is_atom(Code) andalso is_binary(Msg);
allowed(dev_kem, _, {value, {error, #{<<"status">> := S, <<"body">> := B}}}) ->
    is_integer(S) andalso is_binary(B);
allowed(_, _, {value, _}) -> true;
allowed(_, _, _) -> false.

%% Replies of random submits that happened to be well-formed.
flush() ->
    receive _ -> flush()
    after 0 -> ok
    end.

baseline() ->
    flush(),
    timer:sleep(300),
    flush(),
    [garbage_collect(P) || P <- processes()],
    #{erlang => erlang:memory(total), processes => length(processes()), rss => rss()}.

rss() ->
    {ok, Status} = file:read_file("/proc/self/status"),
    [_, Kb | _] = re:split(Status, "VmRSS:\\s+(\\d+)", [{return, list}]),
    list_to_integer(Kb) * 1024.

%%% Random terms

term(0) -> leaf();
term(Depth) ->
    case rand:uniform(10) of
        1 -> [term(Depth - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)];
        2 -> list_to_tuple([term(Depth - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        3 -> maps:from_list([{key(), term(Depth - 1)} || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        4 -> [term(Depth - 1) | term(Depth - 1)];
        5 -> {oneof([id, source, file]), term(Depth - 1)};
        _ -> leaf()
    end.

key() ->
    oneof([output_size_hint, output_size, params, workgroups, entry, timeout, width, height,
           output_format, <<"body">>, <<"kernel_id">>, <<"input_data">>, <<"input_base64">>,
           <<"params">>, <<"output_size_hint">>, <<"kernel-id">>, leaf()]).

leaf() ->
    case rand:uniform(16) of
        1 -> rand:uniform(1 bsl 70) - (1 bsl 69);
        2 -> rand:uniform(10) - 2;
        3 -> rand:uniform() * 1.0e6;
        4 -> rand:bytes(rand:uniform(40) - 1);
        5 -> <<(rand:uniform(255)):(rand:uniform(7))>>;
        6 -> oneof([true, false, null, undefined, ok, error, png, raw, main, []]);
        7 -> make_ref();
        8 -> self();
        9 -> fun() -> ok end;
        10 -> kem_test_env:poc_id();
        11 -> kem_test_env:kernel("double-integer.wgsl");
        12 -> <<1, 3, 5, 7>>;
        13 -> oneof([<<"{\"kernel_id\":\"btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg\",\"input_data\":[1,2,3,4]}">>,
                     <<"{\"kernel_id\":1}">>, <<"[1,2">>, <<"\"\\ud800\"">>]);
        14 -> #{};
        15 -> "a string";
        16 -> binary:copy(<<255>>, rand:uniform(3000))
    end.

oneof(List) -> lists:nth(rand:uniform(length(List)), List).
