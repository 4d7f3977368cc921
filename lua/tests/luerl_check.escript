#!/usr/bin/env escript
%% -*- erlang -*-
%% Runs KEM's Lua under luerl (HyperBEAM's Lua VM, 1.3.0) the way dev_lua loads a process:
%% the bundled script (output of lua/bundle.sh) as one text through luerl:do_dec/3, then
%% lua/tests/kem_test.lua and lua/tests/bundle_test.lua as text (no require, no package.path,
%% no print: harness.lua is put in package.loaded and done() returns the summary because the
%% global HARNESS_RETURN is set). Last, compute is called from Erlang with
%% luerl:call_function_dec/3, as dev_lua calls it, with ao.resolve an Erlang fun that doubles.
%% Exits 1 on any failure.
%%   escript lua/tests/luerl_check.escript LUERL_EBIN_DIR
main([Ebin]) ->
    case code:add_patha(Ebin) of
        true -> ok;
        _ -> fail("cannot add luerl ebin dir ~s", [Ebin])
    end,
    case code:ensure_loaded(luerl) of
        {module, luerl} -> ok;
        _ -> fail("no luerl in ~s", [Ebin])
    end,
    io:format("luerl ~s from ~s~n", [luerl_vsn(Ebin), Ebin]),
    LuaDir = filename:dirname(filename:dirname(filename:absname(escript:script_name()))),
    Bundle = bundle(LuaDir),
    Harness = read(filename:join([LuaDir, "tests", "harness.lua"])),
    Results = [suite(Bundle, Harness, filename:join([LuaDir, "tests", T]))
               || T <- ["kem_test.lua", "bundle_test.lua"]]
        ++ [compute_from_erlang(Bundle)],
    case lists:all(fun(R) -> R =:= ok end, Results) of
        true -> io:format("luerl check: all passed~n"), halt(0);
        false -> io:format("luerl check: FAILED~n"), halt(1)
    end;
main(_) ->
    io:format(standard_error, "usage: luerl_check.escript LUERL_EBIN_DIR~n", []),
    halt(2).

luerl_vsn(Ebin) ->
    case file:consult(filename:join(Ebin, "luerl.app")) of
        {ok, [{application, luerl, Props}]} -> proplists:get_value(vsn, Props, "?");
        _ -> "?"
    end.

fail(Fmt, Args) ->
    io:format(standard_error, "luerl check: " ++ Fmt ++ "~n", Args),
    halt(1).

read(Path) ->
    case file:read_file(Path) of
        {ok, Bin} -> Bin;
        {error, E} -> fail("cannot read ~s: ~p", [Path, E])
    end.

%% The output of sh lua/bundle.sh (its exit status checked).
bundle(LuaDir) ->
    Port = open_port({spawn_executable, "/bin/sh"},
                     [{args, [filename:join(LuaDir, "bundle.sh")]}, exit_status, binary, stream]),
    collect(Port, []).

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, [D | Acc]);
        {Port, {exit_status, 0}} -> iolist_to_binary(lists:reverse(Acc));
        {Port, {exit_status, N}} -> fail("sh bundle.sh exited ~p", [N])
    end.

%% A fresh state with harness.lua in package.loaded and the bundle loaded as dev_lua loads a
%% module (luerl:do_dec/3 with a name).
new_state(Bundle, Harness) ->
    St0 = luerl:init(),
    {ok, St1} = luerl:set_table_keys_dec([<<"HARNESS_RETURN">>], true, St0),
    Wrapped = <<"package.loaded[\"harness\"] = (function()\n", Harness/binary, "\nend)()\n">>,
    St2 = run_chunk(Wrapped, "harness.lua", St1),
    run_chunk(Bundle, "kem-process", St2).

run_chunk(Text, Name, St) ->
    case catch luerl:do_dec(Text, [{name, Name}], St) of
        {ok, _, St1} -> St1;
        Other -> fail("~s did not load: ~s", [Name, show_error(Other)])
    end.

%% A short text for a luerl error: a Lua error value, or luerl's own error term (such as
%% {badarg, gmatch, Args}), or an Erlang exception that escaped the VM.
show_error({lua_error, E, St}) ->
    Text = case catch luerl:decode(E, St) of
               B when is_binary(B) -> B;
               _ -> io_lib:format("~P", [E, 12])
           end,
    shorten(Text);
show_error(Other) ->
    shorten(io_lib:format("~P", [Other, 12])).

shorten(Text) ->
    Flat = unicode:characters_to_list(iolist_to_binary(Text)),
    case length(Flat) > 600 of
        true -> string:slice(Flat, 0, 600) ++ "...";
        false -> Flat
    end.

suite(Bundle, Harness, Path) ->
    St = new_state(Bundle, Harness),
    case catch luerl:do_dec(read(Path), [{name, filename:basename(Path)}], St) of
        {ok, [Summary, Failed, Failures | _], _} ->
            io:format("luerl: ~s~n", [Summary]),
            case Failed of
                0 -> ok;
                _ -> io:format("~s~n", [Failures]), failed
            end;
        Other ->
            io:format("luerl: ~s raised ~s~n", [Path, show_error(Other)]),
            failed
    end.

%% compute(base, req, opts) called from Erlang with decoded arguments, as dev_lua:compute/4
%% does, with ao.resolve an Erlang fun: it reads input_data from the JSON body and doubles each
%% little-endian u32 with Erlang's binary syntax (the reference here).
compute_from_erlang(Bundle) ->
    St0 = new_state(Bundle, <<"return {}">>),
    Resolve = fun(Args, St) ->
                  [Msg | _] = [luerl:decode(A, St) || A <- Args],
                  Body = proplists:get_value(<<"body">>, Msg),
                  {match, [List]} = re:run(Body, "\"input_data\":\\[([0-9,]*)\\]",
                                           [{capture, all_but_first, binary}]),
                  In = << <<(binary_to_integer(B))>> || B <- binary:split(List, <<",">>, [global]),
                                                       B =/= <<>> >>,
                  Out = << <<((2 * X) band 16#FFFFFFFF):32/little>> || <<X:32/little>> <= In >>,
                  luerl:encode_list([<<"ok">>, [{<<"status">>, 200}, {<<"body">>, Out}]], St)
              end,
    {ok, St1} = luerl:set_table_keys_dec([<<"ao">>], [], St0),
    {ok, St2} = luerl:set_table_keys_dec([<<"ao">>, <<"resolve">>], Resolve, St1),
    Values = [0, 1, 255, 256, 16#7FFFFFFF, 16#80000000, 16#FFFFFFFF]
        ++ [(I * 2654435761) band 16#FFFFFFFF || I <- lists:seq(1, 2493)],
    Join = fun(Vs) -> iolist_to_binary(lists:join(",", [integer_to_binary(V) || V <- Vs])) end,
    Expected = Join([(2 * V) band 16#FFFFFFFF || V <- Values]),
    Req = [{<<"values">>, Join(Values)}],
    case catch luerl:call_function_dec([<<"compute">>], [[], Req, []], St2) of
        {ok, [Base | _], _} ->
            Output = proplists:get_value(<<"output">>, proplists:get_value(<<"results">>, Base, []), []),
            case proplists:get_value(<<"data">>, Output) of
                Expected ->
                    io:format("luerl: compute from Erlang (2,500 values, dev_lua's calling "
                              "convention): passed~n"),
                    ok;
                Got ->
                    io:format("luerl: compute from Erlang: expected ~P, got ~P (output ~P)~n",
                              [Expected, 8, Got, 8, Output, 8]),
                    failed
            end;
        Other ->
            io:format("luerl: compute from Erlang raised ~s~n", [show_error(Other)]),
            failed
    end.
