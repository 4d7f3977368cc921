%%% The Lua 5.3 suites (lua/tests): kem.lua's unit tests, and kem-device.lua end to end with
%%% ao.resolve bound to HTTP calls against a real KEM endpoint started here.
-module(kem_lua_tests).
-include_lib("eunit/include/eunit.hrl").

lua_test_() ->
    {setup, fun setup/0, fun(_) -> kem_http:stop() end,
     [fun unit/0, {timeout, 60, fun end_to_end/0}]}.

setup() ->
    kem_test_env:setup(),
    {ok, _} = application:ensure_all_started(inets),
    {ok, Pid} = kem_http:start_link(#{port => 0}),
    unlink(Pid),
    ok.

unit() ->
    ?assertMatch({0, _}, lua(["tests/kem_test.lua"])).

end_to_end() ->
    {Status, Output} = lua(["tests/e2e_test.lua", integer_to_list(kem_http:port())]),
    ?assertEqual({0, <<"kem-device.lua end-to-end: 3 passed, 0 failed\n">>}, {Status, Output}).

lua(Args) ->
    Lua = case os:find_executable("lua5.3") of
              false -> error(lua53_not_installed);
              Path -> Path
          end,
    Port = open_port({spawn_executable, Lua},
                     [{args, Args}, {cd, filename:join(kem_test_env:repo_dir(), "lua")},
                      exit_status, stderr_to_stdout, binary]),
    collect(Port, <<>>).

collect(Port, Acc) ->
    receive
        {Port, {data, Data}} -> collect(Port, <<Acc/binary, Data/binary>>);
        {Port, {exit_status, Status}} ->
            Status =/= 0 andalso ?debugFmt("lua output:~n~s", [Acc]),
            {Status, Acc}
    after 60000 -> error(lua_timeout)
    end.
