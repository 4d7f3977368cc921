%%% Override constants through kem:execute/3 (issue 19 part 5), against the real NIF and
%%% executor: an override without default, defaults replaced (by name and by @id, one of them
%%% the workgroup size), and the errors of the option's form and of its values.
-module(kem_overrides_tests).
-include_lib("eunit/include/eunit.hrl").

%% Modeled on Tint's override tests: `scale` has no default, so the call needs a value; `block`
%% (@id(5)) sizes the workgroup, so the dispatch KEM derives must follow the request's value.
-define(KERNEL, <<"
override scale: u32;
@id(5) override block: u32 = 64u;
override flip = false;
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(block)
fn main(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let i = g.x * block + l.x;
  if (i < arrayLength(&dst)) { dst[i] = select(src[i] * scale, ~(src[i] * scale), flip); }
}
">>).

overrides_test_() ->
    {setup, fun kem_test_env:setup/0, fun(_) -> ok end,
     [fun scaled/0, fun defaults_replaced/0, fun option_form_errors/0, fun value_errors/0,
      fun http_overrides/0]}.

words(L) -> << <<W:32/little>> || W <- L >>.

%% The CPU reference: each word times Scale, as u32, complemented when Flip.
reference(Words, Scale, Flip) ->
    words([case Flip of
               true -> bnot (W * Scale) band 16#FFFFFFFF;
               false -> (W * Scale) band 16#FFFFFFFF
           end || W <- Words]).

input() -> lists:seq(1, 300) ++ [16#FFFFFFFF].

scaled() ->
    In = input(),
    ?assertEqual({ok, reference(In, 3, false)},
                 kem:execute({source, ?KERNEL}, words(In), #{overrides => #{scale => 3}})),
    ?assertEqual({ok, reference(In, 7, false)},
                 kem:execute({source, ?KERNEL}, words(In), #{overrides => #{<<"scale">> => 7.0}})),
    % The same source with another value is another pipeline, not the cached one.
    ?assertEqual({ok, reference(In, 3, false)},
                 kem:execute({source, ?KERNEL}, words(In), #{overrides => #{"scale" => 3}})).

defaults_replaced() ->
    In = input(),
    % block by its @id: with 4 instead of 64 a dispatch computed from the default would cover
    % 1/16 of the words.
    ?assertEqual({ok, reference(In, 2, true)},
                 kem:execute({source, ?KERNEL}, words(In),
                             #{overrides => #{scale => 2, 5 => 4, flip => true}})),
    ?assertEqual({ok, reference(In, 2, false)},
                 kem:execute({source, ?KERNEL}, words(In),
                             [{overrides, #{scale => 2, block => 8, flip => false}}])).

option_form_errors() ->
    K = {source, ?KERNEL},
    [?assertMatch({error, {invalid_argument, _}}, kem:execute(K, <<1, 0, 0, 0>>, #{overrides => V}))
     || V <- [[{scale, 1}], #{scale => <<"1">>}, #{scale => one}, #{{x} => 1}, #{<<>> => 1},
              #{-1 => 1}, not_a_map]].

value_errors() ->
    K = {source, ?KERNEL},
    In = <<1, 0, 0, 0>>,
    Message = fun(Opts) ->
                  {error, {invalid_argument, M}} = kem:execute(K, In, Opts),
                  unicode:characters_to_list(M)
              end,
    Has = fun(Part, Text) -> ?assertNotEqual(nomatch, string:find(Text, Part), Text) end,
    Has("override 'scale' has no default", Message(#{})),
    Has("override 'nope' is not declared", Message(#{overrides => #{scale => 1, nope => 1}})),
    Has("override 'scale': the value -1 is outside the range of u32", Message(#{overrides => #{scale => -1}})),
    Has("override 'scale': the value 2.5 is not an integer", Message(#{overrides => #{scale => 2.5}})),
    Has("override 'block' is given twice", Message(#{overrides => #{scale => 1, block => 2, 5 => 2}})).

%% The HTTP / dev_kem field: a JSON object name (or @id) => number, also as JSON text from a
%% plain key; a malformed one is bad_request, a value the kernel refuses invalid_argument.
http_overrides() ->
    Id = kem_test_env:pin_source(?KERNEL),
    In = input(),
    Body = fun(Overrides) ->
               kem_json:encode(#{<<"kernel_id">> => Id, <<"input_base64">> => base64:encode(words(In)),
                                 <<"overrides">> => Overrides})
           end,
    Call = fun(Overrides) -> dev_kem:execute_kernel(#{}, #{<<"body">> => Body(Overrides)}, #{}) end,
    ?assertMatch({ok, #{<<"status">> := 200, <<"body">> := <<_/binary>>}}, Call(#{<<"scale">> => 3})),
    {ok, #{<<"body">> := Out}} = Call(#{<<"scale">> => 3, <<"5">> => 4, <<"flip">> => true}),
    ?assertEqual(reference(In, 3, true), Out),
    Plain = #{<<"kernel-id">> => Id, <<"input-base64">> => base64:encode(words(In)),
              <<"overrides">> => <<"{\"scale\": 5}">>},
    {ok, #{<<"body">> := PlainOut}} = dev_kem:execute_kernel(#{}, Plain, #{}),
    ?assertEqual(reference(In, 5, false), PlainOut),
    Status = fun({error, #{<<"status">> := S, <<"body">> := B}}) ->
                     {ok, #{<<"error">> := Code}} = kem_json:decode(B),
                     {S, Code}
             end,
    ?assertEqual({400, <<"bad_request">>}, Status(Call([1, 2]))),
    ?assertEqual({400, <<"bad_request">>}, Status(Call(#{<<"scale">> => <<"3">>}))),
    ?assertEqual({400, <<"invalid_argument">>}, Status(Call(#{}))),
    ?assertEqual({400, <<"invalid_argument">>}, Status(Call(#{<<"scale">> => 1, <<"nope">> => 1}))).
