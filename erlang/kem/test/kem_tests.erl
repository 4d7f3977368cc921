%%% Tests of the kem API against the real NIF and executor (lavapipe here).
-module(kem_tests).
-include_lib("eunit/include/eunit.hrl").

-define(ADD_CONSTANT, <<"
@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@group(0) @binding(2) var<uniform> params: vec4<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&input)) { output[id.x] = input[id.x] + params.x; }
}
@compute @workgroup_size(64)
fn twice(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x < arrayLength(&input)) { output[id.x] = input[id.x] + 2u * params.x; }
}
">>).

%% Three lines before the error, which is on line 4 (a missing operand).
-define(BROKEN, <<"@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<u32>;
@compute @workgroup_size(1) fn main() {
  output[0] = input[0] + ;
}
">>).


kem_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     [fun double_small/0, fun double_random/0, fun double_hint/0, fun file_ref/0,
      fun id_ref/0, fun params_entry_workgroups/0, fun histogram/0, fun check/0,
      fun compile_error/0, fun argument_errors/0, fun limits/0, fun unknown_id/0,
      fun loop_budget/0, {timeout, 60, fun timeout_and_recovery/0}, {timeout, 60, fun late_reply_dropped/0},
      {timeout, 60, fun device_loss_recovery/0}, {timeout, 30, fun gateway_down/0},
      {timeout, 60, fun admission_refusal/0},
      % Last: a crashed worker takes its counters since the last kem:stats() with it.
      {timeout, 60, fun driver_crash_is_contained/0}]}.

double() -> {source, kem_test_env:kernel("double-integer.wgsl")}.

double_small() ->
    ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute(double(), <<1, 3, 5, 7>>, #{})).

double_random() ->
    Input = crypto:strong_rand_bytes(4096),
    ?assertEqual({ok, kem_ref:double(Input, 1)}, kem:execute(double(), Input, #{})),
    % A length that is not a whole number of words: zero-padded in, cut to length out.
    Odd = crypto:strong_rand_bytes(13),
    ?assertEqual({ok, kem_ref:double(Odd, 1)}, kem:execute(double(), Odd)).

double_hint() ->
    Input = crypto:strong_rand_bytes(64),
    ?assertEqual({ok, kem_ref:double(Input, 3)},
                 kem:execute(double(), Input, #{output_size_hint => 3})),
    ?assertEqual({ok, binary:part(kem_ref:double(Input, 1), 0, 10)},
                 kem:execute(double(), Input, [{output_size, 10}])).

file_ref() ->
    Path = kem_test_env:kernel_path("double-integer.wgsl"),
    ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute({file, Path}, <<1, 3, 5, 7>>, #{})),
    ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute({file, list_to_binary(Path)}, <<1, 3, 5, 7>>, #{})),
    ?assertMatch({error, {not_found, _}}, kem:execute({file, "/nonexistent/k.wgsl"}, <<1>>, #{})).

id_ref() ->
    ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute({id, kem_test_env:poc_id()}, <<1, 3, 5, 7>>, #{})),
    ?assertEqual({ok, <<2, 6, 10, 14>>},
                 kem:execute({id, binary_to_list(kem_test_env:poc_id())}, <<1, 3, 5, 7>>, #{})).

params_entry_workgroups() ->
    Input = crypto:strong_rand_bytes(256),
    ?assertEqual({ok, kem_ref:add(Input, 1000)},
                 kem:execute({source, ?ADD_CONSTANT}, Input, #{params => [1000]})),
    % Without workgroups, params[0] x params[1] is the dispatch grid (the image case), so a
    % huge params[0] needs explicit workgroups: 64 words are one workgroup of 64.
    ?assertEqual({ok, kem_ref:add(Input, 16#FFFFFFFF)},
                 kem:execute({source, ?ADD_CONSTANT}, Input,
                             #{params => <<-1:32/little>>, workgroups => {1, 1, 1}})),
    ?assertEqual({ok, kem_ref:add(Input, 14)},
                 kem:execute({source, ?ADD_CONSTANT}, Input, #{params => [7], entry => twice})),
    % Half the words when only one workgroup of 64 runs over 128 words.
    Input128 = crypto:strong_rand_bytes(512),
    <<Half:256/binary, _/binary>> = kem_ref:add(Input128, 5),
    ?assertEqual({ok, <<Half/binary, 0:(256 * 8)>>},
                 kem:execute({source, ?ADD_CONSTANT}, Input128, #{params => [5], workgroups => [1, 1, 1]})).

histogram() ->
    Input = crypto:strong_rand_bytes(999),
    Src = {source, kem_test_env:kernel("byte-histogram.wgsl")},
    ?assertEqual({ok, kem_ref:histogram(Input)},
                 kem:execute(Src, Input, #{params => [byte_size(Input)], output_size => 1024})).

check() ->
    {ok, R} = kem:check({source, ?ADD_CONSTANT}),
    ?assertEqual([{0, 0, <<"input">>, storage, read, <<"array<u32>">>, 2},
                  {0, 1, <<"output">>, storage, read_write, <<"array<u32>">>, 3},
                  {0, 2, <<"params">>, uniform, read, <<"vec4<u32>">>, 4}],
                 [{G, B, N, S, A, T, L} || #{group := G, binding := B, name := N, address_space := S,
                                            access := A, type := T, line := L} <- maps:get(bindings, R)]),
    ?assertEqual([{<<"main">>, {64, 1, 1}, 6}, {<<"twice">>, {64, 1, 1}, 10}],
                 [{N, W, L} || #{name := N, workgroup_size := W, line := L} <- maps:get(entry_points, R)]),
    ?assertMatch({ok, #{entry_points := [_, _]}}, kem:check({source, ?ADD_CONSTANT}, #{entry => twice})),
    ?assertMatch({error, {compile_error, _}}, kem:check({source, ?ADD_CONSTANT}, #{entry => nope})).

compile_error() ->
    {error, {compile_error, Message}} = kem:check({source, ?BROKEN}),
    ?assertMatch(<<"4:", _/binary>>, Message),
    {error, {compile_error, Message2}} = kem:execute({source, ?BROKEN}, <<1, 2, 3, 4>>, #{}),
    ?assertMatch(<<"4:", _/binary>>, Message2).

argument_errors() ->
    D = double(),
    Invalid = [kem:execute(D, not_a_binary, #{}),
               kem:execute(D, <<1>>, not_opts),
               kem:execute(D, <<1>>, #{bogus => 1}),
               kem:execute(D, <<1>>, #{timeout => 0}),
               kem:execute(D, <<1>>, #{timeout => infinity}),
               kem:execute(D, <<1>>, #{output_size_hint => -1}),
               kem:execute(D, <<1>>, #{output_size_hint => 1 bsl 64}),
               kem:execute(D, <<1>>, #{params => <<1, 2, 3>>}),
               kem:execute(D, <<1>>, #{params => [1 bsl 32]}),
               kem:execute(D, <<1>>, #{params => [a]}),
               kem:execute(D, <<1>>, #{workgroups => {1, 2}}),
               kem:execute(D, <<1>>, #{entry => <<>>}),
               kem:execute(D, <<1>>, #{loop_budget => -1}),
               kem:execute({source, <<>>}, <<1>>, #{}),
               kem:execute({source, [16#110000]}, <<1>>, #{}),
               kem:execute({bogus, 1}, <<1>>, #{}),
               kem:execute("not a ref", <<1>>, #{}),
               kem:execute({id, <<"short">>}, <<1>>, #{}),
               kem:execute({id, 42}, <<1>>, #{}),
               kem:execute({file, 42}, <<1>>, #{}),
               % params given to a kernel that declares no binding 2
               kem:execute(D, <<1, 2, 3, 4>>, #{params => [1]}),
               kem:execute(D, <<1, 2, 3, 4>>, #{output_size_hint => 0}),
               kem:execute(D, <<>>, #{}),
               kem:execute(D, <<1, 2, 3, 4>>, #{workgroups => {0, 1, 1}}),
               kem:check(42),
               kem:check(D, #{entry => 42}),
               kem:check(D, nope)],
    lists:foreach(fun(R) -> ?assertMatch({error, {invalid_argument, Msg}} when is_binary(Msg), R) end,
                  Invalid).

limits() ->
    ?assertMatch({error, {limit_exceeded, _}},
                 kem:execute(double(), <<1, 2, 3, 4>>, #{output_size => 1 bsl 40})),
    ?assertMatch({error, {limit_exceeded, _}},
                 kem:execute(double(), <<1, 2, 3, 4>>, #{output_size_hint => 1 bsl 62})),
    Big = binary:copy(<<"// padding\n">>, 100000),
    ?assertMatch({error, {limit_exceeded, _}}, kem:execute({source, Big}, <<1>>, #{})).

unknown_id() ->
    ?assertMatch({error, {not_found, _}},
                 kem:execute({id, <<"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA">>}, <<1, 2, 3, 4>>, #{})).

spin_input() -> binary:copy(<<1, 2, 3, 4>>, 128).

%% Loop metering: a kernel that loops past the call's budget fails instead of running on.
loop_budget() ->
    ?assertMatch({error, {budget_exceeded, _}},
                 kem:execute({source, kem_test_env:spin_source()}, <<1, 2, 3, 4>>, #{loop_budget => 1000})),
    ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute(double(), <<1, 3, 5, 7>>, #{loop_budget => 0})).

timeout_and_recovery() ->
    T0 = erlang:monotonic_time(millisecond),
    ?assertMatch({error, {timeout, _}}, kem:execute({source, kem_test_env:spin_source()}, spin_input(), #{timeout => 300})),
    Elapsed = erlang:monotonic_time(millisecond) - T0,
    ?assert(Elapsed < 5000),
    % The executor recovers the GPU by itself; the next call works.
    ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute(double(), <<1, 3, 5, 7>>, #{})).

%% (The spin kernel stays under the default loop budget (2^24 iterations per invocation); with
%% 128 invocations it lasts about 1 s on lavapipe, which cannot stop a running kernel: keep it
%% short so a timed-out call does not burn the CPU for long.)
%% With a negative reply margin the caller gives up before the executor's deadline; the
%% executor's own timeout reply must never reach the caller's mailbox afterwards.
late_reply_dropped() ->
    {ok, Margin} = {ok, kem_config:value(reply_margin)},
    application:set_env(kem, reply_margin, -200),
    try
        ?assertMatch({error, {timeout, _}}, kem:execute({source, kem_test_env:spin_source()}, spin_input(), #{timeout => 400})),
        timer:sleep(1500),
        ?assertEqual([], [M || {messages, Ms} <- [process_info(self(), messages)], M <- Ms])
    after
        application:set_env(kem, reply_margin, Margin)
    end,
    ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute(double(), <<1, 3, 5, 7>>, #{})).

device_loss_recovery() ->
    #{device_losses := Before} = kem:stats(),
    ok = kem_nif:nif_simulate_device_loss(0),
    Input = crypto:strong_rand_bytes(64),
    Result = kem:execute(double(), Input, #{}),
    % The call right after a loss may report it; the one after must succeed.
    case Result of
        {ok, _} -> ?assertEqual({ok, kem_ref:double(Input, 1)}, Result);
        _ -> ?assertMatch({error, {device_lost, _}}, Result)
    end,
    ?assertEqual({ok, kem_ref:double(Input, 1)}, kem:execute(double(), Input, #{})),
    #{device_losses := After} = kem:stats(),
    ?assert(After > Before).

gateway_down() ->
    kem_test_env:stop_gateway(),
    try
        ?assertMatch({error, {unavailable, _}},
                     kem:execute({id, <<"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA">>}, <<1, 2, 3, 4>>, #{})),
        % Pinned kernels are still served.
        ?assertEqual({ok, <<2, 6, 10, 14>>}, kem:execute({id, kem_test_env:poc_id()}, <<1, 3, 5, 7>>, #{}))
    after
        kem_test_env:restart_gateway()
    end,
    % Back up (after the short back-off the tests configure): a plain "not found" again.
    timer:sleep(300),
    ?assertMatch({error, {not_found, _}},
                 kem:execute({id, <<"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA">>}, <<1, 2, 3, 4>>, #{})).

%% Admission control: once a kernel's calls have been measured, a call whose whole timeout is
%% shorter than they take is refused before it runs (a timeout, at once), and the refusal is
%% counted, in all and on its device (kem_gpu_refused_total). Its own source, so that no other
%% test's spin calls are measured by it.
admission_refusal() ->
    Source = <<(kem_test_env:spin_source())/binary, "// measured by kem_tests:admission_refusal\n">>,
    #{refused := Before, devices := Devices0} = kem:stats(),
    {ok, _} = kem:execute({source, Source}, spin_input(), #{timeout => 20000}),
    T0 = erlang:monotonic_time(millisecond),
    ?assertMatch({error, {timeout, <<"refused before it ran: ", _/binary>>}},
                 kem:execute({source, Source}, spin_input(), #{timeout => 100})),
    ?assert(erlang:monotonic_time(millisecond) - T0 < 100),
    #{refused := After, devices := Devices} = kem:stats(),
    ?assertEqual(Before + 1, After),
    PerDevice = fun(Ds) -> lists:sum([maps:get(refused, D) || D <- Ds]) end,
    ?assertEqual(PerDevice(Devices0) + 1, PerDevice(Devices)),
    {match, Series} = re:run(iolist_to_binary(kem_metrics:render()),
                             <<"^kem_gpu_refused_total\\{device=\"[0-9]+\"\\} ([0-9]+)$">>,
                             [global, multiline, {capture, all_but_first, binary}]),
    ?assertEqual(length(Devices), length(Series)),
    ?assertEqual(PerDevice(Devices), lists:sum([binary_to_integer(N) || [N] <- Series])).

%% lavapipe's shader compiler divides INT_MIN by -1 on this kernel (issue 16): SIGFPE in the
%% process that compiles it. By default that is the kernel's sandboxed first compile, so it never
%% reaches the GPU worker; either way the BEAM lives on, the error names the signal, the kernel
%% is refused from then on, and this very node answers the next call exactly. (Without the
%% sandbox the worker dies instead: tests/worker/ and the HyperBEAM suite.)
driver_crash_is_contained() ->
    Crash = <<"@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
              "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
              "@compute @workgroup_size(1) fn main() {\n"
              "  for (var k = 0; k >= -2147483647 - 1; k--) { output[0] = 1u; }\n}\n">>,
    #{worker := #{crashes := Crashes, pid := Pid}, admission := #{refused := Refused}} = kem:stats(),
    {error, {compile_error, Message}} = kem:execute({source, Crash}, <<0, 0, 0, 0>>, #{}),
    nomatch =/= binary:match(Message, <<"SIGFPE">>) orelse ?assertEqual(<<"a message naming SIGFPE">>, Message),
    ?assertNotEqual(nomatch, binary:match(Message, <<"sandbox">>)),
    % Again: refused at once from the remembered verdict.
    T0 = erlang:monotonic_time(millisecond),
    ?assertEqual({error, {compile_error, Message}}, kem:execute({source, Crash}, <<0, 0, 0, 0>>, #{})),
    ?assert(erlang:monotonic_time(millisecond) - T0 < 100),
    Input = crypto:strong_rand_bytes(4096),
    ?assertEqual({ok, kem_ref:double(Input, 1)}, kem:execute(double(), Input, #{})),
    % The GPU worker never saw it.
    ?assertMatch(#{worker := #{crashes := Crashes, pid := Pid}}, kem:stats()),
    {match, [N]} = re:run(iolist_to_binary(kem_metrics:render()), <<"^kem_worker_crashes_total ([0-9]+)$">>,
                          [multiline, {capture, all_but_first, binary}]),
    ?assertEqual(Crashes, binary_to_integer(N)),
    % One refusal, counted once (the second answer came from the remembered verdict).
    #{admission := #{refused := RefusedAfter}} = kem:stats(),
    ?assertEqual(Refused + 1, RefusedAfter),
    {match, [R]} = re:run(iolist_to_binary(kem_metrics:render()), <<"^kem_sandbox_refused_total ([0-9]+)$">>,
                          [multiline, {capture, all_but_first, binary}]),
    ?assertEqual(RefusedAfter, binary_to_integer(R)).
