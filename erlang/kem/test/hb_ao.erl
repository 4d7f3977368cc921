%%% @doc Test-only stand-in for HyperBEAM's hb_ao, compiled only into the test profile (a
%%% HyperBEAM node has the real one). Same signature as hb_ao:get/4 for plain messages: keys
%%% are binaries (atoms accepted), case-insensitive.
-module(hb_ao).
-export([get/4]).

get(Key, Msg, Default, _Opts) when is_map(Msg) ->
    BinKey = case Key of
                 K when is_atom(K) -> atom_to_binary(K, utf8);
                 K -> K
             end,
    case kem_hb:plain_get(BinKey, Msg) of
        not_found -> Default;
        Value -> Value
    end;
get(_Key, _Msg, Default, _Opts) ->
    Default.
